"""Paired comparison of two systems' predictions on the same examples.

Rows are paired by ``id`` (or by row order when neither table has ids). The difference B - A
in accuracy and macro-F1 gets a paired bootstrap interval: resampling examples jointly is the
same as drawing the joint cells (true class, A's class, B's class) from a multinomial, which
costs the number of occupied cells, not rows. McNemar's exact test asks whether the two systems'
error rates differ at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np

from runcard.display import table, with_ci
from runcard.errors import InputError
from runcard.metrics.classification import (
    cell_marginals,
    confusion_matrix,
    per_class_from,
    per_class_scores,
    summary_from,
    summary_scores,
)
from runcard.stats import LEVEL, mcnemar_exact, percentile_interval, resample_chunks
from runcard.table import PredictionTable, reorder_classes

COMPARED = ("accuracy", "macro_f1")
_NORMAL = NormalDist()
#: Bootstrap confusion matrices built at once are capped at this many cells (memory bound).
BATCH_CELLS = 4_000_000


@dataclass(frozen=True)
class Comparison:
    """B versus A on paired rows; ``difference`` is B minus A."""

    n: int
    classes: tuple[Any, ...]
    paired_by: str
    names: tuple[str, str]
    scores: dict[str, tuple[float, float]]
    difference: dict[str, float]
    ci95: dict[str, tuple[float, float]]
    only_a_correct: int
    only_b_correct: int
    p_value: float
    settings: dict[str, Any]
    f1: dict[str, tuple[float, float]]  # class -> (A's F1, B's F1)
    f1_ci95: dict[str, tuple[float, float]]  # class -> paired CI of B - A
    se: dict[str, float] = field(default_factory=dict)  # bootstrap standard error of B - A (metrics and classes)
    p_values: dict[str, float] = field(default_factory=dict)  # two-sided, from the bootstrap SE (normal)


    def __repr__(self) -> str:
        parts = ", ".join(f"{k} B−A={with_ci(self.difference[k], self.ci95[k], signed=True)}" for k in COMPARED)
        return f"Comparison(n={self.n:,}, paired by {self.paired_by}, {parts}, McNemar p={self.p_value:.3g})"

    def _repr_html_(self) -> str:
        return table(["metric", "A", "B", "B − A", "95 % CI", "p"],
                     [[k, self.scores[k][0], self.scores[k][1], f"{self.difference[k]:+.4f}",
                       f"[{self.ci95[k][0]:+.4f}, {self.ci95[k][1]:+.4f}]", self.p_values.get(k)] for k in COMPARED],
                     caption=f"B − A on {self.n:,} paired rows (paired by {self.paired_by}); McNemar exact p = "
                     f"{self.p_value:.3g} ({self.only_a_correct:,} rows only A right, {self.only_b_correct:,} only B)")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready comparison (docs/evaluation.md, "compare")."""
        return {
            "n": self.n,
            "classes": list(self.classes),
            "paired_by": self.paired_by,
            "a": {"source": self.names[0], **{k: v[0] for k, v in self.scores.items()}},
            "b": {"source": self.names[1], **{k: v[1] for k, v in self.scores.items()}},
            "difference": {k: {"b_minus_a": self.difference[k], "ci95": list(self.ci95[k]), "se": self.se.get(k),
                               "p_value": self.p_values.get(k)} for k in COMPARED},
            "per_class_f1": {c: {"a": a, "b": b, "b_minus_a": b - a, "ci95": list(self.f1_ci95[c]),
                                 "se": self.se.get(f"f1/{c}"), "p_value": self.p_values.get(f"f1/{c}")}
                             for c, (a, b) in self.f1.items()},
            "mcnemar": {"only_a_correct": self.only_a_correct, "only_b_correct": self.only_b_correct,
                        "p_value": self.p_value},
            "settings": dict(self.settings),
        }


def pair_tables(a: PredictionTable, b: PredictionTable) -> tuple[PredictionTable, PredictionTable, str]:
    """Align ``b`` to ``a`` row by row (by id, else by row order) and check labels agree."""
    b = reorder_classes(b, a.classes)
    if a.ids is not None and b.ids is not None:
        position = {v: i for i, v in enumerate(b.ids.tolist())}
        only_a = [v for v in a.ids.tolist() if v not in position]
        if only_a or a.n != b.n:
            only_b = sorted(set(position) - set(a.ids.tolist()))
            raise InputError(
                f"{a.name} and {b.name} hold different ids ({len(only_a)} only in the first, e.g. "
                f"{only_a[:3]}; {len(only_b)} only in the second, e.g. {only_b[:3]}); "
                "a paired comparison needs the same examples in both."
            )
        b = b.take(np.array([position[v] for v in a.ids.tolist()]))
        paired_by = "id"
    elif a.ids is None and b.ids is None:
        if a.n != b.n:
            raise InputError(f"{a.name} has {a.n} rows and {b.name} has {b.n}, and neither has an id column "
                             "to pair them by; add ids or compare the same rows.")
        paired_by = "row order"
    else:
        raise InputError(f"only one of {a.name} and {b.name} has an id column; give both ids (or neither, "
                         "with the rows in the same order).")
    mismatch = np.flatnonzero(a.y_true != b.y_true)
    if len(mismatch):
        i = int(mismatch[0])
        where = f"row {i + 1}" if a.ids is None else f"id {a.ids[i]!r}"
        raise InputError(
            f"{where}: label {a.classes[a.y_true[i]]!r} in {a.name} but {a.classes[b.y_true[i]]!r} in "
            f"{b.name} ({len(mismatch)} rows disagree); both files must carry the same true labels."
        )
    return a, b, paired_by


def compare_tables(a: PredictionTable, b: PredictionTable, *, n_boot: int = 1000, seed: int = 0) -> Comparison:
    """Paired difference (B - A) in accuracy, macro-F1 and each class's F1 with bootstrap CIs, and
    McNemar's test."""
    a, b, paired_by = pair_tables(a, b)
    k = a.n_classes
    y, pa, pb = a.y_true, a.probs.argmax(axis=1), b.probs.argmax(axis=1)
    point_a = summary_scores(confusion_matrix(y, pa, k))
    point_b = summary_scores(confusion_matrix(y, pb, k))
    f1_a = per_class_scores(confusion_matrix(y, pa, k))["f1"]
    f1_b = per_class_scores(confusion_matrix(y, pb, k))["f1"]
    names = [str(c) for c in a.classes]
    cells, counts = np.unique((y * k + pa) * k + pb, return_counts=True)
    diffs = _bootstrap_differences(cells, counts, k, n_boot, np.random.default_rng(seed))
    observed = {key: float(point_b[key] - point_a[key]) for key in COMPARED}
    observed.update({f"f1/{c}": float(f1_b[i] - f1_a[i]) for i, c in enumerate(names)})
    se = {key: float(np.std(diffs[key], ddof=1)) if n_boot > 1 else 0.0 for key in COMPARED}
    se.update({f"f1/{c}": float(np.std(diffs["f1"][:, i], ddof=1)) if n_boot > 1 else 0.0 for i, c in enumerate(names)})
    right_a, right_b = pa == y, pb == y
    only_a = int(np.count_nonzero(right_a & ~right_b))
    only_b = int(np.count_nonzero(right_b & ~right_a))
    return Comparison(
        n=a.n,
        classes=a.classes,
        paired_by=paired_by,
        names=(a.name, b.name),
        scores={key: (float(point_a[key]), float(point_b[key])) for key in COMPARED},
        difference={key: float(point_b[key] - point_a[key]) for key in COMPARED},
        ci95={key: _interval(diffs[key]) for key in COMPARED},
        only_a_correct=only_a,
        only_b_correct=only_b,
        p_value=mcnemar_exact(only_a, only_b),
        f1={c: (float(f1_a[i]), float(f1_b[i])) for i, c in enumerate(names)},
        f1_ci95={c: _interval(diffs["f1"][:, i]) for i, c in enumerate(names)},
        se=se, p_values={k: _p_value(observed[k], se[k]) for k in observed},
        settings={"ci": "paired cell-multinomial bootstrap, percentile", "n_boot": n_boot, "seed": seed,
                  "level": LEVEL, "test": "exact McNemar (two-sided binomial on discordant pairs)"},
    )


def _p_value(difference: float, se: float) -> float:
    """Two-sided p-value of "B - A = 0" from the bootstrap standard error (normal approximation); with no spread
    at all, 1 for no difference and 0 otherwise."""
    if se > 0:
        return float(2 * (1 - _NORMAL.cdf(abs(difference) / se)))
    return 1.0 if abs(difference) < 1e-12 else 0.0


def minimum_detectable(se: float, alpha: float = 0.05, power: float = 0.8) -> float:
    """The smallest true difference a two-sided test at ``alpha`` finds with probability ``power``, for a
    difference estimated with standard error ``se``: ``(z_{1 - alpha/2} + z_power) x se``.

    >>> round(minimum_detectable(0.01), 4)
    0.028
    """
    return float((_NORMAL.inv_cdf(1 - alpha / 2) + _NORMAL.inv_cdf(power)) * se)


def mcnemar_se(only_a: int, only_b: int, n: int) -> float:
    """Standard error of a paired accuracy difference under "no difference", from the discordant pairs:
    ``sqrt(p_d / n)`` with ``p_d`` the share of rows where exactly one system is right (at least one row)."""
    return float(np.sqrt(max(only_a + only_b, 1) / n / n))


def _interval(samples: np.ndarray) -> tuple[float, float]:
    lo, hi = percentile_interval(samples)
    return float(lo), float(hi)


def _bootstrap_differences(
    cells: np.ndarray, counts: np.ndarray, k: int, n_boot: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """B - A scores over ``n_boot`` joint resamples of the occupied (true, A, B) cells; ``f1`` holds
    the per-class differences, shape (n_boot, k). Each resample is scored from its marginals and
    the draws come in chunks of at most `BATCH_CELLS` values: memory O(chunk (cells + k))."""
    true, rest = np.divmod(cells, k * k)
    pred_a, pred_b = np.divmod(rest, k)
    out = {key: np.empty(n_boot) for key in COMPARED}
    out["f1"] = np.empty((n_boot, k))
    start = 0
    for draws in resample_chunks(counts, n_boot, rng, BATCH_CELLS // max(len(cells), k, 1)):
        m = len(draws)
        scores = []
        for pred in (pred_a, pred_b):
            marg = cell_marginals(draws, true, pred, k)
            scores.append({**summary_from(*marg), "f1": per_class_from(*marg)["f1"]})
        for key in (*COMPARED, "f1"):
            out[key][start : start + m] = scores[1][key] - scores[0][key]
        start += m
    return out
