"""ECE, MCE and adaptive ECE against the formulas written out here."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given

from runcard.metrics.calibration_error import (
    adaptive_calibration_error,
    equal_mass_bins,
    equal_width_bins,
    expected_calibration_error,
    max_calibration_error,
)
from runcard.metrics.probabilistic import row_statistics
from tests.conftest import prediction_cases


def reference_width_bins(conf: np.ndarray, correct: np.ndarray, bins: int) -> list[tuple[int, float]]:
    """(size, |acc - conf|) per non-empty bin (i/B, (i+1)/B], confidence 0 in the first."""
    out = []
    for i in range(bins):
        lo, hi = i / bins, (i + 1) / bins
        mask = (conf > lo) & (conf <= hi)
        if i == 0:
            mask |= conf == 0
        if mask.any():
            out.append((int(mask.sum()), abs(correct[mask].mean() - conf[mask].mean())))
    return out


def reference_mass_ece(conf: np.ndarray, correct: np.ndarray, bins: int) -> float:
    """Sort by confidence, split with numpy.array_split, weight each bin's gap by its size."""
    order = np.argsort(conf, kind="stable")
    total = 0.0
    for idx in np.array_split(order, bins):
        if len(idx):
            total += len(idx) * abs(correct[idx].mean() - conf[idx].mean())
    return total / len(conf)


@given(prediction_cases(max_classes=20))
def test_ece_and_mce_match_the_formula(case: tuple[np.ndarray, np.ndarray]) -> None:
    codes, probs = case
    rows = row_statistics(probs, codes)
    for bins in (1, 10, 15):
        ref = reference_width_bins(rows.confidence, rows.correct, bins)
        ece = sum(n * g for n, g in ref) / len(codes)
        assert expected_calibration_error(codes, probs, bins=bins) == pytest.approx(ece, abs=1e-12)
        assert max_calibration_error(codes, probs, bins=bins) == pytest.approx(max(g for _, g in ref), abs=1e-12)


@given(prediction_cases(max_classes=20))
def test_adaptive_ece_matches_sort_and_split(case: tuple[np.ndarray, np.ndarray]) -> None:
    codes, probs = case
    rows = row_statistics(probs, codes)
    for bins in (1, 10, 15):
        expected = reference_mass_ece(rows.confidence, rows.correct.astype(float), bins)
        assert adaptive_calibration_error(codes, probs, bins=bins) == pytest.approx(expected, abs=1e-12)


def test_edges_belong_to_the_lower_bin() -> None:
    conf = np.array([0.0, 0.2, 0.2000001, 0.4, 1.0, 0.6, 0.7, 0.8])
    bins = equal_width_bins(conf, np.ones(len(conf), dtype=bool), 5)
    # (0, .2] holds 0.0 and 0.2; (.2, .4] holds 0.2000001 and 0.4; (.4, .6] holds 0.6; (.6, .8] holds 0.7, 0.8.
    assert bins.count.tolist() == [2, 2, 1, 2, 1]


def test_float_edges_are_respected_for_many_bins() -> None:
    # i/B computed in floating point: every edge value itself must land in the bin it closes.
    for bins in (3, 7, 10, 15, 49, 100):
        edges = np.arange(1, bins + 1) / bins
        result = equal_width_bins(edges, np.ones(bins, dtype=bool), bins)
        assert result.count.tolist() == [1] * bins, bins


def test_adaptive_bins_keep_ties_together_and_ignore_row_order(rng: np.random.Generator) -> None:
    conf = np.repeat([0.5, 0.7, 0.9], [5, 3, 4])
    correct = rng.random(len(conf)) < conf
    a = equal_mass_bins(conf, correct, 4)
    order = rng.permutation(len(conf))
    b = equal_mass_bins(conf[order], correct[order], 4)
    assert a.ece() == b.ece()
    assert a.count.sum() == len(conf)
    for lower, upper in zip(a.lower[a.count > 0], a.upper[a.count > 0]):
        assert lower == upper  # each tied group sits whole in one bin


def test_more_bins_than_rows_leaves_bins_empty() -> None:
    conf = np.array([0.3, 0.9])
    correct = np.array([False, True])
    bins = equal_mass_bins(conf, correct, 5)
    assert bins.count.sum() == 2
    assert bins.ece() == pytest.approx(reference_mass_ece(conf, correct.astype(float), 5))


def test_values_one_ulp_from_an_edge_follow_the_formula() -> None:
    for bins in (7, 10, 15, 100):
        edges = np.arange(bins + 1) / bins
        conf = np.concatenate([edges, np.nextafter(edges, 2.0), np.nextafter(edges, -1.0)])
        conf = conf[(conf >= 0) & (conf <= 1)]
        got = equal_width_bins(conf, np.ones(len(conf), dtype=bool), bins).count
        expected = [
            int((((conf > i / bins) & (conf <= (i + 1) / bins)) | ((conf == 0) & (i == 0))).sum())
            for i in range(bins)
        ]
        assert got.tolist() == expected, bins
