"""The run card as data: every section a careful researcher would write, findings first.

`build_card` returns a JSON-ready dict (what `runcard card --json` prints); the Markdown and HTML
renderers only lay it out. Every number carries its provenance: the run, the split, the sha256 of
the predictions it was computed from, the checkpoint they were made with, and the metric settings.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from runcard._version import __version__
from runcard.decision import decision_rules
from runcard.evaluate import evaluate_table
from runcard.findings import run_findings
from runcard.findings.comparison import flatten_config
from runcard.findings.training import loss_term_shares
from runcard.generation.files import generation_splits
from runcard.posthoc import calibrate_tables
from runcard.report.run_generations import card_generations
from runcard.report.soft import soft_section
from runcard.report.tasks import cross_task, target_rows
from runcard.report.views import LoadedRun, load_run
from runcard.store import Run, Store
from runcard.store.predictions import split_of, task_of
from runcard.store.sql import safe_url

#: Curves are thinned to at most this many points per series (the first and last always kept).
CURVE_POINTS = 400
#: Config or summary keys (their last part, after "." or "/") that hold the model's parameter count.
PARAMETER_KEYS = ("n_parameters", "num_parameters", "parameters", "params", "n_params", "num_params",
                  "parameter_count")


def thin(points: list[tuple[int, float]], limit: int = CURVE_POINTS) -> list[list[float]]:
    """At most ``limit`` evenly spaced points of a series, endpoints kept."""
    if len(points) <= limit:
        return [[s, v] for s, v in points]
    index = np.unique(np.linspace(0, len(points) - 1, limit).round().astype(int))
    return [[points[i][0], points[i][1]] for i in index]


def parameter_count(run: Run) -> int | None:
    """The model's parameter count, if the run logged one (config or summary)."""
    for source in (flatten_config(run.config), run.summary):
        for key, value in source.items():
            leaf = key.replace("/", ".").split(".")[-1]
            if leaf in PARAMETER_KEYS and isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
                return int(value)
    return None


def build_card(store: Store, run: Run, *, targets: dict[str, dict[str, Any]] | None = None, seed: int = 0,
               bins: int = 15) -> dict[str, Any]:
    """Everything on the card of ``run`` (which must be a stored run)."""
    loaded = load_run(store, run, seed=seed, bins=bins)
    if targets is None and isinstance(run.config.get("targets"), dict) and run.config["targets"]:
        targets = run.config["targets"]
    tasks = _task_keys(loaded)
    by_task = {task: _calibration(loaded, bins, keys) for task, keys in tasks.items()}
    calibration = by_task.get(None)
    fitted: dict[str, dict[str, Any]] = {}
    for task, cal in by_task.items():
        for split in (cal or {}).get("splits", {}):
            key = split if task is None else f"{split}/{task}"
            fitted[key] = {"temperature": cal["temperature"], "ece_after": cal["splits"][split]["after"]["ece"]}  # type: ignore[index]
    findings = run_findings(loaded.view, targets=targets, calibration=fitted or None)
    doc: dict[str, Any] = {
        "kind": "card",
        "run": {k: v for k, v in run.to_dict().items() if k not in ("artifacts", "summary", "stages", "config")},
        "provenance": {"run": run.id, "store": safe_url(store.url), "runcard": __version__,
                       "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")},
        "findings": [f.to_dict() for f in findings],
        "data": _data(loaded),
        "config": run.config,
        "model": {"parameters": parameter_count(run),
                  "checkpoints": [{"name": a.name, "sha256": a.sha256, "size": a.size} for a in run.artifacts
                                  if a.kind == "checkpoint"]},
        "training": {
            "curves": {k: thin(v) for k, v in sorted(loaded.view.series.items())
                       if len(v) > 1 and not k.endswith("/raw")},
            "loss_terms": _loss_terms(loaded.view.series),
            "stages": dict(run.stages), "total_seconds": sum(run.stages.values()),
            "wall_seconds": None if run.ended_at is None else run.ended_at - run.created_at,
        },
        "evaluation": {split: _evaluation(loaded, split) for split in loaded.evaluations},
        "calibration": calibration,
        "derived": _derived(run),
        "construction": _construction(run),
        "logged_metrics": {k: (None if v != v else v) for k, v in sorted(run.summary.items())
                           if not k.startswith("derived/")},
        "targets": target_rows(targets or {}, loaded.view.metrics(), _intervals(loaded)),
    }
    if generation_splits(run):
        doc["generations"] = card_generations(store, run, seed=seed)
    references = run.config.get("references") if isinstance(run.config.get("references"), list) else None
    soft = soft_section(loaded.tables, references)
    if soft is not None:
        doc["soft_labels"] = soft
    rules = {task: _decision_rules(loaded, keys, bins, seed) for task, keys in tasks.items()}
    if None in tasks:
        doc["decision_rules"] = rules[None]
    else:
        doc["tasks"] = {str(task): {"calibration": by_task[task], "decision_rules": rules[task]} for task in tasks}
        test = [k for k in loaded.tables if split_of(k) == "test"]
        doc["cross_task"] = cross_task({str(task_of(k)): loaded.tables[k] for k in test}) if len(test) > 1 else []
    return doc


def _loss_terms(series: Mapping[str, list[tuple[int, float]]], of: str = "value") -> dict[str, Any] | None:
    """Each weighted loss term's share of the total (``of="value"``: of sum |weighted term|, with
    ``grad_norm`` the same for the gradient norms, the share of the update, when they were logged), per step
    (thinned) and on average; the ``weak_regularizer`` finding judges the same numbers."""
    table = loss_term_shares(series, of=of)
    if table is None:
        return None
    terms, steps, shares = table
    out: dict[str, Any] = {
        "terms": terms, "steps": len(steps),
        "mean_share": dict(zip(terms, shares.mean(axis=0).tolist())),
        "last_share": dict(zip(terms, shares[-1].tolist())),
        "curves": {name: thin([(s, float(v)) for s, v in zip(steps, shares[:, i])]) for i, name in enumerate(terms)}}
    if of == "value":
        out["grad_norm"] = _loss_terms(series, of="grad_norm")
    return out


def _task_keys(loaded: LoadedRun) -> dict[str | None, list[str]]:
    """Predictions keys per task (None on a single-task run), in the card's order."""
    out: dict[str | None, list[str]] = {}
    for key in loaded.tables:
        out.setdefault(task_of(key), []).append(key)
    return out


def _val_test(keys: list[str]) -> tuple[str | None, str | None]:
    val = next((k for k in keys if split_of(k) in ("val", "validation", "dev")), None)
    others = [k for k in keys if k != val and split_of(k) != "train"]
    return val, (others[-1] if others else None)


def _decision_rules(loaded: LoadedRun, keys: list[str], bins: int, seed: int) -> dict[str, Any] | None:
    val, test = _val_test(keys)
    if val is None or test is None:
        return None
    out = decision_rules(loaded.tables[val], loaded.tables[test], bins=bins, seed=seed)
    out.update(fitted_on=val, applied_to=test)
    return out


def _intervals(loaded: LoadedRun) -> dict[str, list[float] | None]:
    """``<split>/<metric>`` -> its bootstrap CI, for the metrics the evaluation computed one for."""
    out: dict[str, list[float] | None] = {}
    for key, ev in loaded.evaluations.items():
        for metric, (lo, hi) in (ev.ci95 or {}).items():
            out[f"{key}/{metric}"] = [lo, hi]
    return out


def _data(loaded: LoadedRun) -> dict[str, Any]:
    splits = {}
    for split, table in loaded.tables.items():
        counts = np.bincount(table.y_true, minlength=table.n_classes)
        art = loaded.prediction_artifacts[split]
        splits[split] = {"n": table.n, "classes": [str(c) for c in table.classes],
                         "distribution": dict(zip((str(c) for c in table.classes), counts.tolist())),
                         "predictions_sha256": art.sha256, "checkpoint": art.meta.get("checkpoint")}
    data = loaded.run.config.get("data")
    description = data.get("description") if isinstance(data, dict) else None
    return {"splits": splits, "description": description or None}


def _evaluation(loaded: LoadedRun, split: str) -> dict[str, Any]:
    art = loaded.prediction_artifacts[split]
    out = loaded.evaluations[split].to_dict()
    out["provenance"] = {"run": loaded.run.id, "split": split, "predictions_sha256": art.sha256,
                         "checkpoint": art.meta.get("checkpoint"),
                         "signature": out["settings"]["signature"]}
    return out


def _calibration(loaded: LoadedRun, bins: int, keys: list[str]) -> dict[str, Any] | None:
    """Temperature scaling fitted on the validation predictions (of one task), applied to the last
    other split. Splits are named without the task: the task's section says which task it is."""
    val_key, test_key = _val_test(keys)
    if val_key is None:
        return None
    test = loaded.tables[test_key] if test_key else None
    result = calibrate_tables(loaded.tables[val_key], test, bins=bins)
    out = result.to_dict()
    out["fitted_on"] = split_of(val_key)
    out["splits"][split_of(val_key)] = out["splits"].pop("val")
    if test is not None and test_key is not None:
        out["splits"][split_of(test_key)] = out["splits"].pop("test")
        after = evaluate_table(result.calibrated["test"], ci=False, bins=bins)
        out["reliability_after"] = after.to_dict()["reliability"]
        out["applied_to"] = test_key
    return out


def _derived(run: Run) -> list[dict[str, Any]]:
    """Logged ``derived/<variant>/<name>`` values as rows: name, expression, value per variant."""
    expressions = run.config.get("derived", {}) if isinstance(run.config.get("derived"), dict) else {}
    rows: dict[str, dict[str, Any]] = {}
    for key, value in sorted(run.summary.items()):
        parts = key.split("/")
        if parts[0] != "derived" or len(parts) != 3:
            continue
        row = rows.setdefault(parts[2], {"name": parts[2], "expression": expressions.get(parts[2]), "values": {}})
        row["values"][parts[1]] = None if value != value else value
    return list(rows.values())


def _construction(run: Run) -> list[dict[str, Any]]:
    """Labels the config made by hash parity: what a model cannot learn, and the ceiling it implies."""
    labels = run.config.get("data", {}).get("labels", {}) if isinstance(run.config.get("data"), dict) else {}
    out = []
    for split_rule in labels.get("hash_split", []) or []:
        entry: dict[str, Any] = {"source": split_rule.get("source"), "into": list(split_rule.get("into", [])),
                                 "hash": split_rule.get("hash", "sha256")}
        for split in ("val", "test"):
            values = {k: run.summary.get(f"{split}/{k}") for k in ("topic_accuracy", "ceiling_accuracy",
                                                                   "ceiling_macro_f1", "accuracy", "macro_f1")}
            if any(v is not None for v in values.values()):
                entry[split] = values
        out.append(entry)
    return out
