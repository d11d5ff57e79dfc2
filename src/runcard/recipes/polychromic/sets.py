"""Set scoring of the polychromic objective, as pure functions over arrays.

Per prompt, N samples are drawn; every subset of n of them (C(8, 4) = 70 sets) is scored
``f = mean(pass over the set) x d ** lambda`` with ``d`` the set's diversity: its number of
clusters over n, two samples being in one cluster when a chain of pairs with cosine at or above
the threshold joins them (single link). Each set's advantage is ``f - mean f`` over the sets of the
prompt, and each sample gets the mean advantage of the sets that contain it (Ibn Hamid et al.,
"Polychromic Objectives for Reinforcement Learning", 2025).

With lambda = 0, ``f`` is the set's mean pass and the sample advantage reduces to
``(pass_i - mean pass) x (N - n) / (n (N - 1))``: REINFORCE with a mean baseline, scaled.

>>> import numpy as np
>>> sets = all_sets(4, 2)
>>> sets.shape
(6, 2)
>>> adv = sample_advantages(set_scores(np.array([1.0, 0, 0, 0]), np.ones(6), sets, lam=0.0), sets, 4)
>>> np.round(adv, 4).tolist()
[0.25, -0.0833, -0.0833, -0.0833]
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache

import numpy as np


@lru_cache(maxsize=16)
def all_sets(n_samples: int, set_size: int) -> np.ndarray:
    """Every subset of ``set_size`` of ``range(n_samples)``, shape ``(C(N, n), n)``, in lexicographic order."""
    out = np.array(list(itertools.combinations(range(n_samples), set_size)), dtype=np.int64)
    out.setflags(write=False)
    return out


def cosine_matrix(vectors: np.ndarray) -> np.ndarray:
    """Pairwise cosine similarity of the rows of ``vectors`` ``(N, d)``; zero rows have similarity 0."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = np.divide(vectors, norms, out=np.zeros_like(vectors, dtype=np.float64), where=norms > 0)
    return unit @ unit.T


def set_diversity(similarity: np.ndarray, sets: np.ndarray, threshold: float) -> np.ndarray:
    """Fraction of distinct clusters in each set, shape ``(S,)``, values in ``{1/n, ..., 1}``.

    ``similarity`` is ``(N, N)``; members of a set are linked when their similarity is at or above
    ``threshold``; clusters are the connected components of those links within the set.
    """
    n = sets.shape[1]
    linked = similarity[sets[:, :, None], sets[:, None, :]] >= threshold  # (S, n, n)
    reach = linked | np.eye(n, dtype=bool)[None]
    for _ in range(max(1, int(np.ceil(np.log2(max(n, 2)))))):  # transitive closure by squaring
        reach = np.einsum("sij,sjk->sik", reach.astype(np.int64), reach.astype(np.int64)) > 0
    first = reach.argmax(axis=2)  # lowest-index member of each sample's cluster
    roots = first == np.arange(n)[None, :]
    return roots.sum(axis=1) / n


def set_scores(passed: np.ndarray, diversity: np.ndarray, sets: np.ndarray, *, lam: float) -> np.ndarray:
    """``f = mean(passed over the set) x diversity ** lam`` per set, shape ``(S,)``; ``lam = 0`` ignores
    diversity (``d ** 0 = 1``)."""
    quality = np.asarray(passed, dtype=np.float64)[sets].mean(axis=1)
    return quality if lam == 0 else quality * np.power(diversity, lam)


def sample_advantages(scores: np.ndarray, sets: np.ndarray, n_samples: int) -> np.ndarray:
    """Each sample's mean of ``f - mean f`` over the sets that contain it, shape ``(N,)``."""
    centred = scores - scores.mean()
    total = np.zeros(n_samples)
    np.add.at(total, sets.reshape(-1), np.repeat(centred, sets.shape[1]))
    count = np.bincount(sets.reshape(-1), minlength=n_samples)
    return total / count


@dataclass(frozen=True, eq=False)
class Advantages:
    """Per-sample advantages of one prompt, shape ``(N,)``: ``total = quality + diversity``, where
    ``quality`` is the advantage at lambda = 0 and ``diversity`` the remainder lambda adds."""

    total: np.ndarray
    quality: np.ndarray
    diversity: np.ndarray
    scores: np.ndarray  # f of every set, shape (S,)
    set_diversity: np.ndarray  # d of every set, shape (S,)


def polychromic_advantages(passed: np.ndarray, similarity: np.ndarray, *, lam: float, set_size: int,
                           threshold: float) -> Advantages:
    """Set scores and per-sample advantages of one prompt's N samples (``passed`` ``(N,)`` of 0/1,
    ``similarity`` ``(N, N)``)."""
    n = len(passed)
    sets = all_sets(n, set_size)
    d = set_diversity(similarity, sets, threshold)
    quality = sample_advantages(set_scores(passed, d, sets, lam=0.0), sets, n)
    scores = set_scores(passed, d, sets, lam=lam)
    total = sample_advantages(scores, sets, n)
    return Advantages(total, quality, total - quality, scores, d)


def reinforce_scale(n_samples: int, set_size: int) -> float:
    """The factor (N - n) / (n (N - 1)) relating lambda = 0 set advantages to mean-baseline REINFORCE."""
    return (n_samples - set_size) / (set_size * (n_samples - 1)) if n_samples > 1 else 0.0
