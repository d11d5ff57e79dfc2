"""Scores of the predicted probabilities themselves: log loss, Brier score, top-k accuracy.

The ``*_from_*`` functions take intermediates that `runcard.evaluate` computes once (the
probability of the true class, the argmax) so a full evaluation touches the matrix as few
times as possible. The public functions take ``(y_true, y_prob)`` like scikit-learn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from runcard.checks import as_matrix, check_probabilities, encode_labels
from runcard.errors import InputError

#: Probabilities are clipped to [EPS, 1 - EPS] before the log, as scikit-learn's log_loss does.
EPS = float(np.finfo(np.float64).eps)


def gather(probs: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``probs[i, codes[i]]`` for every row, via one flat take (faster than fancy 2-D indexing)."""
    k = probs.shape[1]
    flat_index = np.arange(len(codes), dtype=np.int64) * k + codes
    return np.take(probs.reshape(-1), flat_index)


def log_loss_from_true_prob(p_true: np.ndarray) -> float:
    """Mean negative log-likelihood (natural log) given the probability of each true class."""
    return float(-np.log(np.clip(p_true, EPS, 1.0 - EPS)).mean())


def brier_from_true_prob(probs: np.ndarray, p_true: np.ndarray) -> float:
    """Multiclass Brier score: mean over rows of ``sum_k (p_k - onehot_k)^2``.

    Expanded as ``sum_k p_k^2 - 2 p_true + 1`` so the matrix is read once (one BLAS dot).
    """
    flat = probs.reshape(-1)
    n = len(p_true)
    return (float(np.dot(flat, flat)) - 2.0 * float(p_true.sum()) + n) / n


@dataclass(frozen=True)
class RowStats:
    """Per-row facts every metric needs: argmax, its probability, the true class's probability
    and the true class's rank (0-based; ties rank the lower class index first, so rank 0 is
    exactly ``pred == true`` under numpy's first-maximum argmax)."""

    pred: np.ndarray
    p_true: np.ndarray
    confidence: np.ndarray
    correct: np.ndarray
    rank: np.ndarray


def row_statistics(probs: np.ndarray, codes: np.ndarray, pred: np.ndarray | None = None) -> RowStats:
    """Compute `RowStats` reading the matrix once in full and the misclassified rows once more.

    A correct row's confidence is its true-class probability and its rank is 0, so only the
    misclassified rows are gathered and ranked.
    """
    if pred is None:
        pred = probs.argmax(axis=1)
    p_true = gather(probs, codes)
    correct = pred == codes
    wrong = np.flatnonzero(~correct)
    sub = np.take(probs, wrong, axis=0)
    confidence = p_true.copy()
    confidence[wrong] = gather(sub, pred[wrong])
    rank = np.zeros(len(codes), dtype=np.int64)
    if len(wrong):
        rank[wrong] = _rank_in_rows(sub, p_true[wrong], codes[wrong])
    return RowStats(pred=pred, p_true=p_true, confidence=confidence, correct=correct, rank=rank)


def _rank_in_rows(rows: np.ndarray, value: np.ndarray, column: np.ndarray) -> np.ndarray:
    """How many entries of each row outrank ``rows[i, column[i]] == value[i]`` (ties: lower index)."""
    k = rows.shape[1]
    count_dtype = np.uint8 if k < 256 else np.int64
    ones = np.ones(k, dtype=count_dtype)
    target = value[:, None]
    rank = np.dot((rows > target).view(np.uint8).astype(count_dtype, copy=False), ones).astype(np.int64)
    equal = rows == target
    ties = np.flatnonzero(np.dot(equal.view(np.uint8).astype(count_dtype, copy=False), ones) > 1)
    if len(ties):
        lower = np.arange(k)[None, :] < column[ties][:, None]
        rank[ties] += (equal[ties] & lower).sum(axis=1)
    return rank


def top_k_from_rank(rank: np.ndarray, k: int) -> float:
    """Share of rows whose true class is among the ``k`` most probable."""
    return float(np.count_nonzero(rank < k)) / len(rank)


def log_loss(y_true: Any, y_prob: Any, *, classes: Any = None) -> float:
    """Mean negative log-likelihood, natural log, probabilities clipped to ``[eps, 1-eps]``.

    >>> round(log_loss([0, 1], [[0.9, 0.1], [0.2, 0.8]]), 6)
    0.164252
    """
    probs = check_probabilities(as_matrix(y_prob, "y_prob"))
    codes, _ = encode_labels(y_true, classes, probs.shape[1])
    return log_loss_from_true_prob(gather(probs, codes))


def brier_loss(y_true: Any, y_prob: Any, *, classes: Any = None) -> float:
    """Multiclass Brier score (lower is better), in ``[0, 2]``.

    >>> round(brier_loss([0, 1], [[0.9, 0.1], [0.2, 0.8]]), 6)
    0.05
    """
    probs = check_probabilities(as_matrix(y_prob, "y_prob"))
    codes, _ = encode_labels(y_true, classes, probs.shape[1])
    return brier_from_true_prob(probs, gather(probs, codes))


def top_k_accuracy_score(y_true: Any, y_prob: Any, *, k: int = 2, classes: Any = None) -> float:
    """Share of rows whose true class is among the ``k`` highest probabilities.

    Ties rank the lower class index first (so ``k=1`` equals accuracy under argmax).

    >>> top_k_accuracy_score([2, 1], [[0.5, 0.3, 0.2], [0.2, 0.5, 0.3]], k=2)
    0.5
    """
    probs = check_probabilities(as_matrix(y_prob, "y_prob"))
    codes, _ = encode_labels(y_true, classes, probs.shape[1])
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InputError(f"k: expected a whole number >= 1, got {k!r}.")
    return top_k_from_rank(row_statistics(probs, codes).rank, int(k))
