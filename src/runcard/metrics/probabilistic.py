"""Scores of the predicted probabilities themselves: log loss, Brier score, top-k accuracy.

The ``*_from_*`` functions take intermediates that `runcard.evaluate` computes in its one
pass over the matrix (`row_statistics`: the probability of the true class, its rank, the sum
of squares), so a full evaluation reads the matrix once. The public functions take
``(y_true, y_prob)`` like scikit-learn.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from runcard.checks import as_matrix, check_probabilities, encode_labels
from runcard.errors import InputError
from runcard.metrics.row_scan import row_statistics

#: Probabilities are clipped to [EPS, 1 - EPS] before the log, as scikit-learn's log_loss does.
EPS = float(np.finfo(np.float64).eps)


def gather(probs: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``probs[i, codes[i]]`` for every row, via one flat take (faster than fancy 2-D indexing)."""
    k = probs.shape[1]
    flat_index = np.arange(len(codes), dtype=np.int64) * k + codes
    return np.take(probs.reshape(-1), flat_index)


def log_loss_from_true_prob(p_true: np.ndarray) -> float:
    """Mean negative log-likelihood (natural log) given the probability of each true class."""
    logs = np.clip(p_true, EPS, 1.0 - EPS)
    np.log(logs, out=logs)
    return -float(logs.mean())  # negating the mean, not each term: the same float, one pass fewer


def brier_from_true_prob(probs: np.ndarray, p_true: np.ndarray) -> float:
    """Multiclass Brier score: mean over rows of ``sum_k (p_k - onehot_k)^2``.

    Expanded as ``sum_k p_k^2 - 2 p_true + 1`` so the matrix is read once (one BLAS dot).
    """
    flat = probs.reshape(-1)
    return brier_from_square_sum(float(np.dot(flat, flat)), p_true)


def brier_from_square_sum(square_sum: float, p_true: np.ndarray) -> float:
    """Multiclass Brier score from the sum of all squared probabilities (`RowStats.square_sum`)."""
    n = len(p_true)
    return (square_sum - 2.0 * float(p_true.sum()) + n) / n


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
