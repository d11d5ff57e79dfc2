"""Class-aware sampling: per-row weights that make class ``c``'s share of the stream ``∝ n_c m_c``.

Multipliers of one keep the natural class distribution; ``m_c = 1 / n_c`` would balance the
classes fully. A multiplier is a per-row odds ratio: ``m = [1, 1, 3]`` makes each class-2 row three
times as likely to be drawn as any other row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import numpy as np
import torch
from torch.utils.data import WeightedRandomSampler

from runcard.errors import InputError


def _multipliers(multipliers: Sequence[float] | np.ndarray | None, n_classes: int) -> np.ndarray:
    if multipliers is None:
        return np.ones(n_classes)
    m = np.asarray(multipliers, dtype=np.float64)
    if m.shape != (n_classes,):
        raise InputError(f"multipliers must have one entry per class ({n_classes}); got shape {m.shape}.")
    if not np.all(np.isfinite(m)) or np.any(m < 0):
        raise InputError(f"multipliers must be finite and >= 0; got {m.tolist()}.")
    return m


def _labels(labels: Sequence[int] | np.ndarray, n_classes: int) -> np.ndarray:
    y = np.asarray(labels)
    if y.ndim != 1 or y.size == 0 or not np.issubdtype(y.dtype, np.integer):
        raise InputError(f"labels must be a non-empty 1-D array of integer class codes; got shape {y.shape}, "
                         f"dtype {y.dtype}.")
    bad = np.flatnonzero((y < 0) | (y >= n_classes))
    if bad.size:
        raise InputError(f"labels must lie in [0, {n_classes}); row {int(bad[0])} has {int(y[bad[0]])}.")
    return y


def expected_rates(
    counts: Sequence[float] | np.ndarray, multipliers: Sequence[float] | np.ndarray | None = None
) -> np.ndarray:
    """Expected class shares ``n_c m_c / sum_j n_j m_j`` of the sampled stream, shape ``(K,)``.

    >>> expected_rates([80, 10, 10], [1, 1, 3]).tolist()
    [0.6666666666666666, 0.08333333333333333, 0.25]
    """
    n = np.asarray(counts, dtype=np.float64)
    if n.ndim != 1 or n.size == 0 or not np.all(np.isfinite(n)) or np.any(n < 0):
        raise InputError(f"counts must be a non-empty 1-D array of finite counts >= 0; got {n.tolist()}.")
    mass = n * _multipliers(multipliers, n.size)
    total = mass.sum()
    if not total > 0:
        raise InputError("every class has zero count or zero multiplier: nothing can be sampled.")
    return mass / total


def sample_weights(
    labels: Sequence[int] | np.ndarray, n_classes: int, multipliers: Sequence[float] | np.ndarray | None = None
) -> np.ndarray:
    """Per-row sampling weights ``m_{y_i}``, shape ``(N,)``: class ``c`` gets ``n_c m_c`` of the mass."""
    y = _labels(labels, n_classes)
    m = _multipliers(multipliers, n_classes)
    w = m[y]
    if not w.sum() > 0:
        raise InputError("every row has sampling weight 0: give a positive multiplier to a class present in labels.")
    return w


def make_sampler(
    labels: Sequence[int] | np.ndarray,
    n_classes: int,
    multipliers: Sequence[float] | np.ndarray | None = None,
    *,
    num_samples: int | None = None,
    seed: int = 0,
) -> WeightedRandomSampler:
    """A ``WeightedRandomSampler`` over row indices, with replacement, seeded for repeatable draws.

    ``num_samples`` defaults to ``len(labels)`` (one epoch's worth of rows). Each pass over the
    sampler continues its generator, so epochs differ but a run replays exactly from ``seed``.
    """
    w = sample_weights(labels, n_classes, multipliers)
    n = w.size if num_samples is None else num_samples
    if n < 1:
        raise InputError(f"num_samples must be >= 1; got {n}.")
    generator = torch.Generator().manual_seed(seed)
    # A tensor avoids a Python list of N floats; the stub only admits Sequence[float].
    weights = cast(Sequence[float], torch.as_tensor(w, dtype=torch.float64))
    return WeightedRandomSampler(weights, n, replacement=True, generator=generator)
