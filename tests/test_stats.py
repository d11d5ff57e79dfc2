"""Cell-multinomial bootstrap, McNemar's exact test, and the normal and binomial tails (against scipy)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from runcard import evaluate
from runcard.metrics.classification import confusion_matrix, summary_scores
from runcard.stats import (
    binomial_cdf,
    binomial_sf,
    mcnemar_exact,
    normal_cdf,
    normal_ppf,
    normal_sf,
    percentile_interval,
    resample_cells,
)


def test_resamples_keep_the_total_and_the_empty_cells(rng: np.random.Generator) -> None:
    counts = np.array([[30, 0, 5], [2, 40, 0], [0, 7, 16]])
    draws = resample_cells(counts, 500, rng)
    assert draws.shape == (500, 3, 3)
    assert (draws.sum(axis=(1, 2)) == counts.sum()).all()
    assert (draws[:, counts == 0] == 0).all()
    np.testing.assert_allclose(draws.mean(axis=0), counts, rtol=0.1)


def test_resampling_is_seeded() -> None:
    counts = np.array([10, 20, 30])
    a = resample_cells(counts, 50, np.random.default_rng(7))
    b = resample_cells(counts, 50, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)


def test_cell_bootstrap_matches_the_row_bootstrap(rng: np.random.Generator) -> None:
    """Same spread of accuracy and macro-F1 as resampling rows with replacement."""
    k, n, draws = 4, 600, 4000
    codes = rng.integers(0, k, n)
    pred = np.where(rng.random(n) < 0.7, codes, rng.integers(0, k, n))
    cm = confusion_matrix(codes, pred, k)
    cell = summary_scores(resample_cells(cm, draws, np.random.default_rng(1)))
    rows = np.random.default_rng(2).integers(0, n, size=(draws, n))
    row_cms = np.stack([confusion_matrix(codes[r], pred[r], k) for r in rows])
    row = summary_scores(row_cms)
    for key in ("accuracy", "macro_f1"):
        assert cell[key].std() == pytest.approx(row[key].std(), rel=0.08), key
        assert cell[key].mean() == pytest.approx(row[key].mean(), abs=0.003), key


def _population_scores(confusion_probs: np.ndarray) -> dict[str, float]:
    """Scores of the population confusion distribution (large-N limit)."""
    return {k: float(v) for k, v in summary_scores(confusion_probs * 1e9).items()}


def test_ci_covers_the_true_value_at_about_the_nominal_rate() -> None:
    """Simulate many test sets from a known population; the 95 % CI should cover ~95 % of the time."""
    rng = np.random.default_rng(2024)
    k, n, trials = 3, 800, 400
    pop = rng.dirichlet(np.ones(k * k) * 0.5).reshape(k, k) + np.eye(k) * 0.6
    pop /= pop.sum()
    truth = _population_scores(pop)
    covered = {"accuracy": 0, "macro_f1": 0}
    for t in range(trials):
        cells = rng.multinomial(n, pop.reshape(-1)).reshape(k, k)
        codes = np.repeat(np.repeat(np.arange(k), k), cells.reshape(-1))
        pred = np.repeat(np.tile(np.arange(k), k), cells.reshape(-1))
        probs = np.full((n, k), 0.1 / (k - 1))
        probs[np.arange(n), pred] = 0.9
        ev = evaluate(codes, probs, n_boot=400, seed=t)
        for key in covered:
            lo, hi = ev.ci95[key]
            covered[key] += lo <= truth[key] <= hi
    # Binomial(400, 0.95) has sd 0.011; allow about 3 sd.
    for key, hits in covered.items():
        assert 0.915 <= hits / trials <= 0.985, (key, hits / trials)


def test_percentile_interval_brackets_the_middle() -> None:
    samples = np.arange(1001, dtype=float)
    lo, hi = percentile_interval(samples)
    assert lo == pytest.approx(25.0) and hi == pytest.approx(975.0)


@pytest.mark.parametrize(("b", "c"), [(0, 0), (0, 5), (3, 12), (10, 10), (25, 40), (1, 200)])
def test_mcnemar_exact_against_enumeration(b: int, c: int) -> None:
    n = b + c
    if n == 0:
        assert mcnemar_exact(b, c) == 1.0
        return
    tail = sum(math.comb(n, i) for i in range(min(b, c) + 1)) / 2**n
    assert mcnemar_exact(b, c) == pytest.approx(min(1.0, 2 * tail), rel=1e-12)


def test_mcnemar_textbook_value() -> None:
    # Discordant pairs 1 and 9: p = 2 * (1 + 10) / 1024 = 0.021484375 (exact binomial).
    assert mcnemar_exact(1, 9) == pytest.approx(0.021484375, rel=1e-12)


# The tails runcard computes itself (scipy.special alone costs `runcard eval` 0.2 s to import), against scipy.stats.

def _binomial_cases() -> list[tuple[int, int, float]]:
    rng = np.random.default_rng(18)
    cases = []
    for n in (1, 2, 7, 20, 31, 100, 1000, 7600, 100_000):
        for p in (1e-6, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.98, 1 - 1e-9, float(rng.random())):
            mean, sd = n * p, math.sqrt(n * p * (1 - p))
            ks = {0, 1, n - 2, n - 1, int(mean) - 1, int(mean), int(mean) + 1, *rng.integers(0, n + 1, 4).tolist()}
            ks |= {int(mean + z * sd) for z in (-10, -3, 3, 10)}  # beyond, scipy's own error passes 1e-12
            cases += [(k, n, p) for k in sorted(ks) if 0 <= k <= n]
    return cases


def test_binomial_tails_are_scipys() -> None:
    from scipy.stats import binom

    k, n, p = (np.array(v) for v in zip(*_binomial_cases()))
    for ours, theirs in ((binomial_cdf(k, n, p), binom.cdf(k, n, p)), (binomial_sf(k, n, p), binom.sf(k, n, p))):
        shown = theirs > 1e-300  # below, both underflow
        np.testing.assert_allclose(ours[shown], theirs[shown], rtol=1e-12, atol=0)
        assert (ours[~shown] <= 1e-290).all()


@pytest.mark.parametrize(("n", "p"), [(12, 0.3), (40, 0.5), (25, 0.97), (60, 0.02), (1000, 0.3), (1000, 0.999)])
def test_binomial_tails_against_the_exact_sum(n: int, p: float) -> None:
    """Against the sum of the pmf in exact rational arithmetic (p as the float it is), far tails included."""
    from fractions import Fraction

    num, den = Fraction(p).as_integer_ratio()
    terms = [math.comb(n, i) * num**i * (den - num) ** (n - i) for i in range(n + 1)]  # pmf(i) * den**n
    cum = np.cumsum(np.array(terms, dtype=object))
    sd = math.sqrt(n * p * (1 - p))
    ks = range(n + 1) if n <= 100 else sorted({0, 1, n - 1, *(int(n * p + z * sd) for z in (-30, -10, -1, 0, 3, 30))})
    for k in (k for k in ks if 0 <= k <= n):
        cdf, sf = float(Fraction(int(cum[k]), den**n)), float(Fraction(int(cum[-1] - cum[k]), den**n))
        assert binomial_cdf(k, n, p) == pytest.approx(cdf, rel=1e-12, abs=1e-300)
        assert binomial_sf(k, n, p) == pytest.approx(sf, rel=1e-12, abs=1e-300)


def test_binomial_ends_and_bad_arguments_as_scipy() -> None:
    from scipy.stats import binom

    k = np.array([-2, -1, 0, 1, 2.5, 3, 4, 9])
    for n, p in ((3, 0.0), (3, 1.0), (3, 0.4), (0, 0.5), (3, 1.5), (3, -0.1), (2.5, 0.5), (-1, 0.5)):
        np.testing.assert_allclose(binomial_cdf(k, n, p), binom.cdf(k, n, p), rtol=1e-12, err_msg=f"cdf {n} {p}")
        np.testing.assert_allclose(binomial_sf(k, n, p), binom.sf(k, n, p), rtol=1e-12, err_msg=f"sf {n} {p}")
    assert math.isnan(binomial_cdf(math.nan, 10, 0.5)) and math.isnan(binomial_sf(1, 10, math.nan))
    assert isinstance(binomial_cdf(3, 10, 0.5), float) and binomial_cdf([3], 10, 0.5).shape == (1,)


def test_normal_functions_are_scipys() -> None:
    from scipy.stats import norm

    z = np.concatenate([np.linspace(-38, 9, 4001), np.random.default_rng(1).normal(0, 3, 500), [0.0, -0.0]])
    for ours, theirs in ((normal_cdf(z), norm.cdf(z)), (normal_sf(z), norm.sf(z))):
        shown = theirs > 1e-300
        np.testing.assert_allclose(ours[shown], theirs[shown], rtol=1e-12, atol=0)
    q = np.concatenate([np.random.default_rng(2).random(2000), 10.0 ** -np.linspace(1, 300, 600),
                        1 - 10.0 ** -np.linspace(1, 15, 200), [0.5, 0.975]])
    np.testing.assert_allclose(normal_ppf(q), norm.ppf(q), rtol=1e-12, atol=1e-300)
    edges = np.array([0.0, 1.0, -0.5, 1.5, math.nan])
    np.testing.assert_array_equal(normal_ppf(edges), norm.ppf(edges))
    assert math.isnan(normal_cdf(math.nan)) and isinstance(normal_cdf(0.3), float)


@pytest.mark.parametrize(("b", "c"), [(0, 7), (4, 11), (30, 30), (2, 500), (700, 820)])
def test_mcnemar_is_scipys_binomtest(b: int, c: int) -> None:
    from scipy.stats import binomtest

    assert mcnemar_exact(b, c) == pytest.approx(binomtest(min(b, c), b + c, 0.5).pvalue, rel=1e-12)
