"""Both binnings from buckets of floats against the plain definition: sort everything, then cut."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runcard.metrics.calibration_error import Bins, calibration_bins
from runcard.metrics.confidence_buckets import bucket_rows, gather


def reference(conf: np.ndarray, correct: np.ndarray, bins: int) -> tuple[Bins, Bins]:
    """Equal-width bins by the comparison ``i/B < c <= (i+1)/B`` (anything at or below the first edge in
    the first bin, above the last in the last); equal-mass bins by sorting and cutting at the
    ``numpy.array_split`` starts, a tied group moved whole into the upper bin."""
    edges = np.arange(bins + 1) / bins
    index = np.zeros(len(conf), dtype=np.int64)
    for i in range(1, bins):
        index[conf > edges[i]] = i
    width = Bins(lower=edges[:-1], upper=edges[1:], count=np.bincount(index, minlength=bins),
                 confidence_sum=np.bincount(index, weights=conf, minlength=bins),
                 correct=np.bincount(index, weights=correct, minlength=bins))
    order = np.argsort(conf, kind="stable")
    ordered, right = conf[order], correct[order].astype(float)
    n = len(ordered)
    starts = [len(part) for part in np.array_split(np.arange(n), bins)]
    starts = np.cumsum(starts)[:-1]
    cut = [0]
    for s in starts:
        cut.append(int(np.searchsorted(ordered, ordered[s], side="left")) if s < n else n)
    cut.append(n)
    count = np.diff(cut)
    lower = np.array([ordered[a] if b > a else np.nan for a, b in itertools.pairwise(cut)])
    upper = np.array([ordered[b - 1] if b > a else np.nan for a, b in itertools.pairwise(cut)])
    mass = Bins(lower=lower, upper=upper, count=count,
                confidence_sum=np.array([ordered[a:b].sum() for a, b in itertools.pairwise(cut)]),
                correct=np.array([right[a:b].sum() for a, b in itertools.pairwise(cut)]))
    return width, mass


def assert_same(got: Bins, expected: Bins) -> None:
    """Counts and bounds exactly; sums to the rounding of adding N numbers in another order (bincount adds in
    row order, up to N x eps relative; the reference adds pairwise)."""
    assert got.count.tolist() == expected.count.tolist()
    np.testing.assert_array_equal(got.lower, expected.lower)
    np.testing.assert_array_equal(got.upper, expected.upper)
    rtol = max(1e-12, 2 * int(got.count.sum()) * np.finfo(np.float64).eps)
    np.testing.assert_allclose(got.confidence_sum, expected.confidence_sum, rtol=rtol, atol=1e-300)
    np.testing.assert_array_equal(got.correct, expected.correct)  # whole numbers, exact


def check(conf: np.ndarray, correct: np.ndarray) -> None:
    for bins in (1, 2, 7, 10, 15, 100):
        width, mass = calibration_bins(conf, correct, bins)
        ref_width, ref_mass = reference(conf, correct, bins)
        assert_same(width, ref_width)
        assert_same(mass, ref_mass)


#: Values that put rows on, next to and far from the edges, and force wide bucket spans.
SPECIAL = [0.0, 5e-324, 1e-300, 1e-12, 0.1, 1 / 15, 2 / 15, 0.2, np.nextafter(0.2, 1), np.nextafter(0.2, 0),
           1 / 3, 0.5, 0.7, 14 / 15, np.nextafter(1.0, 0), 1.0]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(SPECIAL), st.floats(0.0, 1.0)), max_size=300))
def test_equal_to_sorting_on_any_confidences(values: list[float]) -> None:
    conf = np.array(values, dtype=np.float64)
    correct = np.array([hash((v, i)) % 3 == 0 for i, v in enumerate(values)], dtype=bool)
    check(conf, correct)


@pytest.mark.parametrize("case", ["uniform", "peaked", "ties", "one value", "wide", "few rows", "empty"])
def test_equal_to_sorting_on_large_inputs(case: str, rng: np.random.Generator) -> None:
    n = 200_000
    conf = {
        "uniform": rng.uniform(0.1, 1.0, n),
        "peaked": 1.0 - rng.exponential(1e-6, n).clip(0, 0.9),
        "ties": rng.choice([0.25, 0.5, 0.6, 1.0], n),
        "one value": np.full(n, 0.3),
        "wide": 10.0 ** rng.uniform(-300, 0, n),
        "few rows": np.array([0.3, 0.9, 0.3]),
        "empty": np.zeros(0),
    }[case]
    check(conf, rng.random(len(conf)) < conf)


@pytest.mark.parametrize("values", [[-0.1, 0.5, 0.2], [-0.0, 0.0, 0.5], [0.2, 0.2, -1.0], [0.4, np.nan, 0.1]])
def test_values_outside_the_bit_order_go_into_one_bucket_sorted_whole(values: list[float]) -> None:
    conf = np.array(values)
    assert len(bucket_rows(conf, conf > 0.3).count) == 1
    if not np.isnan(conf).any():  # NaN has no bin by the formula; the sort puts it last, as before
        check(conf, conf > 0.3)


def test_values_above_one_and_infinity_fall_in_the_last_bin() -> None:
    conf = np.array([0.5, 1.5, 3.0, np.inf, 0.05])
    assert len(bucket_rows(conf, conf > 0.3).count) > 1
    check(conf, conf > 0.3)


def test_only_the_rows_near_an_edge_are_gathered(rng: np.random.Generator) -> None:
    conf = rng.uniform(0.1, 1.0, 1_000_000)
    rows = bucket_rows(conf, conf > 0.5)
    chosen = rows.side_of(np.arange(1, 15) / 15, "left")
    straddling = chosen[0] != chosen[1]
    assert 0 < straddling.sum() <= 14
    assert len(gather(rows, straddling).ordered) < 0.01 * len(conf)
    assert rows.count.sum() == len(conf) and len(rows.count) <= 1 << 14
