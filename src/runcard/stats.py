"""Resampling and tests for count-based metrics: cell-multinomial bootstrap, McNemar.

A row bootstrap of a count-based metric only ever changes how many rows fall in each cell of
the confusion matrix, and those counts are multinomial with the observed cell frequencies. So
drawing the cell counts directly gives the same distribution as resampling rows, at a cost that
depends on the number of non-empty cells, not on the number of rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

#: Confidence level of every interval runcard reports.
LEVEL = 0.95


def resample_cells(counts: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``n_boot`` multinomial resamples of a count array of any shape.

    Returns ``(n_boot, *counts.shape)`` int64 counts with the same total as ``counts``; empty
    cells stay empty, so only the non-empty ones are sampled.
    """
    flat = np.asarray(counts, dtype=np.int64).reshape(-1)
    total = int(flat.sum())
    occupied = np.flatnonzero(flat)
    out = np.zeros((n_boot, flat.size), dtype=np.int64)
    if total == 0:
        return out.reshape((n_boot, *np.shape(counts)))
    pvals = flat[occupied] / total
    out[:, occupied] = rng.multinomial(total, pvals, size=n_boot)
    return out.reshape((n_boot, *np.shape(counts)))


def resample_chunks(counts: np.ndarray, n_boot: int, rng: np.random.Generator, chunk: int
                    ) -> Iterator[np.ndarray]:
    """`resample_cells` of a 1-D ``counts`` in chunks of at most ``chunk`` resamples (``(m, len(counts))``
    each); the chunks continue one random stream, so their concatenation equals one big draw."""
    chunk = max(1, chunk)
    for start in range(0, n_boot, chunk):
        yield resample_cells(counts, min(chunk, n_boot - start), rng)


def percentile_interval(samples: np.ndarray, level: float = LEVEL) -> np.ndarray:
    """Equal-tailed percentile interval along axis 0: ``[lower, upper]`` (shape ``(2, ...)``)."""
    tail = (1.0 - level) / 2.0 * 100.0
    return np.percentile(samples, [tail, 100.0 - tail], axis=0)


def mcnemar_exact(only_a_right: int, only_b_right: int) -> float:
    """Exact two-sided McNemar p-value from the discordant pair counts.

    Under the null both kinds of discordant pair are equally likely, so the smaller count is
    Binomial(b + c, 1/2): ``p = min(1, 2 * P[X <= min(b, c)])``. With no discordant pairs the
    two systems made identical decisions and ``p = 1``.
    """
    discordant = only_a_right + only_b_right
    if discordant == 0:
        return 1.0
    from scipy.stats import binomtest  # imported on use: see normal_cdf

    return float(binomtest(min(only_a_right, only_b_right), discordant, 0.5).pvalue)


# scipy.stats costs ~0.6 s to import (it parses its own docstrings), scipy.special ~0.2 s: these wrappers import
# scipy.special on first use and call the functions that scipy.stats' `norm` and `binom` call, with the same handling
# of the support's ends, so their numbers are scipy.stats' to the bit (tests/test_stats.py checks) and a command that
# computes no test (listing runs, showing one) imports neither.


def normal_cdf(z: Any) -> Any:
    """The standard normal distribution function (`scipy.stats.norm.cdf`, which is `scipy.special.ndtr`)."""
    from scipy.special import ndtr

    return ndtr(z)


def normal_sf(z: Any) -> Any:
    """The standard normal survival function, 1 - cdf (`scipy.stats.norm.sf`, which is ``ndtr(-z)``)."""
    from scipy.special import ndtr

    return ndtr(np.negative(z))


def normal_ppf(q: Any) -> Any:
    """The standard normal quantile function (`scipy.stats.norm.ppf`, which is `scipy.special.ndtri`)."""
    from scipy.special import ndtri

    return ndtri(q)


def binomial_cdf(k: Any, n: Any, p: Any) -> Any:
    """P[X <= k] for X ~ Binomial(n, p) (`scipy.stats.binom.cdf`): 0 below 0, 1 from n on; ``n`` whole, ``p`` in
    [0, 1]."""
    return _binomial("cdf", k, n, p, below=0.0, above=1.0)


def binomial_sf(k: Any, n: Any, p: Any) -> Any:
    """P[X > k] for X ~ Binomial(n, p) (`scipy.stats.binom.sf`): 1 below 0, 0 from n on; ``n`` whole, ``p`` in
    [0, 1]."""
    return _binomial("sf", k, n, p, below=1.0, above=0.0)


def _binomial(tail: str, k: Any, n: Any, p: Any, *, below: float, above: float) -> Any:
    """What `scipy.stats.binom` does for ``tail`` ("cdf" or "sf"): outside the support [0, n) the constant, inside
    it scipy.special's boost function at floor(k), clipped to [0, 1]."""
    try:  # private in scipy.special; where a scipy lacks it, scipy.stats itself
        from scipy.special import _ufuncs

        function = getattr(_ufuncs, f"_binom_{tail}")
    except (ImportError, AttributeError):
        from scipy.stats import binom

        return getattr(binom, tail)(k, n, p)
    k, n, p = np.broadcast_arrays(np.floor(np.asarray(k, dtype=float)), np.asarray(n), np.asarray(p))
    out = np.where(k < 0, below, above)
    inside = (k >= 0) & (k < n)
    if inside.any():
        out[inside] = np.clip(function(k[inside], n[inside], p[inside]), 0, 1)
    return out[()] if out.ndim == 0 else out
