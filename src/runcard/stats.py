"""Resampling and tests for count-based metrics: cell-multinomial bootstrap, McNemar.

A row bootstrap of a count-based metric only ever changes how many rows fall in each cell of
the confusion matrix, and those counts are multinomial with the observed cell frequencies. So
drawing the cell counts directly gives the same distribution as resampling rows, at a cost that
depends on the number of non-empty cells, not on the number of rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from statistics import NormalDist
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
    return min(1.0, 2 * float(binomial_cdf(min(only_a_right, only_b_right), discordant, 0.5)))


# scipy.stats costs ~0.6 s to import and scipy.special ~0.2 s (its array-API layer walks all of numpy, f2py
# included), more than the rest of `runcard eval` together: the tails below are computed here, with the same
# answers (tests/test_stats.py holds them to scipy.stats at rtol 1e-12) and the same rules at the support's ends.

_SQRT_HALF = math.sqrt(0.5)


def normal_cdf(z: Any) -> Any:
    """The standard normal distribution function (`scipy.stats.norm.cdf`), elementwise; NaN stays NaN."""
    return _elementwise(_ndtr, z)


def normal_sf(z: Any) -> Any:
    """The standard normal survival function, 1 - cdf (`scipy.stats.norm.sf`), elementwise."""
    return _elementwise(lambda v: _ndtr(-v), z)


def normal_ppf(q: Any) -> Any:
    """The standard normal quantile function (`scipy.stats.norm.ppf`), elementwise: -inf at 0, inf at 1, NaN
    outside [0, 1]."""
    return _elementwise(_ndtri, q)


def binomial_cdf(k: Any, n: Any, p: Any) -> Any:
    """P[X <= k] for X ~ Binomial(n, p) (`scipy.stats.binom.cdf`), broadcast: 0 below 0, 1 from n on; NaN where
    ``n`` is not a whole number >= 0 or ``p`` is outside [0, 1]."""
    return _binomial(k, n, p, upper=False)


def binomial_sf(k: Any, n: Any, p: Any) -> Any:
    """P[X > k] for X ~ Binomial(n, p) (`scipy.stats.binom.sf`), broadcast: 1 below 0, 0 from n on; NaN as in
    `binomial_cdf`."""
    return _binomial(k, n, p, upper=True)


def _elementwise(function: Callable[[float], float], x: Any) -> Any:
    a = np.asarray(x, dtype=float)
    out = np.array([function(float(v)) for v in a.reshape(-1)], dtype=float).reshape(a.shape)
    return out[()] if out.ndim == 0 else out


def _ndtr(z: float) -> float:
    """Cephes' ``ndtr`` (scipy's): erf near 0, erfc in the tails, so a tail keeps its relative precision."""
    if math.isnan(z):
        return math.nan
    x = z * _SQRT_HALF
    if abs(x) < _SQRT_HALF:
        return 0.5 + 0.5 * math.erf(x)
    y = 0.5 * math.erfc(abs(x))
    return 1.0 - y if x > 0 else y


def _ndtri(q: float) -> float:
    """Wichura's AS 241 (`statistics.NormalDist.inv_cdf`, relative error about 1e-16), with scipy's ends."""
    if not 0.0 <= q <= 1.0:  # NaN included
        return math.nan
    if q in (0.0, 1.0):
        return math.copysign(math.inf, q - 0.5)
    return NormalDist().inv_cdf(q)


def _binomial(k: Any, n: Any, p: Any, *, upper: bool) -> Any:
    k, n, p = np.broadcast_arrays(np.floor(np.asarray(k, dtype=float)), np.asarray(n, dtype=float),
                                  np.asarray(p, dtype=float))
    out = np.empty(k.shape)
    for index in np.ndindex(k.shape):
        out[index] = _binomial_tail(float(k[index]), float(n[index]), float(p[index]), upper)
    return out[()] if out.ndim == 0 else out


def _binomial_tail(k: float, n: float, p: float, upper: bool) -> float:
    """P[X > k] if ``upper`` else P[X <= k], for a whole ``k``: a tail on the far side of the mode is summed from
    its exact terms (`_tail_sum`); one that holds the mode is 1 minus the far tail, which is then at most 0.5, so
    the answer keeps its relative precision either way (summed as well where that tail exceeds 0.5)."""
    if math.isnan(k) or not (n >= 0 and n == math.floor(n) and 0.0 <= p <= 1.0):
        return math.nan
    if k < 0:
        return 1.0 if upper else 0.0
    if k >= n:
        return 0.0 if upper else 1.0
    if p == 0.0 or p == 1.0:  # all the mass on 0 or on n, and 0 <= k < n
        return float(upper) if p == 1.0 else float(not upper)
    far = upper if k >= math.floor((n + 1) * p) else not upper  # whether the asked tail misses the mode
    if far:
        return _tail_sum(int(k), int(n), p, upper)
    other = _tail_sum(int(k), int(n), p, not upper)
    return 1.0 - other if other <= 0.5 else _tail_sum(int(k), int(n), p, upper)


def _tail_sum(k: int, n: int, p: float, upper: bool) -> float:
    """sum(pmf(i), i > k) if ``upper`` else sum(pmf(i), i <= k), from k outward in blocks that double, until the
    terms fall (past the mode the ratio of one to the last drops below 1, and keeps dropping) and the geometric
    bound on the rest is below 1e-17 of the sum."""
    q = 1.0 - p
    total, start, block = 0.0, (k + 1 if upper else k), 64
    while True:
        stop = min(start + block, n + 1) if upper else max(start - block, -1)
        i = np.arange(start, stop, 1 if upper else -1, dtype=float)
        terms = _binomial_pmf(i, n, p, q)
        total += math.fsum(terms)
        last, t = int(i[-1]), float(terms[-1])
        if last == (n if upper else 0):
            return total
        r = (n - last) * p / ((last + 1) * q) if upper else last * q / ((n - last + 1) * p)
        if r < 1 and t * r / (1 - r) <= 1e-17 * total:
            return total
        start, block = stop, 2 * block


#: stirlerr(n) = log(n!) - log(sqrt(2 pi n) (n / e)^n) at n = 1..15 (mpmath, 40 digits); beyond, its series.
_STIRLERR = (0.0, 0.08106146679532726, 0.0413406959554093, 0.02767792568499834, 0.020790672103765093,
             0.016644691189821193, 0.013876128823070748, 0.01189670994589177, 0.010411265261972096,
             0.009255462182712733, 0.00833056343336287, 0.007573675487951841, 0.00694284010720953,
             0.006408994188004207, 0.0059513701127588475, 0.005554733551962801)


def _stirlerr(x: np.ndarray) -> np.ndarray:
    """stirlerr of whole numbers >= 1 (Loader 2000, as R's dbinom): the table, then 1/(12x) - 1/(360x^3) + ..."""
    small = np.asarray(_STIRLERR)[np.minimum(x, 15).astype(np.int64)]
    xx = x * x
    series = (1 / 12 - (1 / 360 - (1 / 1260 - (1 / 1680 - 1 / 1188 / xx) / xx) / xx) / xx) / x
    return np.where(x <= 15, small, series)


def _bd0(x: np.ndarray, m: np.ndarray | float) -> np.ndarray:
    """x log(x / m) + m - x without cancellation (Loader 2000): near x = m, its series in v = (x - m)/(x + m)."""
    d = x - m
    v = d / (x + m)
    near = np.abs(d) < 0.1 * (x + m)
    series, ej, v2 = d * v, 2 * x * v, v * v
    for j in range(1, 12):  # |v| < 0.1: each term is 100 times smaller than the last
        ej = ej * v2
        series = series + ej / (2 * j + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        direct = x * np.log(x / m) + m - x
    return np.where(near, series, direct)


def _binomial_pmf(x: np.ndarray, n: int, p: float, q: float) -> np.ndarray:
    """P[X = x] for whole ``x`` in [0, n], 0 < p < 1, to about 1e-15 relative at any n (Loader 2000, R's
    ``dbinom_raw``): log-gamma differences would lose digits as n grows."""
    out = np.empty(len(x))
    ends = (x == 0) | (x == n)
    if ends.any():
        zero = -_bd0(np.array([float(n)]), n * q)[0] - n * p if p < 0.1 else n * math.log(q)
        full = -_bd0(np.array([float(n)]), n * p)[0] - n * q if q < 0.1 else n * math.log(p)
        out[ends] = np.exp(np.where(x[ends] == 0, zero, full))
    inner = ~ends
    xi = x[inner]
    if len(xi):
        lc = (_stirlerr(np.array([float(n)])) - _stirlerr(xi) - _stirlerr(n - xi) - _bd0(xi, n * p)
              - _bd0(n - xi, n * q))
        lf = math.log(2 * math.pi / n) + np.log(xi) + np.log(n - xi)  # R's log1p(-x / n) loses digits near n
        out[inner] = np.exp(lc - 0.5 * lf)
    return out
