"""A finding: an evidence-backed diagnosis of what went wrong in a run or a comparison."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SEVERITIES = ("error", "warning", "info")

#: Every finding kind: its usual severity and what it means (docs/findings.md has the thresholds).
KINDS: dict[str, str] = {
    "leakage": "identical (normalised) texts across splits, or a near-perfect score on a non-trivial task",
    "zero_support": "a class with no examples in a split",
    "majority_collapse": "predictions concentrated on one class, or accuracy within noise of the majority rate",
    "constant_metric": "a metric identical across runs whose configs differ",
    "minority_collapse": "a class whose F1 is far below macro-F1",
    "confusable_pair": "two classes the model separates no better than chance",
    "all_zero_metric": "a metric that is 0 or NaN everywhere: a pipeline failure, not a result",
    "ceiling_effect": "every system at the top of a bounded metric: it cannot separate them",
    "weak_regularizer": "an auxiliary loss term whose weighted share of the total loss is tiny",
    "missing_checkpoint": "predictions that cannot be tied to a stored checkpoint",
    "val_test_disagreement": "the run best on validation is not among the best on test",
    "outlier_run": "a run orders of magnitude off the group",
    "not_significant": "a difference whose 95 % CI contains zero",
    "overfitting": "validation loss rising while training loss falls",
    "miscalibrated": "calibration error beyond what sampling noise explains",
    "target_gap": "a metric below its target",
    "detached_term": "a weighted loss term with no gradient path: it shifts the loss value and changes nothing",
    "underpowered": "a comparison whose test could not have seen the difference asked about",
    "label_issue": "more rows whose label the model's out-of-sample probabilities contradict "
                   "than a calibrated model shows",
}


@dataclass(frozen=True)
class Finding:
    """What a rule found: ``kind`` (see `KINDS`), ``severity``, a one-line ``title``, the numbers
    that triggered it (``evidence``), what to do next (``advice``), and what it concerns."""

    kind: str
    severity: str
    title: str
    evidence: Mapping[str, Any]
    advice: str
    runs: tuple[str, ...] = ()
    splits: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()
    metrics: tuple[str, ...] = field(default=())
    impact: float | None = None  # how much it moves the result (e.g. a metric change), for ranking; None: unknown
    p_value: float | None = None  # a test of a null (the document's false-alarm budget judges it); None: a fact
    eligible: bool = True  # False: a test that counts in the budget but whose claim's effect is absent

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown finding kind {self.kind!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "severity": self.severity, "title": self.title,
            "evidence": {k: _jsonable(v) for k, v in self.evidence.items()}, "advice": self.advice,
            "runs": list(self.runs), "splits": list(self.splits), "classes": list(self.classes),
            "metrics": list(self.metrics), "impact": _jsonable(self.impact), "p_value": _jsonable(self.p_value),
        }


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item") and not isinstance(value, (list, tuple, dict)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Errors first, then warnings, then notes; within a severity, by how much each moves the result
    (``impact``, largest first; unknown last), otherwise in the order the rules ran."""
    return sorted(findings, key=lambda f: (SEVERITIES.index(f.severity), f.impact is None, -(f.impact or 0.0)))
