"""One pass over a probability matrix, in cache-sized blocks: every per-row fact the metrics need.

numpy reduces a short row (K = 10) at nearly the cost per row of a whole function call, so an
argmax, a max and a row sum over an ``(N, K)`` matrix each take tens of milliseconds per million
rows, and each reads the matrix from memory again. `row_statistics` copies each block of rows into a
``(K, rows)`` buffer that stays in the CPU cache, where every per-row reduction becomes K
contiguous vector operations; the matrix is read from memory once. Everything downstream (the
binnings, log loss, top-k) works on the length-N vectors it returns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from runcard.checks import SUM_TOLERANCE, check_probabilities

#: Matrix entries per block: the block, its transpose and the masks stay in a 2 MiB L2 cache.
BLOCK_ENTRIES = 65_536


@dataclass(frozen=True)
class RowStats:
    """Per-row facts every metric needs: argmax, its probability, the true class's probability
    and the true class's rank (0-based; ties rank the lower class index first, so rank 0 is
    exactly ``pred == true`` under numpy's first-maximum argmax; stored in the narrowest unsigned
    type that holds K), and the sum of all squared probabilities (for the Brier score)."""

    pred: np.ndarray
    p_true: np.ndarray
    confidence: np.ndarray
    correct: np.ndarray
    rank: np.ndarray
    square_sum: float


@dataclass(frozen=True)
class _Buffers:
    """Scratch space for one block, allocated once per pass."""

    matrix: np.ndarray  # (K, rows) float64: the block, transposed
    mask: np.ndarray  # (K, rows) bool
    count: np.ndarray  # (K, rows) unsigned: weighted mask for the first-maximum argmax
    weight: np.ndarray  # (K, 1) K - j: the first maximum carries the largest weight
    column: np.ndarray  # (rows,) int64: 0, 1, ..., rows - 1

    @classmethod
    def allocate(cls, k: int, rows: int) -> _Buffers:
        dtype = np.min_scalar_type(k)  # counts and weights go up to K
        return cls(matrix=np.empty((k, rows)), mask=np.empty((k, rows), dtype=bool),
                   count=np.empty((k, rows), dtype=dtype),
                   weight=(k - np.arange(k)).astype(dtype)[:, None],
                   column=np.arange(rows, dtype=np.int64))


def row_statistics(probs: np.ndarray, codes: np.ndarray, *, check: bool = False) -> RowStats:
    """`RowStats` of ``probs`` ``(N, K)`` against true class codes ``codes`` ``(N,)``, in one read.

    With ``check``, each block is also validated as `check_probabilities` does (finite, >= 0,
    rows summing to 1 within `SUM_TOLERANCE`); a block that fails, or whose sums come within
    rounding of the tolerance, is handed to `check_probabilities` itself, so the decision and
    the error (naming the first bad row and column) are exactly those of the check at the door.
    """
    n, k = probs.shape
    rows = max(1, min(n, BLOCK_ENTRIES // k))
    buffers = _Buffers.allocate(k, rows)
    # Sums here and in the BLAS row sums of check_probabilities differ by a few ulps times K.
    plausible = SUM_TOLERANCE - (1e-9 + 4 * k * np.finfo(np.float64).eps)
    pred = np.empty(n, dtype=np.int64)
    p_true = np.empty(n)
    confidence = np.empty(n)
    rank = np.empty(n, dtype=buffers.count.dtype)  # the narrowest unsigned type that holds K
    square_sum = 0.0
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        block = probs[start:stop]
        matrix = buffers.matrix[:, : stop - start]
        np.copyto(matrix, block.T)
        if check and not _plausible(matrix, plausible):
            check_probabilities(probs)  # raises for a bad row; returns for a sum within tolerance after all
            check = False  # the whole matrix has now passed the exact check
        where = slice(start, stop)
        flat_index = codes[where] * rows + buffers.column[: stop - start]  # entry (code, i) of the buffer
        # mode="clip" (the indices are in range anyway) lets take write into ``out`` unbuffered.
        np.take(buffers.matrix.reshape(-1), flat_index, out=p_true[where], mode="clip")
        _first_maximum(matrix, buffers, confidence[where], pred[where])
        _rank(matrix, buffers, p_true[where], codes[where], rank[where])
        flat = matrix.reshape(-1)  # a copy only for a short last block
        square_sum += float(np.dot(flat, flat))
    return RowStats(pred=pred, p_true=p_true, confidence=confidence, correct=pred == codes, rank=rank,
                    square_sum=square_sum)


def _plausible(matrix: np.ndarray, tol: float) -> bool:
    """Whether a transposed block is surely valid: non-negative, row sums finite and within ``tol``."""
    sums = np.add.reduce(matrix, axis=0)
    return bool(sums.min() >= 1.0 - tol and sums.max() <= 1.0 + tol and matrix.min() >= 0)  # NaN fails


def _first_maximum(matrix: np.ndarray, buffers: _Buffers, confidence: np.ndarray, pred: np.ndarray) -> None:
    """Each column's maximum and the index of its first occurrence (numpy's argmax), in place."""
    k, m = matrix.shape
    np.maximum.reduce(matrix, axis=0, out=confidence)
    mask, count = buffers.mask[:, :m], buffers.count[:, :m]
    np.equal(matrix, confidence, out=mask)
    np.multiply(mask, buffers.weight, out=count)
    np.subtract(k, np.maximum.reduce(count, axis=0), out=pred, casting="unsafe")


def _rank(matrix: np.ndarray, buffers: _Buffers, p_true: np.ndarray, codes: np.ndarray, rank: np.ndarray) -> None:
    """How many classes of each column outrank its true class (ties: the lower class index first)."""
    k, m = matrix.shape
    mask = buffers.mask[:, :m]
    dtype = buffers.count.dtype
    above = _column_counts(np.greater(matrix, p_true, out=mask), dtype)
    rank[:] = above
    tied = _column_counts(np.greater_equal(matrix, p_true, out=mask), dtype) - above > 1
    if tied.any():  # another class has exactly the true class's probability: count those of lower index
        ties = np.flatnonzero(tied)
        lower = np.arange(k)[:, None] < codes[ties]
        rank[ties] += np.count_nonzero((matrix[:, ties] == p_true[ties]) & lower, axis=0).astype(rank.dtype)


def _column_counts(mask: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """True entries per column of a bool ``(K, m)`` mask, summed in the narrow ``dtype``."""
    if dtype == np.uint8:
        mask = mask.view(np.uint8)  # no cast: the same bytes
    return np.add.reduce(mask, axis=0, dtype=dtype)
