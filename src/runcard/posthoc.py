"""Post-hoc calibration of prediction tables: fit on validation, apply to test, report before/after.

The scores before and after come from `evaluate_table`, so they are the same definitions the
run card uses. Temperature scaling cannot change a prediction; this module checks that it did
not (row by row) instead of assuming it, and says how many rows changed under vector scaling.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from runcard.calibration import (
    TemperatureScaling,
    VectorScaling,
    fit_temperature,
    fit_vector_scaling,
    softmax,
)
from runcard.display import table as html_table
from runcard.errors import InputError
from runcard.evaluate import evaluate_table
from runcard.table import PredictionTable, reorder_classes

METHODS = ("temperature", "vector")
#: Scores reported before and after calibration.
SCORES = ("accuracy", "nll", "brier", "ece")


@dataclass(frozen=True, eq=False)
class CalibrationResult:
    """A fitted calibration map, the calibrated tables, and their scores before and after."""

    method: str
    scaler: TemperatureScaling | VectorScaling
    bins: int
    before: dict[str, dict[str, float]]
    after: dict[str, dict[str, float]]
    argmax_changed: dict[str, int]
    calibrated: dict[str, PredictionTable]

    @property
    def argmax_invariant(self) -> bool:
        """True when no row's predicted class changed, in any split."""
        return not any(self.argmax_changed.values())

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v:.4f}" for k, v in self.scaler.params().items() if isinstance(v, float))
        changes = ", ".join(f"{s} ECE {self.before[s]['ece']:.4f}→{self.after[s]['ece']:.4f}" for s in self.before)
        return f"CalibrationResult({self.method}{', ' + params if params else ''}; {changes})"

    def _repr_html_(self) -> str:
        rows = [[s, k, self.before[s][k], self.after[s][k], f"{self.after[s][k] - self.before[s][k]:+.4f}"]
                for s in self.before for k in SCORES]
        return html_table(["split", "metric", "before", "after", "change"], rows,
                     caption=f"{self!r}; argmax unchanged: {self.argmax_invariant}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (docs/evaluation.md, "calibrate")."""
        out: dict[str, Any] = {"method": self.method, **self.scaler.params()}
        if isinstance(self.scaler, TemperatureScaling):
            out["at_bound"] = self.scaler.at_bound
        else:
            out["converged"] = self.scaler.converged
        out.update(
            bins=self.bins,
            splits={
                split: {"n": self.calibrated[split].n, "before": self.before[split], "after": self.after[split],
                        "argmax_changed": self.argmax_changed[split]}
                for split in self.before
            },
            argmax_invariant=self.argmax_invariant,
        )
        return out


def calibrate_tables(
    val: PredictionTable, test: PredictionTable | None = None, *, method: str = "temperature", bins: int = 15
) -> CalibrationResult:
    """Fit ``method`` on ``val`` and apply it to ``val`` and ``test``.

    ``test`` must hold the same classes as ``val`` (columns are reordered to match if needed).
    """
    if method not in METHODS:
        raise InputError(f"method: expected one of {', '.join(METHODS)}, got {method!r}.")
    splits = {"val": val}
    if test is not None:
        splits["test"] = reorder_classes(test, val.classes)
    scores = val.log_scores()
    scaler = fit_temperature(scores, val.y_true) if method == "temperature" else fit_vector_scaling(scores, val.y_true)
    before, after, changed, calibrated = {}, {}, {}, {}
    for split, table in splits.items():
        logits = scaler.transform(table.log_scores())
        new = table.with_probs(softmax(logits.copy()), logits)
        calibrated[split] = new
        before[split] = _scores(table, bins)
        after[split] = _scores(new, bins)
        changed[split] = int(np.count_nonzero(table.probs.argmax(axis=1) != new.probs.argmax(axis=1)))
    return CalibrationResult(method, scaler, bins, before, after, changed, calibrated)


def _scores(table: PredictionTable, bins: int) -> dict[str, float]:
    ev = evaluate_table(table, bins=bins, ci=False)
    return {"accuracy": ev.accuracy, "nll": ev.nll, "brier": ev.brier, "ece": ev.ece}
