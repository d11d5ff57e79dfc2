"""The run card as data: the verdict first, then findings, results per split (test first), data, training,
config; every number read from what the store computed once from the run's predictions.

`build_card` returns a JSON-ready dict (what `runcard card --json` prints); the Markdown and HTML renderers
only lay it out. Evaluations, the temperature fitted on validation and the decision rules are the stored
ones (`runcard.store.evaluations`), made with the run's evaluation settings, so the card a recipe writes and
`runcard card RUN` agree; asked for other settings, the card recomputes and says so.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from runcard._version import __version__
from runcard.configs import flatten_config
from runcard.decision import GRID, decision_rules
from runcard.eval_settings import EvalSettings
from runcard.evaluate import evaluate_table
from runcard.findings import ALPHA, judge_run
from runcard.findings.training import loss_term_shares
from runcard.generation.stored import generation_splits
from runcard.posthoc import calibrate_tables
from runcard.report.card_result import result_block
from runcard.report.examples import PER_CELL, TEXT_LIMIT, shared_rows, split_examples
from runcard.report.run_generations import card_generations
from runcard.report.soft import soft_section
from runcard.report.tasks import cross_task, target_rows
from runcard.report.views import LoadedRun, load_run
from runcard.store import Run, Store
from runcard.store.evaluations import input_shas, stored_result
from runcard.store.runs import split_of, task_of
from runcard.urls import safe_url

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


def build_card(store: Store, run: Run, *, targets: dict[str, dict[str, Any]] | None = None,
               settings: EvalSettings | None = None, alpha: float = ALPHA, examples: int = PER_CELL) -> dict[str, Any]:
    """Everything on the card of ``run`` (a stored run). ``settings``: evaluate with these instead of the
    run's (recomputed for this card only; the card says so). ``alpha``: the card's false-alarm budget.
    ``examples``: rows shown per confusion-matrix cell (0: no examples)."""
    loaded = load_run(store, run, settings=settings)
    if targets is None and isinstance(run.config.get("targets"), dict) and run.config["targets"]:
        targets = run.config["targets"]
    tasks = _task_keys(loaded)
    by_task = {task: run_calibration(store, loaded, keys) for task, keys in tasks.items()}
    fitted: dict[str, dict[str, Any]] = {}
    for task, cal in by_task.items():
        for split in (cal or {}).get("splits", {}):
            key = split if task is None else f"{split}/{task}"
            fitted[key] = {"temperature": cal["temperature"], "ece_after": cal["splits"][split]["after"]["ece"]}  # type: ignore[index]
    findings, budget = judge_run(loaded.view, targets=targets, calibration=fitted or None, alpha=alpha)
    doc: dict[str, Any] = {
        "kind": "card",
        "run": {k: v for k, v in run.to_dict().items()
                if k not in ("artifacts", "summary", "stages", "config", "evaluated", "eval_settings")},
        "provenance": {"run": run.id, "store": safe_url(store.url), "runcard": __version__,
                       "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")},
        "settings": {**loaded.settings.to_dict(), "key": loaded.settings.key, "run_settings": run.settings.to_dict(),
                     "recomputed": {k: {"run": a, "card": b} for k, (a, b) in loaded.recomputed.items()},
                     "budget": budget.to_dict()},
        "findings": [f.to_dict() for f in findings],
        "examples": _examples(loaded, examples),
        "data": _data(loaded),
        "config": run.config,
        "model": {"parameters": parameter_count(run),
                  "checkpoints": [{"name": a.name, "sha256": a.sha256, "size": a.size} for a in run.artifacts
                                  if a.kind == "checkpoint"]},
        "training": {
            "curves": {k: thin(v) for k, v in sorted(loaded.view.series.items())
                       if len(v) > 1 and not k.endswith("/raw")},
            "step_unit": step_unit(run, loaded.view.series),
            "selected_step": selected_step(run),
            "loss_terms": _loss_terms(loaded.view.series),
            "stages": dict(run.stages), "total_seconds": sum(run.stages.values()),
            "wall_seconds": None if run.ended_at is None else run.ended_at - run.created_at,
        },
        "evaluation": {split: _evaluation(loaded, split) for split in loaded.evaluations},
        "calibration": by_task.get(None),
        "derived": _derived(run),
        "construction": _construction(run, loaded.view.metrics()),
        "logged_metrics": {k: (None if v != v else v) for k, v in sorted(run.summary.items())
                           if not k.startswith("derived/")},
        "targets": target_rows(targets or {}, loaded.view.metrics(), _intervals(loaded)),
    }
    if generation_splits(run):
        doc["generations"] = _generations(store, run, loaded.settings)
    references = run.config.get("references") if isinstance(run.config.get("references"), list) else None
    soft = soft_section(loaded.tables, references) if any(
        ev.soft is not None for ev in loaded.evaluations.values()) else None
    if soft is not None:
        doc["soft_labels"] = soft
    rules = {task: run_decision_rules(store, loaded, keys) for task, keys in tasks.items()}
    if None in tasks:
        doc["decision_rules"] = rules[None]
    else:
        doc["tasks"] = {str(task): {"calibration": by_task[task], "decision_rules": rules[task]} for task in tasks}
        test = [k for k in loaded.tables if split_of(k) == "test"]
        doc["cross_task"] = cross_task({str(task_of(k)): loaded.tables[k] for k in test}) if len(test) > 1 else []
    _finding_rows(doc, loaded)
    doc["result"] = result_block(doc)
    return doc


def _examples(loaded: LoadedRun, per_cell: int) -> dict[str, Any] | None:
    """Per evaluated split, its examples (`runcard.report.examples`), or None when turned off."""
    if per_cell <= 0:
        return None
    return {"per_cell": per_cell, "text_limit": TEXT_LIMIT,
            "splits": {key: split_examples(loaded.tables[key], per_cell=per_cell) for key in loaded.evaluations}}


def _finding_rows(doc: dict[str, Any], loaded: LoadedRun) -> None:
    """The rows behind each finding that concerns rows: a confusable pair's two cells, a collapsed class's row
    of the matrix, the texts a leakage shares (side by side, with their splits)."""
    if doc["examples"] is None:
        return
    shown = doc["examples"]["splits"]
    for f in doc["findings"]:
        split = (f["splits"] or [None])[-1]
        if f["kind"] in ("confusable_pair", "minority_collapse") and split in shown:
            classes = shown[split]["classes"]
            index = [classes.index(c) for c in f["classes"] if c in classes]
            if f["kind"] == "confusable_pair" and len(index) == 2:
                keys = [f"{index[0]}:{index[1]}", f"{index[1]}:{index[0]}"]
            else:
                keys = [f"{index[0]}:{j}" for j in range(len(classes)) if index and j != index[0]]
            f["examples"] = {"split": split, "cells": [k for k in keys if k in shown[split]["cells"]]}
        elif f["kind"] == "leakage" and len(f["splits"]) == 2 and all(s in loaded.tables for s in f["splits"]):
            f["examples"] = {"shared": shared_rows(loaded.tables, f["splits"], doc["examples"]["per_cell"])}


def _generations(store: Store, run: Run, settings: EvalSettings) -> list[dict[str, Any]]:
    """The card's generations section, kept in the store like an evaluation."""
    arts = generation_splits(run)
    return stored_result(store, run, "generations", "card", [arts[s].sha256 for s in sorted(arts)], settings,
                         lambda: {"splits": card_generations(store, run, n_boot=settings.n_boot,
                                                             seed=settings.seed)})["splits"]


def selected_step(run: Run) -> int | None:
    """The step of the checkpoint the run's results come from, marked on its training curves: the one marked
    ``best`` (an imported Trainer folder's best checkpoint), else the one the latest test predictions name, else
    the latest checkpoint that has a step."""
    stepped = [a for a in run.artifacts if a.kind == "checkpoint" and a.meta.get("step") is not None]
    best = [a for a in stepped if a.meta.get("best")]
    tested = [a.meta.get("checkpoint") for a in run.artifacts if a.kind == "predictions" and a.meta.get("split") == "test"]
    linked = [a for a in stepped if tested and a.sha256 == tested[-1]]
    chosen = (best or linked or stepped)[-1:]
    return chosen[0].meta["step"] if chosen else None


def step_unit(run: Run, series: Mapping[str, list[tuple[int, float]]]) -> str:
    """What the x axis of the training curves counts: the run's ``step_unit`` tag when it has one; "epoch" when
    its config sets a number of epochs that no loss series' step exceeds; else "step"."""
    if run.tags.get("step_unit"):
        return run.tags["step_unit"]
    epochs = [v for k, v in flatten_config(run.config).items() if k.split(".")[-1] == "epochs" and isinstance(v, int)]
    steps = [s for k, pts in series.items() if "loss" in k and not k.startswith("loss_terms/") for s, _ in pts]
    if epochs and steps and max(steps) <= max(epochs):
        return "epoch"
    return "step"


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
    for key in loaded.evaluations:
        out.setdefault(task_of(key), []).append(key)
    return out


def val_test(keys: Sequence[str]) -> tuple[str | None, str | None]:
    """The validation key and the split it is applied to (test, else the last other non-train split)."""
    val = next((k for k in keys if split_of(k) in ("val", "validation", "dev")), None)
    others = [k for k in keys if k != val and split_of(k) != "train"]
    test = next((k for k in others if split_of(k) == "test"), others[-1] if others else None)
    return val, test


def _method(run: Run) -> str:
    calibration = run.config.get("calibration")
    method = calibration.get("method") if isinstance(calibration, dict) else None
    return method if method in ("temperature", "vector") else "temperature"


def run_calibration(store: Store, loaded: LoadedRun, keys: Sequence[str]) -> dict[str, Any] | None:
    """Post-hoc calibration fitted on the validation predictions (of one task) and applied to the test split
    (the config's ``calibration.method``, temperature scaling by default), stored with the run. Splits are
    named without the task: the task's section says which task it is."""
    assert loaded.run is not None
    val_key, test_key = val_test(keys)
    if val_key is None:
        return None
    method, bins = _method(loaded.run), loaded.settings.bins
    inputs = [val_key] + ([test_key] if test_key else [])

    def compute() -> dict[str, Any]:
        test = loaded.tables[test_key] if test_key else None
        result = calibrate_tables(loaded.tables[val_key], test, method=method, bins=bins)
        out = result.to_dict()
        out["fitted_on"] = split_of(val_key)
        out["splits"][split_of(val_key)] = out["splits"].pop("val")
        if test is not None and test_key is not None:
            out["splits"][split_of(test_key)] = out["splits"].pop("test")
            after = evaluate_table(result.calibrated["test"], ci=False, bins=bins)
            out["reliability_after"] = after.to_dict()["reliability"]
            out["applied_to"] = test_key
        return out

    return stored_result(store, loaded.run, "calibration", f"{method}:{'->'.join(inputs)}",
                         input_shas(loaded.run, inputs), loaded.settings, compute)


def run_decision_rules(store: Store, loaded: LoadedRun, keys: Sequence[str]) -> dict[str, Any] | None:
    """Temperature scaling and a macro-F1 logit adjustment fitted on validation and scored on test
    (`runcard.decision`; the config's ``decision.grid`` and ``decision.rounds`` when it has them), stored."""
    assert loaded.run is not None
    val, test = val_test(keys)
    if val is None or test is None:
        return None
    declared = loaded.run.config.get("decision")
    spec: dict[str, Any] = declared if isinstance(declared, dict) else {}
    grid = tuple(float(g) for g in spec.get("grid", GRID))
    rounds = int(spec.get("rounds", 3))
    s = loaded.settings

    def compute() -> dict[str, Any]:
        out = decision_rules(loaded.tables[val], loaded.tables[test], grid=grid, rounds=rounds, bins=s.bins,
                             n_boot=s.n_boot, seed=s.seed)
        out.update(fitted_on=val, applied_to=test)
        return out

    return stored_result(store, loaded.run, "decision_rules", f"{val}->{test}|grid={list(grid)}|rounds={rounds}",
                         input_shas(loaded.run, [val, test]), s, compute)


def _intervals(loaded: LoadedRun) -> dict[str, list[float] | None]:
    """``<split>/<metric>`` -> its bootstrap CI, for the metrics the evaluation computed one for."""
    out: dict[str, list[float] | None] = {}
    for key, ev in loaded.evaluations.items():
        for metric, (lo, hi) in (ev.ci95 or {}).items():
            out[f"{key}/{metric}"] = [lo, hi]
    return out


def _data(loaded: LoadedRun) -> dict[str, Any]:
    splits = {}
    for split, ev in loaded.evaluations.items():
        art = loaded.prediction_artifacts[split]
        counts = np.asarray(ev.per_class["support"])
        splits[split] = {"n": ev.n, "classes": [str(c) for c in ev.classes],
                         "distribution": dict(zip((str(c) for c in ev.classes), counts.tolist())),
                         "predictions_sha256": art.sha256, "checkpoint": art.meta.get("checkpoint")}
    config = loaded.run.config if loaded.run is not None else {}
    data = config.get("data")
    description = data.get("description") if isinstance(data, dict) else None
    return {"splits": splits, "description": description or None}


def _evaluation(loaded: LoadedRun, split: str) -> dict[str, Any]:
    art = loaded.prediction_artifacts[split]
    out = loaded.evaluations[split].to_dict()
    out["provenance"] = {"run": loaded.id, "split": split, "predictions_sha256": art.sha256,
                         "checkpoint": art.meta.get("checkpoint"),
                         "signature": out["settings"]["signature"]}
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


def _construction(run: Run, metrics: Mapping[str, float]) -> list[dict[str, Any]]:
    """Labels the config made by hash parity: what a model cannot learn, and the ceiling it implies."""
    labels = run.config.get("data", {}).get("labels", {}) if isinstance(run.config.get("data"), dict) else {}
    out = []
    for split_rule in labels.get("hash_split", []) or []:
        entry: dict[str, Any] = {"source": split_rule.get("source"), "into": list(split_rule.get("into", [])),
                                 "hash": split_rule.get("hash", "sha256")}
        for split in ("val", "test"):
            values = {k: run.summary.get(f"{split}/{k}") for k in ("topic_accuracy", "ceiling_accuracy",
                                                                   "ceiling_macro_f1")}
            for k in ("accuracy", "macro_f1"):
                values[k] = metrics.get(f"{split}/{k}")
            if any(v is not None for v in values.values()):
                entry[split] = values
        out.append(entry)
    return out
