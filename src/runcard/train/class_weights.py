"""Per-class loss weights from training class counts: inverse frequency or effective number.

Numpy only, so weights can be computed and reported without torch. Pass the result to a loss
as ``torch.as_tensor(w, dtype=torch.float32)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from runcard.errors import InputError

WeightMethod = Literal["inverse", "effective", "none"]
METHODS: tuple[str, ...] = ("inverse", "effective", "none")


def _counts(counts: Sequence[float] | np.ndarray) -> np.ndarray:
    c = np.asarray(counts, dtype=np.float64)
    if c.ndim != 1 or c.size == 0:
        raise InputError(f"counts must be a non-empty 1-D sequence of class counts; got shape {c.shape}.")
    if not np.all(np.isfinite(c)) or np.any(c < 0):
        raise InputError(f"counts must be finite and >= 0; got {c.tolist()}.")
    zero = np.flatnonzero(c == 0)
    if zero.size:
        raise InputError(f"class {int(zero[0])} has count 0: a class with no training rows cannot be weighted. "
                         "Drop the class from the label set or add training rows for it.")
    return c


def class_weights(
    counts: Sequence[float] | np.ndarray,
    *,
    method: WeightMethod = "inverse",
    beta: float = 0.999,
    boosts: Sequence[float] | np.ndarray | None = None,
    cap: float | None = None,
) -> np.ndarray:
    """Class weights of shape ``(K,)`` from the ``K`` training class counts.

    ``inverse``: ``w_c = n / (K n_c)``. ``effective`` (Cui et al. 2019, class-balanced loss):
    ``w_c = (1 - beta) / (1 - beta**n_c)``, which moves from equal weights (``beta -> 0``) to
    inverse frequency (``beta -> 1``). ``none``: ones. The weights are scaled to mean 1 over the
    classes, so the loss scale stays comparable; then multiplied by ``boosts`` (one multiplier per
    class, e.g. to favour a class that matters more); then clipped above at ``cap`` with no
    renormalisation, so ``cap`` is a real bound on every weight.

    >>> class_weights([90, 10]).tolist()
    [0.2, 1.8]
    >>> class_weights([90, 10], cap=1.5).tolist()
    [0.2, 1.5]
    """
    c = _counts(counts)
    k = c.size
    if method == "inverse":
        w = c.sum() / (k * c)
    elif method == "effective":
        if not 0.0 <= beta < 1.0:
            raise InputError(f"beta must be in [0, 1) for method='effective'; got {beta}.")
        w = (1.0 - beta) / (1.0 - np.power(beta, c))
    elif method == "none":
        w = np.ones(k)
    else:
        raise InputError(f"method must be one of {METHODS}; got {method!r}.")
    w = w / w.mean()
    if boosts is not None:
        b = np.asarray(boosts, dtype=np.float64)
        if b.shape != (k,):
            raise InputError(f"boosts must have one multiplier per class ({k}); got shape {b.shape}.")
        if not np.all(np.isfinite(b)) or np.any(b < 0):
            raise InputError(f"boosts must be finite and >= 0; got {b.tolist()}.")
        w = w * b
    if cap is not None:
        if not cap > 0:
            raise InputError(f"cap must be > 0 (an upper bound on every weight); got {cap}.")
        w = np.minimum(w, cap)
    return w
