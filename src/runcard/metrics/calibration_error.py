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


@dataclass(frozen=True)
class SortedConfidence:
    """Confidences in ascending order with each one's correct flag (1/0) alongside: both binnings
    are cuts of these two arrays, so one sort serves equal-width and equal-mass bins alike."""

    ordered: np.ndarray
    correct: np.ndarray  # int64, in the order of ``ordered``


def sort_confidence(confidence: np.ndarray, correct: np.ndarray) -> SortedConfidence:
    """Sort ``confidence`` ``(N,)``, carrying ``correct`` ``(N,)`` along.

    Confidences in ``[0, 2)`` (every top-label confidence) are sorted as one int64 key, the float's
    bits shifted left with the correct flag in the freed low bit: a non-negative float orders like
    its bits, so one plain sort replaces an argsort and two gathers. Others take the argsort.
    """
    confidence = np.ascontiguousarray(confidence, dtype=np.float64)
    correct = np.asarray(correct).astype(bool, copy=False)
    if not (len(confidence) and confidence.min() >= 0 and confidence.max() < 2.0):  # NaN fails too
        order = np.argsort(confidence, kind="stable")
        return SortedConfidence(ordered=confidence[order], correct=correct[order].astype(np.int64))
    key = np.left_shift(confidence.view(np.int64), 1)
    np.bitwise_or(key, correct, out=key)
    key.sort()
    return SortedConfidence(ordered=np.right_shift(key, 1).view(np.float64), correct=key & 1)


def equal_width_bins(confidence: np.ndarray, correct: np.ndarray, bins: int) -> Bins:
    """Reliability bins ``(i/B, (i+1)/B]`` (0 goes to the first bin)."""
    return width_bins_from_sorted(sort_confidence(confidence, correct), bins)


def width_bins_from_sorted(rows: SortedConfidence, bins: int) -> Bins:
    """`equal_width_bins` of sorted confidences: the bin ends are ``searchsorted`` against the same
    float edges ``i/B`` a comparison ``lo < conf <= hi`` uses, so values at or next to an edge fall
    exactly as that comparison says (below 0 in the first bin, above 1 in the last)."""
    edges = np.arange(bins + 1, dtype=np.float64) / bins
    cut = np.concatenate([[0], np.searchsorted(rows.ordered, edges[1:-1], side="right"), [len(rows.ordered)]])
    count, confidence_sum, correct = _cut_sums(rows, cut)
    return Bins(lower=edges[:-1], upper=edges[1:], count=count, confidence_sum=confidence_sum, correct=correct)


def equal_mass_bins(confidence: np.ndarray, correct: np.ndarray, bins: int) -> Bins:
    """Adaptive bins holding (about) the same number of rows each; see the module docstring."""
    return mass_bins_from_sorted(sort_confidence(confidence, correct), bins)


def mass_bins_from_sorted(rows: SortedConfidence, bins: int) -> Bins:
    """`equal_mass_bins` of sorted confidences."""
    ordered = rows.ordered
    n = len(ordered)
    size, extra = divmod(n, bins)
    starts = np.array([b * size + min(b, extra) for b in range(1, bins)], dtype=np.int64)
    # Bin b holds confidences in [edge_b, edge_{b+1}); a start past the end leaves a bin empty.
    edges = np.where(starts < n, ordered[np.minimum(starts, n - 1)], np.inf) if n else np.full(bins - 1, np.inf)
    cut = np.concatenate([[0], np.searchsorted(ordered, edges, side="left"), [n]])
    count, confidence_sum, correct = _cut_sums(rows, cut)
    full = count > 0
    lower = np.full(bins, np.nan)
    upper = np.full(bins, np.nan)
    lower[full] = ordered[cut[:-1][full]]
    upper[full] = ordered[cut[1:][full] - 1]
    return Bins(lower=lower, upper=upper, count=count, confidence_sum=confidence_sum, correct=correct)


def _cut_sums(rows: SortedConfidence, cut: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, confidence sum and correct rows of each run ``cut[i]:cut[i+1]`` of the sorted rows."""
    count = np.diff(cut)
    confidence_sum = np.zeros(len(count))
    correct = np.zeros(len(count))
    full = count > 0
    if full.any():  # reduceat sums from each non-empty run's start to the next one's
        starts = cut[:-1][full]
        confidence_sum[full] = np.add.reduceat(rows.ordered, starts)
        correct[full] = np.add.reduceat(rows.correct, starts)
    return count, confidence_sum, correct


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
