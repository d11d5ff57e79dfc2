"""Count-based classification metrics, all derived from one confusion matrix.

Every function here takes a confusion matrix of shape ``(..., K, K)`` (rows = true class,
columns = predicted class) and returns arrays of shape ``(...)`` or ``(..., K)``. The leading
batch axes let the same code score one matrix and a thousand bootstrap resamples of it, so a
point estimate and its confidence interval can never disagree on a definition.

Undefined values follow scikit-learn's ``zero_division=0``: a ratio whose denominator is zero is
0.0. `undefined_scores` says which ones were undefined so callers can report them.
"""

from __future__ import annotations

import numpy as np

#: Summary scores computed by `summary_scores`, in report order.
SUMMARY_KEYS: tuple[str, ...] = (
    "accuracy",
    "balanced_accuracy",
    "macro_precision",
    "macro_recall",
    "macro_f1",
    "micro_precision",
    "micro_recall",
    "micro_f1",
    "weighted_precision",
    "weighted_recall",
    "weighted_f1",
    "cohen_kappa",
    "mcc",
)


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Return the ``(K, K)`` int64 confusion matrix of class codes in ``[0, K)``.

    One `bincount` pass; inputs are trusted (validated at the public entry points).
    """
    flat = y_true.astype(np.int64, copy=False) * n_classes + y_pred
    return np.bincount(flat, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` with 0.0 where ``den == 0`` (scikit-learn's ``zero_division=0``)."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.zeros(np.broadcast_shapes(num.shape, den.shape))
    np.divide(num, den, out=out, where=den != 0)
    return out


def per_class_scores(cm: np.ndarray) -> dict[str, np.ndarray]:
    """Precision, recall, F1, support and predicted count per class, each ``(..., K)``.

    F1 is ``2 TP / (2 TP + FP + FN)``, which is defined whenever the class is either true or
    predicted somewhere (it equals the harmonic mean of precision and recall when both are).
    """
    return per_class_from(*marginals(cm))


def marginals(cm: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The diagonal (true positives), row sums (support) and column sums (predicted) of ``cm``: every
    score here depends on the matrix only through these three ``(..., K)`` arrays."""
    cm = np.asarray(cm)
    return np.diagonal(cm, axis1=-2, axis2=-1), cm.sum(axis=-1), cm.sum(axis=-2)


def cell_marginals(weights: np.ndarray, true: np.ndarray, pred: np.ndarray, k: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`marginals` of many confusion matrices given as counts over a list of cells, without building
    the matrices: ``weights`` is ``(m, c)`` counts of the cells whose true and predicted classes are
    ``true`` and ``pred`` (each ``(c,)``). Costs O(m (c + K)) instead of O(m K^2)."""
    m = weights.shape[0]
    offsets = (np.arange(m) * k)[:, None]

    def sums(index: np.ndarray, w: np.ndarray) -> np.ndarray:
        flat = (offsets + index[None, :]).reshape(-1)
        return np.bincount(flat, weights=w.reshape(-1), minlength=m * k).reshape(m, k)

    diagonal = true == pred
    return sums(true[diagonal], weights[:, diagonal]), sums(true, weights), sums(pred, weights)


def per_class_from(tp: np.ndarray, support: np.ndarray, predicted: np.ndarray) -> dict[str, np.ndarray]:
    """`per_class_scores` from the three `marginals`."""
    tp = np.asarray(tp, dtype=np.float64)
    return {
        "precision": _ratio(tp, predicted),
        "recall": _ratio(tp, support),
        "f1": _ratio(2.0 * tp, predicted + support),
        "support": support,
        "predicted": predicted,
    }


def summary_scores(cm: np.ndarray) -> dict[str, np.ndarray]:
    """All summary scores of `SUMMARY_KEYS` for one or many confusion matrices.

    Macro averages run over every class, absent ones included (scikit-learn with ``labels=``
    and ``zero_division=0``). Balanced accuracy averages recall over the classes that have
    support, as `sklearn.metrics.balanced_accuracy_score` does.
    """
    return summary_from(*marginals(cm))


def summary_from(tp: np.ndarray, support: np.ndarray, predicted: np.ndarray) -> dict[str, np.ndarray]:
    """`summary_scores` from the three `marginals` (trace and total follow from them)."""
    per = per_class_from(tp, support, predicted)
    support = np.asarray(support, dtype=np.float64)
    predicted = np.asarray(predicted, dtype=np.float64)
    n = support.sum(axis=-1)
    trace = np.asarray(tp, dtype=np.float64).sum(axis=-1)
    accuracy = _ratio(trace, n)
    has_support = support > 0
    balanced = _ratio((per["recall"] * has_support).sum(axis=-1), has_support.sum(axis=-1))
    return {
        "accuracy": accuracy,
        "balanced_accuracy": balanced,
        "macro_precision": per["precision"].mean(axis=-1),
        "macro_recall": per["recall"].mean(axis=-1),
        "macro_f1": per["f1"].mean(axis=-1),
        # Single-label multiclass over all classes: micro P = R = F1 = accuracy.
        "micro_precision": accuracy,
        "micro_recall": accuracy,
        "micro_f1": accuracy,
        "weighted_precision": _ratio((per["precision"] * support).sum(axis=-1), n),
        "weighted_recall": _ratio((per["recall"] * support).sum(axis=-1), n),
        "weighted_f1": _ratio((per["f1"] * support).sum(axis=-1), n),
        "cohen_kappa": _kappa(trace, support, predicted, n),
        "mcc": _mcc(trace, support, predicted, n),
    }


def _kappa(trace: np.ndarray, support: np.ndarray, predicted: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Cohen's kappa ``(p_o - p_e) / (1 - p_e)``; 0.0 where ``p_e == 1`` (undefined)."""
    chance = (support * predicted).sum(axis=-1)  # = n^2 * p_e
    return _ratio(trace * n - chance, n * n - chance)


def _mcc(trace: np.ndarray, support: np.ndarray, predicted: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Multiclass Matthews correlation (Gorodkin's R_K); 0.0 where undefined, as scikit-learn."""
    cov_tp = trace * n - (support * predicted).sum(axis=-1)
    cov_pp = n * n - (predicted * predicted).sum(axis=-1)
    cov_tt = n * n - (support * support).sum(axis=-1)
    return _ratio(cov_tp, np.sqrt(cov_tt * cov_pp))


def undefined_scores(cm: np.ndarray) -> dict[str, list[int]]:
    """Which per-class scores and summary scores of one ``(K, K)`` matrix are undefined.

    Returns class indices for ``precision`` (never predicted), ``recall`` (no support) and
    ``f1`` (neither), and ``[0]`` under ``cohen_kappa`` / ``mcc`` when those are undefined.
    """
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    n = float(cm.sum())
    chance = float((support.astype(np.float64) * predicted).sum())
    cov_pp = n * n - float((predicted.astype(np.float64) ** 2).sum())
    cov_tt = n * n - float((support.astype(np.float64) ** 2).sum())
    return {
        "precision": np.flatnonzero(predicted == 0).tolist(),
        "recall": np.flatnonzero(support == 0).tolist(),
        "f1": np.flatnonzero((predicted + support) == 0).tolist(),
        "cohen_kappa": [0] if n * n - chance == 0 else [],
        "mcc": [0] if cov_pp * cov_tt == 0 else [],
    }


def most_confused_pairs(cm: np.ndarray, top: int = 10) -> list[tuple[int, int, int, int]]:
    """Unordered class pairs ranked by confusions in both directions.

    Returns up to ``top`` tuples ``(a, b, a_as_b, b_as_a)`` with ``a < b`` and a non-zero total,
    sorted by total count, then by the larger direction, then by class index.
    """
    k = cm.shape[0]
    a, b = np.triu_indices(k, 1)
    ab = cm[a, b]
    ba = cm[b, a]
    total = ab + ba
    keep = np.flatnonzero(total > 0)
    order = sorted(keep, key=lambda i: (-int(total[i]), -int(max(ab[i], ba[i])), int(a[i]), int(b[i])))
    return [(int(a[i]), int(b[i]), int(ab[i]), int(ba[i])) for i in order[:top]]


def indistinguishable_ceiling(cm: np.ndarray, groups: list[list[int]]) -> np.ndarray:
    """The expected confusion matrix of the best a model can do when each group of classes is
    indistinguishable from its inputs (labels assigned independently of the text, e.g. by a hash).

    Rows predicted into a group keep their group; within it the label is independent of
    everything the model sees, so the predictions landing in the group are redistributed in
    proportion to the group's true frequencies (guessing at the base rates, in expectation). With
    equal base rates, as a parity split gives, no policy does better on accuracy. Scoring the
    result with `summary_scores` gives the accuracy and macro-F1 ceiling the construction implies,
    given how often the model gets the group itself right.
    """
    out = cm.astype(np.float64).copy()
    for group in groups:
        idx = np.array(group)
        share = cm[idx, :].sum(axis=1).astype(np.float64)
        share = share / share.sum() if share.sum() else np.full(len(idx), 1.0 / len(idx))
        into_group = out[:, idx].sum(axis=1)  # every true class's predictions landing in the group
        out[:, idx] = into_group[:, None] * share[None, :]
    return out
