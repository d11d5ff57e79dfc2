"""Post-hoc decision rules fitted on validation predictions only, reported beside the raw argmax.

`fit_logit_adjustment` tunes one additive offset per class on the log-probabilities so the argmax
maximises macro-F1 on the validation rows (coordinate ascent over a fixed grid, deterministic).
It moves the decision boundary toward rare classes, the post-hoc form of a per-class threshold.
It sees only validation arrays; `decision_rules` applies what it fitted to the test table and
reports what each rule buys there, with paired bootstrap CIs against the raw argmax.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from runcard.compare import compare_tables
from runcard.errors import InputError
from runcard.evaluate import evaluate_table
from runcard.logits import softmax
from runcard.metrics.classification import confusion_matrix, summary_scores
from runcard.posthoc import calibrate_tables
from runcard.table import PredictionTable, reorder_classes

#: Offsets tried per class (on log-probabilities, so +0.69 doubles a class's odds).
GRID = (-2.0, -1.5, -1.0, -0.75, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0)


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> float:
    """Macro-F1 over all classes (a class never true nor predicted counts 0)."""
    return float(summary_scores(confusion_matrix(y_true, y_pred, n_classes))["macro_f1"])


@dataclass(frozen=True)
class LogitAdjustment:
    """Per-class offsets added to log-probabilities before the argmax, and how they were found."""

    offsets: np.ndarray
    val_macro_f1_before: float
    val_macro_f1_after: float
    rounds: int

    def apply(self, log_probs: np.ndarray) -> np.ndarray:
        """Probabilities after the offsets: softmax(log p + b)."""
        return softmax(np.asarray(log_probs, dtype=np.float64) + self.offsets)

    def to_dict(self) -> dict[str, Any]:
        return {"offsets": self.offsets.tolist(), "val_macro_f1_before": self.val_macro_f1_before,
                "val_macro_f1_after": self.val_macro_f1_after, "rounds": self.rounds}


def fit_logit_adjustment(log_probs: np.ndarray, y_true: np.ndarray, *, grid: Sequence[float] = GRID,
                         rounds: int = 3) -> LogitAdjustment:
    """Offsets maximising validation macro-F1 by coordinate ascent: each round visits every class and
    keeps the grid value with the best macro-F1 (ties keep the current value, then the smallest |b|).
    Class 0 stays at 0: only differences between offsets matter."""
    scores = np.asarray(log_probs, dtype=np.float64)
    y = np.asarray(y_true)
    if scores.ndim != 2 or len(scores) != len(y) or len(y) == 0:
        raise InputError("fit_logit_adjustment: log_probs must be (n, K) with one label per row, n > 0.")
    k = scores.shape[1]
    offsets = np.zeros(k)
    start = best = macro_f1(y, scores.argmax(axis=1), k)
    done = 0
    for done in range(1, rounds + 1):  # noqa: B007 -- the rounds taken are reported after the loop
        changed = False
        for c in range(1, k):
            current = offsets[c]
            for g in sorted(grid, key=lambda v: (abs(v), v)):
                trial = offsets.copy()
                trial[c] = g
                value = macro_f1(y, (scores + trial).argmax(axis=1), k)
                if value > best + 1e-12:
                    best, current, changed = value, g, True
            offsets[c] = current
        if not changed:
            break
    return LogitAdjustment(offsets, start, best, done)


def decision_rules(val: PredictionTable, test: PredictionTable, *, grid: Sequence[float] = GRID, rounds: int = 3,
                   bins: int = 15, n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Raw argmax, temperature scaling and logit adjustment, each fitted on ``val`` alone and scored
    on ``test`` with CIs; adjustments are compared with the raw argmax on the same test rows."""
    test = reorder_classes(test, val.classes)
    calibration = calibrate_tables(val, None, bins=bins)
    temperature = float(calibration.scaler.params()["temperature"])
    adjustment = fit_logit_adjustment(val.log_scores(), val.y_true, grid=grid, rounds=rounds)
    log_test = test.log_scores()
    tables = {
        "argmax": test,
        "temperature": test.with_probs(softmax(log_test / temperature), log_test / temperature),
        "logit_adjustment": test.with_probs(adjustment.apply(log_test), None),
    }
    rows = []
    for rule, table in tables.items():
        ev = evaluate_table(table, bins=bins, ci=True, n_boot=n_boot, seed=seed)
        row: dict[str, Any] = {"rule": rule, "accuracy": ev.accuracy, "macro_f1": ev.macro_f1, "ece": ev.ece,
                               "nll": ev.nll,
                               "ci95": {k: list(ev.ci95[k]) if ev.ci95 else None for k in ("accuracy", "macro_f1")},
                               "f1": {str(c): float(v) for c, v in zip(ev.classes, ev.per_class["f1"])}}
        if rule != "argmax":
            cmp = compare_tables(test, table, n_boot=n_boot, seed=seed)
            row["vs_argmax"] = {k: {"b_minus_a": cmp.difference[k], "ci95": list(cmp.ci95[k])}
                                for k in ("accuracy", "macro_f1")}
            row["changed_rows"] = int(np.count_nonzero(table.probs.argmax(1) != test.probs.argmax(1)))
        rows.append(row)
    return {"fitted_on": "val", "applied_to": "test", "temperature": temperature,
            "logit_adjustment": {**adjustment.to_dict(), "classes": [str(c) for c in val.classes]},
            "rules": rows}
