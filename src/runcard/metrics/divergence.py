"""Divergences between a target distribution (soft labels) and predicted probabilities, per row.

Definitions follow the ChaosNLI scoreboard:

- ``kl``: KL(target || model) in nats, model probabilities clipped at 1e-15 and renormalised
  (so a model that puts 0 on a class humans chose gives a large, finite penalty);
- ``js_distance``: ``scipy.spatial.distance.jensenshannon`` with the natural log, i.e. the square
  root of the JS divergence (the scoreboard's "JSD" column);
- ``js_divergence``: its square, ``(KL(t || m) + KL(q || m)) / 2`` with ``m = (t + q) / 2``.
"""

from __future__ import annotations

import numpy as np

#: Model probabilities are clipped at this floor before KL, then renormalised.
KL_CLIP = 1e-15


def rel_entr(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Elementwise ``x log(x / y)`` with ``0 log(0 / y) = 0``, as ``scipy.special.rel_entr`` for
    distributions (``y > 0`` wherever ``x > 0``). Written here to keep scipy.special off start-up."""
    out = np.zeros(np.broadcast_shapes(x.shape, y.shape))
    pos = x > 0
    out[pos] = x[pos] * np.log(x[pos] / y[pos])
    return out


def kl_rows(target: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """KL(target || probs) of each row, in nats; ``0 log 0 = 0``."""
    clipped = np.clip(probs, KL_CLIP, None)
    clipped = clipped / clipped.sum(axis=1, keepdims=True)
    return rel_entr(target, clipped).sum(axis=1)


def js_divergence_rows(target: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Jensen-Shannon divergence of each row, natural log, in ``[0, ln 2]``."""
    t = target / target.sum(axis=1, keepdims=True)
    q = probs / probs.sum(axis=1, keepdims=True)
    m = (t + q) / 2.0
    js = (rel_entr(t, m).sum(axis=1) + rel_entr(q, m).sum(axis=1)) / 2.0
    return np.maximum(js, 0.0)  # rounding can leave -1e-17


def js_distance_rows(target: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Jensen-Shannon distance (square root of the divergence) of each row."""
    return np.sqrt(js_divergence_rows(target, probs))

