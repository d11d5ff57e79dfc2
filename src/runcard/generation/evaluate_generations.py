"""`evaluate_generations`: every generation metric per system, paired differences, CIs and findings.

Systems are compared on the same prompts (the first system is the baseline); a prompt present in
only one of them is an error. The bootstrap resamples prompts once for all systems
(`runcard.generation.resample`), so each system's interval and each difference's interval come from
the same draws. `GenerationEvaluation.to_dict` is the JSON of docs/generation.md.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from runcard._version import __version__
from runcard.display import table, with_ci
from runcard.errors import InputError
from runcard.findings.finding import Finding, _jsonable
from runcard.generation import direction_words
from runcard.generation.distinct import ORDERS, TOKEN_PATTERN
from runcard.generation.findings import generation_findings
from runcard.generation.pass_at_k import DEFAULT_KS, check_ks
from runcard.generation.resample import interval, prompt_draws
from runcard.generation.scores import ProgressFactory, SystemScores, prompt_index, system_scores
from runcard.generation.self_bleu import DEFAULT_CAP
from runcard.generation.semantic import BATCH_SIZE, Embedder
from runcard.generation.table import GenerationTable
from runcard.stats import LEVEL


@dataclass(frozen=True)
class MetricResult:
    """One metric of one system: value, 95 % CI, house direction, label, and the prompts it covers."""

    value: float
    ci95: tuple[float, float] | None
    direction: str | None
    label: str
    prompts: int
    left_out: dict[str, int]


@dataclass(frozen=True)
class SystemResult:
    system: str
    n_samples: int
    n_prompts: int
    empty_samples: int
    metrics: dict[str, MetricResult]


@dataclass(frozen=True)
class Difference:
    """B - A on one metric over the shared prompts, with its paired-bootstrap CI; ``per_prompt``
    counts the prompts where B is above, below or equal to A (metrics that are means over prompts)."""

    a: float
    b: float
    b_minus_a: float
    ci95: tuple[float, float] | None
    change: str
    per_prompt: dict[str, int] | None


@dataclass(frozen=True)
class GenerationEvaluation:
    """The result of `evaluate_generations`; ``differences[system][metric]`` is that system minus the first."""

    source: str
    systems: tuple[SystemResult, ...]
    differences: dict[str, dict[str, Difference]]
    findings: tuple[Finding, ...]
    not_computed: dict[str, str]
    settings: dict[str, Any]

    def __repr__(self) -> str:
        heads = []
        for sys_ in self.systems:
            shown = [f"{k}={with_ci(m.value, m.ci95)}" for k, m in sys_.metrics.items()
                     if k.startswith("pass@") or k == "distinct_2"][:3]
            heads.append(f"{sys_.system}: " + ", ".join(shown))
        return f"GenerationEvaluation({self.source}; " + "; ".join(heads) + ")"

    def _repr_html_(self) -> str:
        keys = list(self.systems[0].metrics)
        return table(["system", *keys], [[s.system, *[with_ci(s.metrics[k].value, s.metrics[k].ci95)
                                                       if k in s.metrics else "—" for k in keys]]
                                          for s in self.systems], caption=f"Generations of {self.source}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready result (docs/generation.md); NaN becomes null."""
        return _jsonable({
            "kind": "generation_evaluation",
            "source": self.source,
            "baseline": self.systems[0].system,
            "systems": [{"system": s.system, "n_samples": s.n_samples, "n_prompts": s.n_prompts,
                         "empty_samples": s.empty_samples,
                         "metrics": {k: {"value": m.value, "ci95": None if m.ci95 is None else list(m.ci95),
                                         "direction": m.direction, "label": m.label, "prompts": m.prompts,
                                         "left_out": m.left_out} for k, m in s.metrics.items()}}
                        for s in self.systems],
            "differences": [{"a": self.systems[0].system, "b": system,
                             "metrics": {k: {"a": d.a, "b": d.b, "b_minus_a": d.b_minus_a,
                                             "ci95": None if d.ci95 is None else list(d.ci95), "change": d.change,
                                             "per_prompt": d.per_prompt} for k, d in diffs.items()}}
                            for system, diffs in self.differences.items()],
            "findings": [f.to_dict() for f in self.findings],
            "not_computed": dict(self.not_computed),
            "settings": dict(self.settings),
        })


def evaluate_generations(table: GenerationTable, *, systems: Sequence[str] | None = None,
                         ks: Sequence[int] | None = None, embed: Embedder | None = None,
                         self_bleu_cap: int = DEFAULT_CAP, n_boot: int = 1000, seed: int = 0,
                         progress: ProgressFactory | None = None,
                         model: str | None = None, self_bleu: bool = True) -> GenerationEvaluation:
    """Evaluate the generations of each system (``systems``: names and order; default all, in file order).

    ``ks``: pass@k values (default 1, 5, 10, keeping those at most the smallest sample count);
    ``embed``: a ``texts -> (B, d)`` embedder for semantic diversity (None: not computed);
    ``model``: the embedder's name for the settings; ``self_bleu=False`` leaves Self-BLEU out (the costliest
    lexical score: for a caller that already has it for these samples).
    """
    names, parts, order, ks, not_computed = _plan(table, systems, ks)
    if embed is None:
        not_computed["semantic_diversity"] = "no embedder (--no-semantic, or none given in Python)"
    if not self_bleu:
        not_computed["self_bleu"] = "not asked for (self_bleu=False)"
    scores = [system_scores(parts[name], name, order, ks=ks, embed=embed, cap=self_bleu_cap, progress=progress,
                            with_self_bleu=self_bleu) for name in names]
    resampled = _bootstrap(scores, len(order), n_boot, seed)
    results = tuple(_system_result(s, resampled[s.system]) for s in scores)
    differences = {s.system: _differences(scores[0], s, resampled) for s in scores[1:]}
    settings = _settings(ks, embed is not None, model, self_bleu_cap if self_bleu else None, n_boot, seed)
    evaluation = GenerationEvaluation(table.name, results, differences, (), not_computed, settings)
    return replace(evaluation, findings=tuple(generation_findings(evaluation)))


def check_request(table: GenerationTable, *, systems: Sequence[str] | None = None,
                  ks: Sequence[int] | None = None) -> None:
    """Raise the `InputError` `evaluate_generations` would raise on these systems and ks, before any
    costly step (the CLI calls it before loading the embedding model)."""
    _plan(table, systems, ks)


def _plan(table: GenerationTable, systems: Sequence[str] | None, ks: Sequence[int] | None
          ) -> tuple[list[str], dict[str, GenerationTable], tuple[str, ...], list[int], dict[str, str]]:
    names = _systems(table, systems)
    parts = {name: table.select(name) for name in names}
    order = _shared_prompts(parts, table.name)
    checked, not_computed = _pass_ks(parts, order, ks, table.name)
    return names, parts, order, checked, not_computed


def _systems(table: GenerationTable, systems: Sequence[str] | None) -> list[str]:
    available = table.systems()
    if not systems:
        return list(available)
    unknown = [s for s in systems if s not in available]
    if unknown:
        raise InputError(f"{table.name}: no system {unknown[0]!r}; the file holds {list(available)} "
                         "(the 'system' column; rows without one are 'default').")
    if len(set(systems)) != len(systems):
        raise InputError(f"--system names {list(systems)} repeat one; name each system once.")
    return list(systems)


def _shared_prompts(parts: dict[str, GenerationTable], where: str) -> tuple[str, ...]:
    """The first system's prompt order, after checking every system has exactly those prompts."""
    names = list(parts)
    order = parts[names[0]].prompts()
    base = set(order)
    for name in names[1:]:
        other = set(parts[name].prompts())
        if other != base:
            only_a, only_b = sorted(base - other), sorted(other - base)
            raise InputError(
                f"{where}: systems {names[0]!r} and {name!r} answer different prompts ({len(only_a)} only in "
                f"{names[0]!r}, e.g. {only_a[:3]}; {len(only_b)} only in {name!r}, e.g. {only_b[:3]}); a paired "
                "comparison needs the same prompts in both (select systems with --system, or fill the gaps)."
            )
    return order


def _pass_ks(parts: dict[str, GenerationTable], order: Sequence[str], ks: Sequence[int] | None,
             where: str) -> tuple[list[int], dict[str, str]]:
    first = next(iter(parts.values()))
    if first.passed is None:
        return [], {"pass@k": "no 'passed' column (a checker's verdict per sample)"}
    counts = {name: np.bincount(prompt_index(t, order), minlength=len(order)) for name, t in parts.items()}
    smallest = min(int(c.min()) for c in counts.values())
    not_computed: dict[str, str] = {}
    if ks is None:
        ks = [k for k in DEFAULT_KS if k <= smallest]
        dropped = [k for k in DEFAULT_KS if k > smallest]
        if dropped:
            not_computed[", ".join(f"pass@{k}" for k in dropped)] = \
                f"a prompt has only {smallest} samples (pass@k needs k samples or more)"
    for name, c in counts.items():
        check_ks(list(ks), c, order, f"{where}, system {name!r}")
    return sorted({int(k) for k in ks}), not_computed


def _bootstrap(scores: list[SystemScores], n_prompts: int, n_boot: int,
               seed: int) -> dict[str, dict[str, np.ndarray]]:
    """Resampled values of every system's metrics, from the same prompt draws (shape ``(n_boot,)``)."""
    out = {s.system: {k: np.empty(n_boot) for k in s.ratios} for s in scores}
    start = 0
    for draws in prompt_draws(n_prompts, n_boot, np.random.default_rng(seed)):
        w = draws.astype(np.float64)
        for s in scores:
            for key, ratio in s.ratios.items():
                out[s.system][key][start : start + len(w)] = ratio.resampled(w)
        start += len(w)
    return out


def _system_result(scores: SystemScores, resampled: dict[str, np.ndarray]) -> SystemResult:
    metrics = {}
    for key, ratio in scores.ratios.items():
        left_out = scores.left_out.get(key, {})
        metrics[key] = MetricResult(ratio.value(), interval(resampled[key]), direction_words.higher_or_lower(key),
                                    direction_words.label(key), ratio.prompts, left_out)
    return SystemResult(scores.system, scores.n_samples, scores.n_prompts, scores.empty_samples, metrics)


def _differences(a: SystemScores, b: SystemScores,
                 resampled: dict[str, dict[str, np.ndarray]]) -> dict[str, Difference]:
    out = {}
    for key, ra in a.ratios.items():
        rb = b.ratios[key]
        va, vb = ra.value(), rb.value()
        diff = vb - va
        counts = None
        if ra.per_prompt:
            both = (ra.den > 0) & (rb.den > 0)
            delta = rb.num[both] - ra.num[both]  # den is 1 where defined: num is the prompt's value
            counts = {"b_higher": int(np.count_nonzero(delta > 0)), "a_higher": int(np.count_nonzero(delta < 0)),
                      "tied": int(np.count_nonzero(delta == 0))}
        ci = interval(resampled[b.system][key] - resampled[a.system][key])
        out[key] = Difference(va, vb, diff, ci, direction_words.change_words(key, diff) if math.isfinite(diff)
                              else "undefined", counts)
    return out


def _settings(ks: list[int], semantic: bool, model: str | None, cap: int | None, n_boot: int,
              seed: int) -> dict[str, Any]:
    """The settings and their one-line signature; ``cap`` None: Self-BLEU was not computed."""
    from runcard.generation.self_bleu import signature

    bleu = signature() if cap is not None else "off"
    settings: dict[str, Any] = {
        "tokenizer": f"lowercase, then the Unicode regex {TOKEN_PATTERN.pattern}",
        "distinct_n": list(ORDERS),
        "self_bleu": {"signature": bleu, "cap": cap, "cap_rule": "the first samples of a prompt, in file order"}
        if cap is not None else None,
        "semantic": {"model": model or "injected embedder", "pooling": "mean over the attention mask, L2-normalised",
                     "distance": "1 - cosine similarity, mean over pairs i != j", "batch_size": BATCH_SIZE}
        if semantic else None,
        "pass_at_k": {"k": ks, "estimator": "unbiased, 1 - prod_{i=n-c+1}^{n} (1 - k/i) (Chen et al. 2021)"},
        "ci": "percentile bootstrap over prompts (paired: the same draws for every system)",
        "corpus_distinct_resampling": "per-prompt credit: an n-gram in q prompts gives 1/q to each",
        "n_boot": n_boot, "seed": seed, "level": LEVEL,
    }
    settings["signature"] = (f"runcard {__version__} | ci:bootstrap-prompts n_boot:{n_boot} seed:{seed} "
                             f"level:{LEVEL} | distinct:lower+regex | "
                             f"self-bleu:{bleu if cap is None else f'{bleu} cap:{cap}'} | "
                             f"semantic:{(model or 'injected') if semantic else 'off'} | pass@k:{ks or 'off'}")
    return settings
