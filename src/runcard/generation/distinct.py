"""Distinct-n: unique n-grams over total n-grams, for the corpus of a system and per prompt.

Tokenisation (stated, so the numbers can be reproduced): lowercase the sample, then take every
match of the Unicode regex ``\\w+|[^\\w\\s]`` (runs of letters/digits/underscore, and each other
non-space character alone). A sample shorter than n tokens contributes no n-gram.

For the bootstrap over prompts, each prompt carries its n-gram total and its *credit*: its share
of the corpus's distinct n-grams, where an n-gram found in q prompts gives 1/q to each. The sum of
the credits is exactly the corpus's distinct count, so the corpus value is exact; a resample is then
a ratio of per-prompt sums. (Re-counting the distinct n-grams of a resampled corpus is biased: a
prompt drawn twice adds n-grams but no new distinct ones, so the resampled values sit far below
the corpus value; docs/generation.md has the figures.)

>>> counts = ngram_counts([["a b a b"], ["c"]], 2)
>>> counts.total.tolist(), counts.unique.tolist(), counts.corpus_unique
([3, 0], [2, 0], 2)
>>> round(counts.corpus_distinct(), 4)
0.6667
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: The tokeniser of distinct-n, applied after lowercasing.
TOKEN_PATTERN = re.compile(r"\w+|[^\w\s]")
#: The n of the distinct-n metrics reported.
ORDERS = (1, 2, 3)


def tokenize(text: str) -> list[str]:
    """Lowercased tokens of ``text``: words (``\\w+``) and single punctuation marks.

    >>> tokenize("Hello, World! naïve_x 42")
    ['hello', ',', 'world', '!', 'naïve_x', '42']
    """
    return TOKEN_PATTERN.findall(text.lower())


@dataclass(frozen=True, eq=False)
class NgramCounts:
    """Per-prompt n-gram counts of one system, shape ``(prompts,)`` each.

    ``total``: n-grams in the prompt's samples; ``unique``: distinct n-grams among them;
    ``credit``: the prompt's share of the corpus's distinct n-grams (sums to ``corpus_unique``).
    """

    n: int
    total: np.ndarray
    unique: np.ndarray
    credit: np.ndarray
    corpus_unique: int

    def corpus_distinct(self) -> float:
        """Distinct n-grams of the whole corpus over all its n-grams (NaN when it has none)."""
        total = int(self.total.sum())
        return self.corpus_unique / total if total else float("nan")

    def prompt_distinct(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-prompt distinct-n and the mask of prompts that have at least one n-gram."""
        valid = self.total > 0
        values = np.divide(self.unique, self.total, out=np.zeros(len(self.total)), where=valid)
        return values, valid


def ngram_counts(groups: Sequence[Sequence[str]], n: int) -> NgramCounts:
    """Counts of the n-grams in ``groups`` (one list of samples per prompt) under `tokenize`."""
    return ngram_counts_from_tokens([[tokenize(s) for s in group] for group in groups], n)


def ngram_counts_from_tokens(groups: Sequence[Sequence[Sequence[str]]], n: int) -> NgramCounts:
    """As `ngram_counts`, from already tokenised samples (tokenise once, count every n)."""
    if n < 1:
        raise ValueError(f"n={n}: distinct-n needs n >= 1.")
    per_prompt: list[set[tuple[str, ...]]] = []
    total = np.zeros(len(groups), dtype=np.int64)
    for p, group in enumerate(groups):
        grams: set[tuple[str, ...]] = set()
        for toks in group:
            count = len(toks) - n + 1
            if count > 0:
                total[p] += count
                grams.update(zip(*(toks[i:] for i in range(n))))
        per_prompt.append(grams)
    spread = Counter(g for grams in per_prompt for g in grams)  # in how many prompts each n-gram occurs
    credit = np.array([sum(1.0 / spread[g] for g in grams) for grams in per_prompt], dtype=np.float64)
    unique = np.array([len(grams) for grams in per_prompt], dtype=np.int64)
    return NgramCounts(n, total, unique, credit, len(spread))
