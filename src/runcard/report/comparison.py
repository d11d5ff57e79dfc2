"""Runs side by side, as data: config diff, every metric's change, paired tests, targets, findings."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from runcard._version import __version__
from runcard.compare import compare_tables
from runcard.data.toml import read_toml
from runcard.errors import InputError
from runcard.findings import group_findings, not_significant, run_findings, sort_findings
from runcard.findings.comparison import config_differences, flatten_config
from runcard.metrics.directions import direction
from runcard.report.generations import EmbedChoice, generations_section, has_generations
from runcard.report.views import load_run
from runcard.store import Run, Store
from runcard.store.sql import safe_url


def load_targets(path: str | Path) -> dict[str, dict[str, Any]]:
    """Targets from TOML: one table per metric key with tiers (e.g. minimum, target, stretch) and an
    optional ``direction`` ("higher" or "lower"); see docs/reports.md."""
    path = Path(path)
    data = read_toml(path, "targets file")
    targets: dict[str, dict[str, Any]] = {}
    for metric, spec in data.items():
        if not isinstance(spec, dict) or not spec:
            raise InputError(f'{path}: [{metric}] must be a table of tiers, e.g. ["{metric}"] target = 0.75.')
        tiers: dict[str, Any] = {}
        for name, value in spec.items():
            if name == "direction":
                if value not in ("higher", "lower"):
                    raise InputError(f"{path}: [{metric}] direction = {value!r}; use \"higher\" or \"lower\".")
                tiers[name] = value
            elif isinstance(value, bool) or not isinstance(value, (int, float)):
                raise InputError(f"{path}: [{metric}] {name} = {value!r} is not a number.")
            else:
                tiers[name] = float(value)
        targets[metric] = tiers
    return targets


def build_comparison(store: Store, runs: list[Run], *, targets: dict[str, dict[str, Any]] | None = None,
                     n_boot: int = 1000, seed: int = 0, embed: EmbedChoice = "auto") -> dict[str, Any]:
    """Compare runs; the first is the baseline every change is measured against. Without ``targets``,
    the targets declared in the runs' configs (a recipe's [targets]) are used. ``embed``: semantic diversity
    of logged generations ("auto": the packaged MiniLM when installed; None: off; or an embedder)."""
    if len(runs) < 2:
        raise InputError("compare needs at least two runs.")
    if targets is None:  # the targets a recipe config declared, when the runs carry them
        declared = [r.config.get("targets") for r in runs if isinstance(r.config.get("targets"), dict)]
        targets = next((t for t in declared if t), None)
    loaded = [load_run(store, r, seed=seed) for r in runs]
    views = [item.view for item in loaded]
    ids = [r.id for r in runs]
    differing = config_differences([r.config for r in runs])
    flat = [flatten_config(r.config) for r in runs]
    metrics = [v.metrics() for v in views]
    keys = sorted(set().union(*metrics))
    base = metrics[0]
    metric_rows = []
    for key in keys:
        values = [m.get(key) for m in metrics]
        changes: list[dict[str, float | None] | None] = []
        for value in values[1:]:
            if value is None or base.get(key) is None:
                changes.append(None)
            else:
                delta = value - base[key]
                changes.append({"absolute": delta, "relative": delta / abs(base[key]) if base[key] else None})
        metric_rows.append({"metric": key, "direction": direction(key), "values": values, "changes": changes})
    paired, findings = _paired(loaded, n_boot, seed)
    generations, generation_findings = generations_section(store, runs, n_boot=n_boot, seed=seed, embed=embed) \
        if has_generations(runs) else ([], [])
    findings += generation_findings
    findings += group_findings(views)
    for item in loaded:
        findings += run_findings(item.view, targets=targets)
    target_rows = []
    for key, tiers in (targets or {}).items():
        target_rows.append({"metric": key, "tiers": {k: v for k, v in tiers.items() if k != "direction"},
                            "direction": tiers.get("direction") or direction(key) or "higher",
                            "values": [m.get(key) for m in metrics]})
    return {
        "kind": "comparison",
        "runs": [{"id": r.id, "name": r.name, "project": r.project, "status": r.status} for r in runs],
        "provenance": {"runs": ids, "store": safe_url(store.url), "runcard": __version__,
                       "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")},
        "findings": [f.to_dict() for f in sort_findings(_unique(findings))],
        "config_diff": [{"key": k, "values": [f.get(k) for f in flat]} for k in differing],
        "metrics": metric_rows,
        "paired": paired,
        "targets": target_rows,
        **({"generations": generations} if generations else {}),
    }


def _paired(loaded: list[Any], n_boot: int, seed: int) -> tuple[list[dict[str, Any]], list[Any]]:
    """Paired tests of every run against the first on each split both logged (same ids)."""
    out, findings = [], []
    base = loaded[0]
    for other in loaded[1:]:
        for split in base.tables:
            if split not in other.tables:
                continue
            try:
                result = compare_tables(base.tables[split], other.tables[split], n_boot=n_boot, seed=seed)
            except InputError as exc:
                out.append({"a": base.run.id, "b": other.run.id, "split": split, "paired": False, "reason": str(exc)})
                continue
            paired = result.to_dict()
            scores = {"a": paired.pop("a"), "b": paired.pop("b")}  # the files' scores; "a"/"b" name the runs
            entry = {"a": base.run.id, "b": other.run.id, "split": split, "paired": True, **paired, "scores": scores}
            out.append(entry)
            for metric in ("accuracy", "macro_f1"):
                findings += not_significant(f"{split}/{metric}", result.difference[metric], result.ci95[metric],
                                            runs=(base.run.id, other.run.id), p_value=result.p_value)
    return out, findings


def _unique(findings: list[Any]) -> list[Any]:
    seen, out = set(), []
    for f in findings:
        key = (f.kind, f.title, f.runs)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def targets_gap_rows(doc: dict[str, Any]) -> list[list[Any]]:
    """(metric, run, value, then gap to each tier) rows for the documents."""
    rows = []
    for entry in doc["targets"]:
        higher = entry["direction"] != "lower"
        for run, value in zip(doc["runs"], entry["values"]):
            gaps = [None if value is None else (goal - value if higher else value - goal) for goal in entry["tiers"].values()]
            rows.append([entry["metric"], run["id"], value, *gaps])
    return rows


