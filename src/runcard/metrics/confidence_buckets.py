"""Confidences in buckets of consecutive floats: bin sums and order statistics without a sort.

A non-negative float64 orders like its bit pattern read as an integer. Dropping that integer's low
bits puts every confidence into one of at most `MAX_BUCKETS` buckets of consecutive values; one
``bincount`` of (bucket, correct) pairs gives each bucket's rows and correct rows, one weighted by the
confidences its confidence sum. A binning then
needs the rows themselves only in the few buckets that straddle one of its edges (or hold a
quantile it asks for): `gather` copies those out and sorts them, a few thousand rows of a million;
every other bucket falls whole into one bin. Sorting a million confidences costs about twice a
read of the whole probability matrix; this costs a few passes over one vector.

Confidences outside that domain (a negative value, -0.0, NaN; +inf is inside) all go into one bucket, so the same
code sorts them whole: slower, never different.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

#: The most buckets: the per-bucket arrays stay in the CPU cache, and a million confidences spread
#: over [0.1, 1] put a few hundred rows in a bucket, so the gathered rows stay few.
MAX_BUCKETS = 1 << 14

#: The bits of +inf, the largest non-negative float that is not NaN.
_INF_BITS = int(np.array(np.inf).view(np.int64))


@dataclass(frozen=True)
class Buckets:
    """Each row's bucket and correct flag (``cell``), and per bucket: the value range it covers (``low`` to ``high``,
    inclusive), its rows, their confidence sum and their correct rows. Buckets partition the value
    line in order: every value of bucket ``i`` is below every value of bucket ``i + 1``."""

    confidence: np.ndarray
    correct: np.ndarray  # bool, per row
    cell: np.ndarray  # intp, per row: 2 x its bucket + its correct flag
    low: np.ndarray
    high: np.ndarray
    count: np.ndarray
    confidence_sum: np.ndarray
    correct_count: np.ndarray

    @property
    def before(self) -> np.ndarray:
        """Rows in all lower buckets: the global rank of each bucket's smallest row."""
        return np.cumsum(self.count) - self.count

    def holding(self, ranks: np.ndarray) -> np.ndarray:
        """The bucket that holds the row of each global rank (0 = the smallest confidence)."""
        return np.searchsorted(np.cumsum(self.count), ranks, side="right")

    def side_of(self, edges: np.ndarray, side: Literal["left", "right"]) -> tuple[np.ndarray, np.ndarray]:
        """Bin of each bucket's lowest and highest value (``searchsorted(edges, value, side)``); a
        bucket with different bins straddles an edge and needs its rows."""
        return np.searchsorted(edges, self.low, side=side), np.searchsorted(edges, self.high, side=side)


def bucket_rows(confidence: np.ndarray, correct: np.ndarray) -> Buckets:
    """`Buckets` of ``confidence`` ``(N,)`` with ``correct`` ``(N,)`` alongside."""
    confidence = np.ascontiguousarray(confidence, dtype=np.float64)
    correct = np.asarray(correct).astype(bool, copy=False)
    bits = confidence.view(np.int64)
    lowest, highest = (int(bits.min()), int(bits.max())) if len(bits) else (0, -1)
    if not (lowest >= 0 and highest <= _INF_BITS):  # empty, negative, -0.0 or NaN: one bucket, sorted whole
        cell = correct.astype(np.intp)
        low, high = np.array([-np.inf]), np.array([np.inf])
    else:
        shift = max(0, (highest - lowest).bit_length() - MAX_BUCKETS.bit_length() + 1)
        cell = np.subtract(bits, lowest)
        np.right_shift(cell, shift, out=cell)
        np.left_shift(cell, 1, out=cell)
        np.bitwise_or(cell, correct, out=cell)
        start = lowest + (np.arange(((highest - lowest) >> shift) + 1, dtype=np.int64) << shift)
        low = start.view(np.float64)
        high = np.minimum(start + ((1 << shift) - 1), highest).view(np.float64)
    size = len(low)
    # One count per cell (bucket, correct) gives both the bucket's rows and its correct rows.
    count = np.bincount(cell, minlength=2 * size).reshape(size, 2)
    return Buckets(confidence=confidence, correct=correct, cell=cell, low=low, high=high,
                   count=count.sum(axis=1), correct_count=count[:, 1].astype(np.float64),
                   confidence_sum=np.bincount(cell, weights=confidence, minlength=2 * size).reshape(size, 2).sum(axis=1))


@dataclass(frozen=True)
class Gathered:
    """The rows of some buckets, sorted by confidence (ties in row order), and where each chosen
    bucket's rows begin in that order (-1 for a bucket not chosen)."""

    ordered: np.ndarray
    correct: np.ndarray  # float64 1/0, in the order of ``ordered``
    start: np.ndarray

    def at_rank(self, buckets: Buckets, ranks: np.ndarray) -> np.ndarray:
        """The confidence of each global rank; its bucket must be among those gathered."""
        held = buckets.holding(ranks)
        first = self.start[held]
        if (first < 0).any():
            raise AssertionError("a rank outside the gathered buckets")  # a bug here, never the user's input
        return self.ordered[first + ranks - buckets.before[held]]


def gather(buckets: Buckets, chosen: np.ndarray) -> Gathered:
    """`Gathered` rows of the buckets marked in the bool mask ``chosen``."""
    rows = np.flatnonzero(np.repeat(chosen, 2)[buckets.cell])
    values = buckets.confidence[rows]
    order = np.argsort(values, kind="stable")
    start = np.full(len(chosen), -1, dtype=np.int64)
    picked = np.flatnonzero(chosen)
    start[picked] = np.cumsum(buckets.count[picked]) - buckets.count[picked]
    return Gathered(ordered=values[order], correct=buckets.correct[rows][order].astype(np.float64), start=start)


def bin_sums(buckets: Buckets, rows: Gathered, chosen: np.ndarray, edges: np.ndarray,
             side: Literal["left", "right"]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, confidence sum and correct rows of each bin ``searchsorted(edges, value, side)`` (there
    are ``len(edges) + 1`` bins): whole buckets by their totals, the ``chosen`` ones row by row.
    Every bucket that straddles an edge must be chosen."""
    lower, upper = buckets.side_of(edges, side)
    whole = ~chosen
    if (lower[whole] != upper[whole]).any():
        raise AssertionError("a straddling bucket was not gathered")  # a bug here, never the user's input
    size = len(edges) + 1
    into, loose = lower[whole], np.searchsorted(edges, rows.ordered, side=side)
    count = (np.bincount(into, weights=buckets.count[whole], minlength=size)
             + np.bincount(loose, minlength=size)).astype(np.int64)
    confidence_sum = (np.bincount(into, weights=buckets.confidence_sum[whole], minlength=size)
                      + np.bincount(loose, weights=rows.ordered, minlength=size))
    correct = (np.bincount(into, weights=buckets.correct_count[whole], minlength=size)
               + np.bincount(loose, weights=rows.correct, minlength=size))
    return count, confidence_sum, correct
