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


def equal_width_bins(confidence: np.ndarray, correct: np.ndarray, bins: int) -> Bins:
    """Reliability bins ``(i/B, (i+1)/B]`` (0 goes to the first bin)."""
    edges = np.arange(bins + 1, dtype=np.float64) / bins
    scaled = confidence * bins
    upper = np.ceil(scaled)
    # conf * B can round onto or across an integer; settle rows near one against the float edges.
    gap = upper - scaled  # in [0, 1): near 0 or near 1 means conf * B sits next to an integer
    near = np.flatnonzero((gap < 1e-6) | (gap > 1.0 - 1e-6))
    index = upper.astype(np.int64)
    index[near] = np.searchsorted(edges, confidence[near], side="left")
    index -= 1
    np.clip(index, 0, bins - 1, out=index)
    count_and_correct = np.bincount(index * 2 + correct, minlength=2 * bins).reshape(bins, 2)
    return Bins(
        lower=edges[:-1],
        upper=edges[1:],
        count=count_and_correct.sum(axis=1),
        confidence_sum=np.bincount(index, weights=confidence, minlength=bins),
        correct=count_and_correct[:, 1].astype(np.float64),
    )


def equal_mass_bins(confidence: np.ndarray, correct: np.ndarray, bins: int) -> Bins:
    """Adaptive bins holding (about) the same number of rows each; see the module docstring."""
    n = len(confidence)
    ordered = np.sort(confidence)
    size, extra = divmod(n, bins)
    starts = np.array([b * size + min(b, extra) for b in range(1, bins)], dtype=np.int64)
    # Bin b holds confidences in [edge_b, edge_{b+1}); a start past the end leaves a bin empty.
    edges = np.where(starts < n, ordered[np.minimum(starts, n - 1)], np.inf)
    cut = np.concatenate([[0], np.searchsorted(ordered, edges, side="left"), [n]])
    count = np.diff(cut)
    # Count the correct rows per bin through whichever of correct / wrong is the smaller set.
    correct = correct.astype(bool, copy=False)
    n_correct = int(np.count_nonzero(correct))
    minority = np.sort(confidence[correct] if 2 * n_correct <= n else confidence[~correct])
    cut_minority = np.concatenate([[0], np.searchsorted(minority, edges, side="left"), [len(minority)]])
    in_minority = np.diff(cut_minority)
    correct_count = in_minority if 2 * n_correct <= n else count - in_minority
    running = np.concatenate([[0.0], np.cumsum(ordered)])
    full = count > 0
    lower = np.full(bins, np.nan)
    upper = np.full(bins, np.nan)
    lower[full] = ordered[cut[:-1][full]]
    upper[full] = ordered[cut[1:][full] - 1]
    return Bins(
        lower=lower,
        upper=upper,
        count=count,
        confidence_sum=running[cut[1:]] - running[cut[:-1]],
        correct=correct_count.astype(np.float64),
    )


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
