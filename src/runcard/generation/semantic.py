"""Semantic diversity: mean pairwise cosine distance of sentence embeddings within each prompt.

For a prompt with n >= 2 samples embedded as unit vectors u_1..u_n, the mean over ordered pairs
i != j of 1 - u_i.u_j is ``1 - (|sum u|^2 - n) / (n (n - 1))``. So the samples are embedded in
batches of a fixed size and only a running sum per prompt is kept: memory is
O(batch x d + prompts x d), never O(samples x d) or O(samples^2). Prompts with one sample are
left out (and counted); a distance within 1e-9 of 0 (identical embeddings, up to rounding in the
sums) is reported as 0. The embedder is any callable ``texts -> (B, d) array``; rows are
L2-normalised here, so a fake or a model without its own normalisation gives the same result.

>>> import numpy as np
>>> vecs = {"a": [1.0, 0.0], "b": [0.0, 1.0], "c": [1.0, 0.0]}
>>> embed = lambda texts: np.array([vecs[t] for t in texts])
>>> r = semantic_diversity(["a", "b", "c", "a"], np.array([0, 0, 1, 1]), 2, embed)
>>> r.values.tolist(), r.valid.tolist()
([1.0, 0.0], [True, True])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from runcard.errors import RunCardError

#: Texts per call of the embedder.
BATCH_SIZE = 128
#: A prompt's distance within this of 0 is 0: what is left of identical embeddings after rounding in the sums.
ROUNDING = 1e-9

Embedder = Callable[[list[str]], np.ndarray]


class CachedEmbedder:
    """An embedder that embeds each distinct text once and keeps its vector: a comparison of many runs
    against one scores the first run's samples once per pair, and two splits of one run often hold the
    same samples. The missing texts are embedded in batches of ``batch``, shortest first (less padding);
    a deterministic model gives the same vectors as without the cache, up to float rounding across batch
    shapes. `add` keeps vectors computed elsewhere (another process)."""

    def __init__(self, embed: Embedder, batch: int = 256) -> None:
        self._embed, self._batch = embed, batch
        self._known: dict[str, np.ndarray] = {}

    def __call__(self, texts: list[str]) -> np.ndarray:
        missing = sorted((t for t in dict.fromkeys(texts) if t not in self._known), key=lambda t: (len(t), t))
        for start in range(0, len(missing), self._batch):
            chunk = missing[start:start + self._batch]
            self._known.update(zip(chunk, np.asarray(self._embed(chunk))))
        if not texts:
            width = next(iter(self._known.values())).shape[0] if self._known else 0
            return np.zeros((0, width))
        return np.stack([self._known[t] for t in texts])

    def add(self, texts: list[str], vectors: np.ndarray) -> None:
        """Keep ``vectors`` (``(B, d)``, row i the embedding of ``texts[i]``) for texts not embedded yet."""
        for text, vector in zip(texts, vectors):
            self._known.setdefault(text, vector)


@dataclass(frozen=True, eq=False)
class SemanticDiversity:
    """Per-prompt mean pairwise cosine distance (``values``; 0 = identical meaning) and ``valid`` mask."""

    values: np.ndarray
    valid: np.ndarray
    single_sample: int
    dim: int


def semantic_diversity(texts: Sequence[str], prompt: np.ndarray, n_prompts: int, embed: Embedder, *,
                       batch_size: int = BATCH_SIZE, order: np.ndarray | None = None,
                       progress: Callable[[int], None] | None = None) -> SemanticDiversity:
    """Mean pairwise cosine distance per prompt from running sums of unit embeddings.

    ``prompt[i]`` is the prompt index (0..n_prompts-1) of ``texts[i]``; ``order`` (a permutation)
    sets the order texts are embedded in, e.g. by length so a batch needs little padding.
    """
    sums: np.ndarray | None = None
    counts = np.bincount(prompt, minlength=n_prompts)
    sequence = np.arange(len(texts)) if order is None else order
    for start in range(0, len(sequence), batch_size):
        rows = sequence[start : start + batch_size]
        vectors = np.asarray(embed([texts[i] for i in rows]), dtype=np.float64)
        if vectors.ndim != 2 or len(vectors) != len(rows):
            raise RunCardError(f"the embedder returned shape {vectors.shape} for {len(rows)} texts; "
                               "expected (texts, dimensions).")
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        bad = np.flatnonzero(~np.isfinite(norms[:, 0]) | (norms[:, 0] == 0))
        if len(bad):
            raise RunCardError(f"the embedder returned a zero or non-finite vector for {texts[rows[bad[0]]]!r} "
                               f"({len(bad)} in this batch): the model or its tokenizer failed; cosine distance "
                               "is undefined.")
        if sums is None:
            sums = np.zeros((n_prompts, vectors.shape[1]))
        np.add.at(sums, prompt[rows], vectors / norms)
        if progress is not None:
            progress(len(rows))
    dim = 0 if sums is None else sums.shape[1]
    valid = counts >= 2
    values = np.zeros(n_prompts)
    if sums is not None and valid.any():
        n = counts[valid].astype(np.float64)
        similarity = (np.einsum("ij,ij->i", sums[valid], sums[valid]) - n) / (n * (n - 1))
        distance = 1.0 - similarity
        values[valid] = np.where(np.abs(distance) < ROUNDING, 0.0, distance)
    return SemanticDiversity(values, valid, int(np.count_nonzero(counts == 1)), dim)
