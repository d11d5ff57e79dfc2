"""Evaluation of a model on the held-out prompts: samples, the checker's verdicts, generation rows to
log, and pass@k / diversity with bootstrap CIs over prompts (`runcard.generation`).

Pass is judged twice: by classifier A (what training optimised) and by A and B together (B never
took part in training: a gain under A that vanishes under A and B means training learned to fool A).
Diversity (distinct-n, Self-BLEU, embedding diversity under the frozen supervised model) is
computed over all samples and over the passing ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from runcard.generation.evaluate_generations import GenerationEvaluation, evaluate_generations
from runcard.generation.semantic import CachedEmbedder
from runcard.generation.table import GenerationTable, table_from_rows
from runcard.recipes.polychromic.checker import Checker, Verdicts
from runcard.recipes.polychromic.corpus import Prompt
from runcard.recipes.polychromic.lm import Codec, embed_ids, modules, sample

#: Generations splits logged on every run: pass by A, and pass by A and B.
SPLITS = {"test": "passed", "test_a_and_b": "passed_ab"}
#: Metrics copied from an evaluation into the run's metrics (with their CI bounds).
REPORTED = ("pass@", "distinct_", "self_bleu", "semantic_diversity")


@dataclass(frozen=True, eq=False)
class SystemSamples:
    """``n`` samples per prompt of one system, prompt-major, with the checker's verdicts."""

    system: str
    prompts: list[Prompt]
    n: int
    texts: list[str]
    verdicts: Verdicts

    def rows(self, split: str) -> list[dict[str, Any]]:
        """Generation rows for ``split`` (`SPLITS`): passed by A (quality = A's probability of the requested
        sentiment), or by A and B (quality = B's)."""
        passed = getattr(self.verdicts, SPLITS[split])
        quality = self.verdicts.prob_a if split == "test" else self.verdicts.prob_b
        ids = [p.id for p in self.prompts for _ in range(self.n)]
        return [{"prompt_id": pid, "sample": text, "system": self.system, "passed": bool(ok), "quality": float(q)}
                for pid, text, ok, q in zip(ids, self.texts, passed.tolist(), quality.tolist())]


def generate(model: Any, codec: Codec, prompts: list[Prompt], n: int, *, max_new_tokens: int, temperature: float,
             batch_size: int, seed: int) -> list[str]:
    """``n`` samples per prompt, prompt-major, from a generator seeded with ``seed``."""
    torch, _, _ = modules()
    generator = torch.Generator().manual_seed(seed)
    rows = [codec.prompt(p.sentiment, p.topic) for p in prompts for _ in range(n)]
    texts: list[str] = []
    for start in range(0, len(rows), batch_size):
        drawn = sample(model, rows[start:start + batch_size], max_new_tokens=max_new_tokens, temperature=temperature,
                       generator=generator, pad=codec.pad, eos=codec.eos)
        texts += [codec.decode(r) for r in drawn.rows()]
    return texts


def judge(checker: Checker, system: str, prompts: list[Prompt], n: int, texts: list[str]) -> SystemSamples:
    """The checker's verdicts on prompt-major samples."""
    verdicts = checker.judge(texts, [p.sentiment for p in prompts for _ in range(n)],
                             [p.topic for p in prompts for _ in range(n)])
    return SystemSamples(system, prompts, n, texts, verdicts)


def embedder(model: Any, codec: Codec, centre: np.ndarray, max_tokens: int) -> CachedEmbedder:
    """``texts -> (B, H)``: the frozen supervised model's centred, mean-pooled states of each text alone (the
    embedding the polychromic diversity uses), each distinct text embedded once: the summary scores the
    samples every arm's evaluation already embedded, and identical arms write identical samples."""
    def embed(texts: list[str]) -> np.ndarray:  # CachedEmbedder calls it with the missing texts only, never none
        return embed_ids(model, [codec.tweet(t)[:max_tokens] for t in texts], codec.pad, centre)

    return CachedEmbedder(embed)


def evaluate_systems(systems: list[SystemSamples], split: str, *, ks: list[int], n_boot: int, seed: int,
                     embed: Callable[[list[str]], np.ndarray] | None, self_bleu: bool = True) -> GenerationEvaluation:
    """Every system on the same prompts, the first as baseline: metrics with CIs, paired differences
    (the same bootstrap draws over prompts for all) and findings. ``self_bleu=False`` for the A-and-B split,
    whose samples (and so diversity) are those of split ``test``: only its pass@k differs."""
    rows = [row for s in systems for row in s.rows(split)]
    table = table_from_rows(rows, source=f"held-out prompts ({split})")
    return evaluate_generations(table, ks=ks, embed=embed, n_boot=n_boot, seed=seed, self_bleu=self_bleu,
                                model="frozen supervised model, centred mean-pooled states")


def passing_only(system: SystemSamples) -> GenerationTable | None:
    """The samples that pass (by A), as a table; None when none pass."""
    rows = [r for r in system.rows("test") if r["passed"]]
    return table_from_rows(rows, source=f"{system.system} passing samples") if rows else None


def metric_values(ev: GenerationEvaluation, system: str, prefix: str) -> dict[str, float]:
    """``{prefix}/<metric>`` of one system of an evaluation (point values; the CIs are in its ``to_dict``)."""
    result = next(s for s in ev.systems if s.system == system)
    return {f"{prefix}/{name}": m.value for name, m in result.metrics.items()
            if name.startswith(REPORTED) and np.isfinite(m.value)}


def evaluate_one(system: SystemSamples, *, ks: list[int], n_boot: int, seed: int,
                 embed: Callable[[list[str]], np.ndarray] | None) -> tuple[dict[str, float], dict[str, Any]]:
    """One system's metrics and their evaluations (with CIs, JSON-ready): pass@k by A (``test/``) and by A and
    B (``test_a_and_b/``), diversity of all samples (``test/``) and of the passing ones (``test_passing/``:
    distinct-n and embedding diversity; Self-BLEU of a handful of samples is mostly undefined), and the
    rules' pass rates."""
    all_a = evaluate_systems([system], "test", ks=ks, n_boot=n_boot, seed=seed, embed=embed)
    ab = evaluate_systems([system], "test_a_and_b", ks=ks, n_boot=n_boot, seed=seed, embed=None, self_bleu=False)
    metrics = metric_values(all_a, system.system, "test")
    metrics.update({k: v for k, v in metric_values(ab, system.system, "test_a_and_b").items() if "pass@" in k})
    details = {"test": all_a.to_dict(), "test_a_and_b": ab.to_dict()}
    passing = passing_only(system)
    if passing is not None:
        ev = evaluate_generations(passing, ks=[], embed=embed, n_boot=n_boot, seed=seed)
        metrics.update({k: v for k, v in metric_values(ev, system.system, "test_passing").items()
                        if "self_bleu" not in k})
        metrics["test_passing/prompts"] = float(len(passing.prompts()))
        details["test_passing"] = ev.to_dict()
    metrics.update({f"test/rule_{k}": v for k, v in system.verdicts.rates().items()})
    return metrics, details
