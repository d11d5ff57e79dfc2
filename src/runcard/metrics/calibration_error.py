"""Calibration errors of the top-label confidence: ECE, MCE, adaptive ECE, reliability bins.

Confidence is the largest probability of a row; a row is correct when its argmax is the true
class. Equal-width bins are ``(i/B, (i+1)/B]`` with a confidence of exactly 0 in the first bin.
Equal-mass (adaptive) bins split the sorted confidences into ``B`` runs of sizes as
``numpy.array_split`` gives them; equal confidences never straddle a boundary (a tied group
joins the upper bin), which keeps the result independent of row order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from runcard.checks import as_matrix, check_probabilities, encode_labels
from runcard.errors import InputError
from runcard.metrics.confidence_buckets import bin_sums, bucket_rows, gather
from runcard.metrics.probabilistic import row_statistics


@dataclass(frozen=True)
class Bins:
    """Per-bin counts and means; ``lower``/``upper`` are the bin's edges (equal-width) or the
    smallest/largest confidence inside it (equal-mass, NaN when empty)."""

    lower: np.ndarray
    upper: np.ndarray
    count: np.ndarray
    confidence_sum: np.ndarray
    correct: np.ndarray

    @property
    def mean_confidence(self) -> np.ndarray:
        """Mean confidence per bin (NaN for an empty bin)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.count > 0, self.confidence_sum / self.count, np.nan)

    @property
    def accuracy(self) -> np.ndarray:
        """Share of correct rows per bin (NaN for an empty bin)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.count > 0, self.correct / self.count, np.nan)

    def gaps(self) -> np.ndarray:
        """``|accuracy - mean confidence|`` of the non-empty bins."""
        full = self.count > 0
        return np.abs(self.correct[full] - self.confidence_sum[full]) / self.count[full]

    def ece(self) -> float:
        """Expected calibration error: bin gaps weighted by bin size (L1)."""
        full = self.count > 0
        return float(np.abs(self.correct[full] - self.confidence_sum[full]).sum() / self.count.sum())

    def mce(self) -> float:
        """Maximum calibration error: the largest gap over non-empty bins."""
        gaps = self.gaps()
        return float(gaps.max()) if len(gaps) else 0.0


def check_bins(bins: int) -> int:
    """Validate a bin count (an int >= 1)."""
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise InputError(f"bins: expected a whole number >= 1, got {bins!r}.")
    return int(bins)


def calibration_bins(confidence: np.ndarray, correct: np.ndarray, bins: int) -> tuple[Bins, Bins]:
    """Equal-width and equal-mass `Bins` of the same rows (``confidence`` and ``correct``, ``(N,)``).

    Both come from one bucketing of the confidences (`runcard.metrics.confidence_buckets`) and one
    gather of the rows in the buckets that matter: those straddling a width edge ``i/B``, those
    holding an equal-mass bin's first row (whose value is that bin's edge) and the bucket below
    each, where the bin before it ends. Bin ``b`` of equal mass holds the confidences in
    ``[edge_b, edge_{b+1})``, so a tied group never straddles two bins.
    """
    rows = bucket_rows(confidence, correct)
    n = len(rows.confidence)
    width_edges = np.arange(bins + 1, dtype=np.float64) / bins
    interior = width_edges[1:-1]
    lowest, highest = rows.side_of(interior, "left")
    chosen = lowest != highest
    size, extra = divmod(n, bins)
    starts = np.array([b * size + min(b, extra) for b in range(1, bins)], dtype=np.int64)
    inside = starts < n  # a start past the end leaves its bin, and those above, empty
    below = rows.before[rows.holding(starts[inside])] - 1
    ranks = np.concatenate([starts[inside], below[below >= 0], [0, n - 1] if n else []]).astype(np.int64)
    chosen[rows.holding(ranks)] = True
    gathered = gather(rows, chosen)
    count, confidence_sum, right = bin_sums(rows, gathered, chosen, interior, "left")
    width = Bins(lower=width_edges[:-1], upper=width_edges[1:], count=count, confidence_sum=confidence_sum,
                 correct=right)
    mass_edges = np.full(bins - 1, np.nan)  # NaN sorts above every value, +inf included
    mass_edges[inside] = gathered.at_rank(rows, starts[inside])
    count, confidence_sum, right = bin_sums(rows, gathered, chosen, mass_edges, "right")
    cut = np.concatenate([[0], np.cumsum(count)])
    full = count > 0
    lower = np.full(bins, np.nan)
    upper = np.full(bins, np.nan)
    lower[full] = gathered.at_rank(rows, cut[:-1][full])
    upper[full] = gathered.at_rank(rows, cut[1:][full] - 1)
    mass = Bins(lower=lower, upper=upper, count=count, confidence_sum=confidence_sum, correct=right)
    return width, mass


def equal_width_bins(confidence: np.ndarray, correct: np.ndarray, bins: int) -> Bins:
    """Reliability bins ``(i/B, (i+1)/B]`` (0, and anything below, in the first bin; above 1 in the last)."""
    return calibration_bins(confidence, correct, bins)[0]


def equal_mass_bins(confidence: np.ndarray, correct: np.ndarray, bins: int) -> Bins:
    """Adaptive bins holding (about) the same number of rows each; see the module docstring."""
    return calibration_bins(confidence, correct, bins)[1]


def _confidence_and_correct(y_true: Any, y_prob: Any, classes: Any) -> tuple[np.ndarray, np.ndarray]:
    probs = check_probabilities(as_matrix(y_prob, "y_prob"))
    codes, _ = encode_labels(y_true, classes, probs.shape[1])
    rows = row_statistics(probs, codes)
    return rows.confidence, rows.correct


def expected_calibration_error(y_true: Any, y_prob: Any, *, bins: int = 15, classes: Any = None) -> float:
    """Top-label ECE with ``bins`` equal-width bins (L1, weighted by bin size).

    >>> expected_calibration_error([0, 0], [[0.9, 0.1], [0.6, 0.4]], bins=10)
    0.25
    """
    confidence, correct = _confidence_and_correct(y_true, y_prob, classes)
    return equal_width_bins(confidence, correct, check_bins(bins)).ece()


def max_calibration_error(y_true: Any, y_prob: Any, *, bins: int = 15, classes: Any = None) -> float:
    """Largest ``|accuracy - confidence|`` over the non-empty equal-width bins."""
    confidence, correct = _confidence_and_correct(y_true, y_prob, classes)
    return equal_width_bins(confidence, correct, check_bins(bins)).mce()


def adaptive_calibration_error(y_true: Any, y_prob: Any, *, bins: int = 15, classes: Any = None) -> float:
    """Top-label ECE over ``bins`` equal-mass bins."""
    confidence, correct = _confidence_and_correct(y_true, y_prob, classes)
    return equal_mass_bins(confidence, correct, check_bins(bins)).ece()
