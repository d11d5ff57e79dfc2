"""Cell-multinomial bootstrap and McNemar's exact test."""

from __future__ import annotations

import math

import numpy as np
import pytest

from runcard import evaluate
from runcard.metrics.classification import confusion_matrix, summary_scores
from runcard.stats import mcnemar_exact, percentile_interval, resample_cells


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
