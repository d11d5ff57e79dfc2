"""Findings: evidence-backed diagnoses of what went wrong, one small pure rule per kind.

`run_findings` checks one run (its evaluations, records and texts); `group_findings` checks a
set of runs (a comparison or a sweep). Both return findings sorted errors first. docs/findings.md
lists every kind with its threshold and the reason for it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from runcard.findings.across_runs import (
    all_zero_across,
    ceiling_effect,
    constant_metric,
    merge_outliers,
    not_significant,
    outliers,
    target_gap,
    val_test_disagreement,
)
from runcard.findings.budget import ALPHA, Budget, apply_budget
from runcard.findings.evaluation import evaluation_findings, majority_collapse, zero_support
from runcard.findings.finding import KINDS, SEVERITIES, Finding, sort_findings
from runcard.findings.label_issues import label_issue
from runcard.findings.leakage import leakage, leakage_in_predictions
from runcard.findings.training import (
    all_zero_series,
    detached_term,
    missing_checkpoint,
    overfitting,
    weak_regularizer,
)
from runcard.findings.view import RunView, headline_keys
from runcard.metrics.directions import direction

_VAL = re.compile(r"^(val|valid|validation|eval|dev)([/_])(.+)$")


def run_findings(view: RunView, *, calibration: Mapping[str, dict[str, Any]] | None = None,
                 targets: Mapping[str, Mapping[str, float]] | None = None, alpha: float = ALPHA) -> list[Finding]:
    """Every rule that looks at one run, its tests judged by the document's budget (`judge_run`)."""
    return judge_run(view, calibration=calibration, targets=targets, alpha=alpha)[0]


def judge_run(view: RunView, *, calibration: Mapping[str, dict[str, Any]] | None = None,
              targets: Mapping[str, Mapping[str, float]] | None = None, alpha: float = ALPHA
              ) -> tuple[list[Finding], Budget]:
    """Every rule that looks at one run, and what the false-alarm budget did. ``calibration``: split -> the
    temperature scaling fitted on validation and its ECE there. Calibration is tested once per task, on its
    headline split (test, else the last held-out one); the other rules on every held-out split."""
    found: list[Finding] = []
    headline = set(headline_keys(list(view.evaluations)))
    for split, ev in view.evaluations.items():
        if split.split("/", 1)[0] == "train":  # training-set fit is not generalisation: only data problems are reported
            found += zero_support(ev, split, view.id) + [
                f for f in majority_collapse(ev, split, view.id) if f.p_value is None]
        else:
            found += evaluation_findings(ev, split, view.id, (calibration or {}).get(split),
                                         test_calibration=split in headline)
            if split in view.tables and ev.soft is None:  # held out: the model's probabilities are out of sample
                found += label_issue(view.tables[split], split, view.id)
    found += leakage_in_predictions(view.tables, view.evaluations, view.id)
    found += overfitting(view.series, view.id)
    found += weak_regularizer(view.series, view.id)
    found += detached_term(view.series, view.id)
    found += all_zero_series(view.series, view.id)
    found += missing_checkpoint(view)
    metrics = view.metrics()
    for key, tiers in (targets or {}).items():
        if key in metrics:
            found += target_gap(key, metrics[key], _tiers(tiers), view.id, _higher(tiers))
    kept, budget = apply_budget(found, alpha)
    return sort_findings(kept), budget


def validation_pairs(keys: Sequence[str]) -> list[tuple[str, str]]:
    """(validation key, test key) pairs with the same metric: ``val/loss`` and ``test/loss``, ..."""
    available = set(keys)
    pairs = []
    for key in sorted(available):
        match = _VAL.match(key)
        if match and direction(match.group(3)) is not None:
            test = f"test{match.group(2)}{match.group(3)}"
            if test in available:
                pairs.append((key, test))
    return pairs


def group_findings(views: Sequence[RunView], *, criterion: tuple[str, str] | None = None,
                   alpha: float = ALPHA) -> list[Finding]:
    """Every rule that looks across runs, its tests judged by the document's budget (`judge_group`)."""
    return judge_group(views, criterion=criterion, alpha=alpha)[0]


def judge_group(views: Sequence[RunView], *, criterion: tuple[str, str] | None = None,
                alpha: float = ALPHA) -> tuple[list[Finding], Budget]:
    """Every rule that looks across runs, and what the false-alarm budget did. Outliers are found first, with
    half the level, and set apart: the other rules (a constant metric, a ceiling, validation against test)
    judge the runs that remain with the other half, and say how many were set apart. ``criterion``: an
    explicit (validation key, test key)."""
    passed, outlier_budget = apply_budget(outliers(views), alpha / 2)  # half the level decides what is set apart
    far = merge_outliers(passed)
    apart = {r for f in far for r in f.runs}
    kept = [v for v in views if v.id not in apart]
    found: list[Finding] = [*constant_metric(kept, set_apart=sorted(apart)), *ceiling_effect(kept),
                            *all_zero_across(views)]
    keys = set.intersection(*(set(v.metrics()) for v in kept)) if kept else set()
    pairs = [criterion] if criterion else validation_pairs(sorted(keys))
    seen: set[str] = set()
    for val_key, test_key in pairs:
        for f in val_test_disagreement(kept, val_key, test_key):
            if f.evidence["chosen_by_validation"] not in seen:
                seen.add(f.evidence["chosen_by_validation"])
                found.append(f)
    rest, budget = apply_budget(found, alpha / 2)  # the other half, the rules that judge the runs kept
    return sort_findings([*far, *rest]), Budget(alpha, {**outlier_budget.tests, **budget.tests},
                                                outlier_budget.kept + budget.kept)


def _tiers(spec: Mapping[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in spec.items() if k != "direction"}


def _higher(spec: Mapping[str, Any]) -> bool | None:
    d = spec.get("direction")
    return None if d is None else d == "higher"


__all__ = [
    "ALPHA", "KINDS", "SEVERITIES", "Budget", "Finding", "RunView", "group_findings", "judge_group", "judge_run",
    "leakage", "not_significant", "run_findings", "sort_findings", "target_gap", "validation_pairs",
]
