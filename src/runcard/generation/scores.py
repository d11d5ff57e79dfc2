"""Every generation metric of one system, as per-prompt ratios ready for the bootstrap.

The prompts come in a given order (shared by the systems compared), so the same row of a draw
matrix means the same prompt for every system.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from runcard.generation.distinct import ORDERS, ngram_counts_from_tokens, tokenize
from runcard.generation.pass_at_k import pass_at_k
from runcard.generation.resample import Ratio
from runcard.generation.self_bleu import self_bleu
from runcard.generation.semantic import Embedder, semantic_diversity
from runcard.generation.table import GenerationTable

#: progress(description, total) -> advance(n): how long steps report progress (the CLI draws bars).
ProgressFactory = Callable[[str, int], Callable[[int], None]]


@dataclass(frozen=True, eq=False)
class SystemScores:
    """One system's metrics as `Ratio`s over the shared prompt order, and what was left out and why."""

    system: str
    n_samples: int
    n_prompts: int
    empty_samples: int
    ratios: dict[str, Ratio]
    left_out: dict[str, dict[str, int]] = field(default_factory=dict)


def prompt_index(table: GenerationTable, order: Sequence[str]) -> np.ndarray:
    """Position in ``order`` of each row's prompt."""
    position = {p: i for i, p in enumerate(order)}
    return np.array([position[p] for p in table.prompt_id.tolist()], dtype=np.int64)


def group_samples(samples: Sequence[str], index: np.ndarray, n_prompts: int) -> list[list[str]]:
    """Samples per prompt, each list in file order."""
    groups: list[list[str]] = [[] for _ in range(n_prompts)]
    for text, p in zip(samples, index.tolist()):
        groups[p].append(text)
    return groups


def system_scores(table: GenerationTable, system: str, order: Sequence[str], *, ks: Sequence[int],
                  embed: Embedder | None, cap: int, progress: ProgressFactory | None = None,
                  with_self_bleu: bool = True) -> SystemScores:
    """Distinct-n (corpus and per prompt), Self-BLEU (unless not ``with_self_bleu``), semantic diversity (with
    ``embed``), pass@k (with ``passed``) and mean quality (with ``quality``) of one system's rows."""
    index = prompt_index(table, order)
    samples = table.sample.tolist()
    groups = group_samples(samples, index, len(order))
    ratios: dict[str, Ratio] = {}
    left_out: dict[str, dict[str, int]] = {}
    tokens = [[tokenize(s) for s in group] for group in groups]
    per_prompt = {}
    for order_n in ORDERS:
        counts = ngram_counts_from_tokens(tokens, order_n)
        exact = counts.corpus_distinct()
        ratios[f"distinct_{order_n}"] = Ratio(counts.credit, counts.total.astype(np.float64), exact, per_prompt=False)
        values, valid = counts.prompt_distinct()
        per_prompt[f"distinct_{order_n}_per_prompt"] = Ratio.mean_of(values, valid)
        left_out[f"distinct_{order_n}_per_prompt"] = {"no_ngram": int(np.count_nonzero(~valid))}
    ratios.update(per_prompt)
    if with_self_bleu:
        advance = progress("Self-BLEU", len(samples)) if progress else None
        bleu = self_bleu(groups, cap=cap, progress=advance)
        ratios["self_bleu"] = Ratio.mean_of(bleu.values, bleu.valid)
        left_out["self_bleu"] = {"single_sample": bleu.single_sample, "no_4grams": bleu.no_4grams,
                                 "capped": bleu.capped}
    if embed is not None:
        lengths = np.fromiter((len(s) for s in samples), dtype=np.int64, count=len(samples))
        advance = progress("embedding", len(samples)) if progress else None
        sem = semantic_diversity(samples, index, len(order), embed, order=np.argsort(lengths, kind="stable"),
                                 progress=advance)
        ratios["semantic_diversity"] = Ratio.mean_of(sem.values, sem.valid)
        left_out["semantic_diversity"] = {"single_sample": sem.single_sample}
    n = np.bincount(index, minlength=len(order))
    if table.passed is not None:
        c = np.bincount(index, weights=table.passed.astype(np.float64), minlength=len(order)).astype(np.int64)
        for k in ks:
            ratios[f"pass@{k}"] = Ratio.mean_of(pass_at_k(n, c, k), np.ones(len(order), dtype=bool))
    if table.quality is not None:
        means = np.bincount(index, weights=table.quality, minlength=len(order)) / n
        ratios["quality"] = Ratio.mean_of(means, np.ones(len(order), dtype=bool))
    return SystemScores(system, table.n, len(order), table.empty_samples(), ratios, left_out)
