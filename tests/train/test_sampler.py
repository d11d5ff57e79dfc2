"""Sampled class shares against expected_rates, within binomial tolerance."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from runcard.errors import InputError
from runcard.train.sampler import expected_rates, make_sampler, sample_weights

LABELS = np.repeat([0, 1, 2], [700, 250, 50])
DRAWS = 20_000


def empirical_shares(multipliers: list[float] | None, seed: int = 0) -> np.ndarray:
    sampler = make_sampler(LABELS, 3, multipliers, num_samples=DRAWS, seed=seed)
    rows = np.fromiter(iter(sampler), dtype=np.int64, count=DRAWS)
    return np.bincount(LABELS[rows], minlength=3) / DRAWS


def assert_binomial(shares: np.ndarray, rates: np.ndarray) -> None:
    se = np.sqrt(rates * (1 - rates) / DRAWS)
    assert np.all(np.abs(shares - rates) <= 4.5 * se), (shares, rates)


@pytest.mark.parametrize("multipliers", [None, [1.0, 1.0, 1.0], [1.0, 1.0, 3.0], [1 / 700, 1 / 250, 1 / 50]])
def test_shares_match_expected_rates(multipliers: list[float] | None) -> None:
    rates = expected_rates(np.bincount(LABELS), multipliers)
    assert_binomial(empirical_shares(multipliers), rates)


def test_ones_give_natural_distribution() -> None:
    np.testing.assert_allclose(expected_rates([700, 250, 50], [1, 1, 1]), [0.7, 0.25, 0.05])
    np.testing.assert_allclose(expected_rates([700, 250, 50]), [0.7, 0.25, 0.05])


def test_multiplier_triples_minority_odds() -> None:
    base = expected_rates([700, 250, 50])
    boosted = expected_rates([700, 250, 50], [1, 1, 3])
    odds = boosted / base
    # Relative to the other classes, class 2 is three times as likely.
    assert odds[2] / odds[0] == pytest.approx(3.0)
    assert odds[1] / odds[0] == pytest.approx(1.0)
    np.testing.assert_allclose(boosted, np.array([700, 250, 150]) / 1100)


def test_sample_weights_per_row() -> None:
    w = sample_weights([0, 2, 1, 2], 3, [1.0, 0.5, 3.0])
    np.testing.assert_array_equal(w, [1.0, 3.0, 0.5, 3.0])
    np.testing.assert_array_equal(sample_weights([0, 1, 1], 2), np.ones(3))


def test_same_seed_same_draw() -> None:
    a = list(make_sampler(LABELS, 3, [1, 1, 3], seed=7))
    b = list(make_sampler(LABELS, 3, [1, 1, 3], seed=7))
    c = list(make_sampler(LABELS, 3, [1, 1, 3], seed=8))
    assert a == b and a != c
    sampler = make_sampler(LABELS, 3, seed=1)
    assert len(sampler) == len(LABELS) == len(list(sampler))
    assert sampler.replacement


@pytest.mark.parametrize("args", [([0, 3], 3, None), ([0, 1], 2, [1.0]), ([0, 1], 2, [1.0, -1.0]),
                                  ([0.5, 1.0], 2, None), ([0, 0], 2, [0.0, 1.0])])
def test_rejects_bad_input(args: tuple) -> None:
    with pytest.raises(InputError):
        sample_weights(*args)


def test_rejects_zero_num_samples() -> None:
    with pytest.raises(InputError, match="num_samples"):
        make_sampler([0, 1], 2, num_samples=0)
