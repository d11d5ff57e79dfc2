"""Findings over a generation evaluation: the house rules, applied to generation metrics.

- ``not_significant``: a difference B - A whose 95 % CI contains 0 (the shared rule);
- ``ceiling_effect``: pass@k at or above 0.98 for every system (the shared threshold);
- ``all_zero_metric`` (error): a diversity metric that is 0 or NaN for every system, with the
  likely cause worked out from the counts (empty samples, one sample per prompt, samples too short
  for BLEU-4, identical embeddings).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from runcard.findings.across_runs import CEILING, not_significant
from runcard.findings.finding import Finding, sort_findings
from runcard.generation import direction_words

if TYPE_CHECKING:
    from runcard.generation.evaluate_generations import GenerationEvaluation


def generation_findings(ev: GenerationEvaluation) -> list[Finding]:
    """Every rule, errors first."""
    found: list[Finding] = []
    base = ev.systems[0].system
    for system, diffs in ev.differences.items():
        for metric, d in diffs.items():
            if d.ci95 is not None and math.isfinite(d.b_minus_a):
                found += not_significant(metric, d.b_minus_a, d.ci95, runs=(base, system))
    found += pass_ceiling(ev)
    found += all_zero_diversity(ev)
    return sort_findings(found)


def pass_ceiling(ev: GenerationEvaluation) -> list[Finding]:
    """pass@k >= 0.98 for every system evaluated: the benchmark cannot separate them."""
    out = []
    for metric in ev.systems[0].metrics:
        if not metric.startswith("pass@"):
            continue
        values = {s.system: s.metrics[metric].value for s in ev.systems}
        if all(CEILING <= v <= 1.0 for v in values.values()):
            lower = {s.system: _lower(s.metrics[metric].ci95) for s in ev.systems}
            out.append(Finding(
                "ceiling_effect", "warning",
                f"{metric} is at least {min(values.values()):.4f} for every system ({len(values)})",
                {"metric": metric, "values": values, "ci95_lower": lower, "ceiling": CEILING},
                "These prompts cannot separate the systems: use harder prompts, a stricter checker, or a smaller k.",
                runs=tuple(values), metrics=(metric,),
            ))
    return out


def _lower(ci: tuple[float, float] | None) -> float | None:
    return None if ci is None else ci[0]


def all_zero_diversity(ev: GenerationEvaluation) -> list[Finding]:
    """A diversity metric that is exactly 0 or NaN for every system: a failed step, not a result."""
    out = []
    for metric in ev.systems[0].metrics:
        if not direction_words.is_diversity(metric):
            continue
        values = {s.system: s.metrics[metric].value for s in ev.systems}
        if all(not math.isfinite(v) or v == 0.0 for v in values.values()):
            cause = likely_cause(metric, ev)
            out.append(Finding(
                "all_zero_metric", "error", f"{metric} is 0 or undefined for every system: {cause}",
                {"metric": metric, "values": values, "cause": cause,
                 "empty_samples": {s.system: s.empty_samples for s in ev.systems},
                 "samples": {s.system: s.n_samples for s in ev.systems},
                 "left_out": {s.system: s.metrics[metric].left_out for s in ev.systems}},
                "A pipeline failure, not a diversity result: fix the cause named above and evaluate again.",
                runs=tuple(values), metrics=(metric,),
            ))
    return out


def likely_cause(metric: str, ev: GenerationEvaluation) -> str:
    """The most likely reason a diversity metric came out 0 or undefined, from the counts."""
    empty = sum(s.empty_samples for s in ev.systems)
    total = sum(s.n_samples for s in ev.systems)
    if empty == total:
        return "every sample is empty: the generation step produced nothing, or wrote the wrong field as 'sample'"
    if metric.startswith("distinct"):
        return ("no sample has enough tokens for its n-grams (lowercase + regex tokens); the samples are empty "
                f"or too short ({empty} of {total} empty)")
    left = [s.metrics[metric].left_out for s in ev.systems]
    prompts = sum(s.n_prompts for s in ev.systems)
    if sum(x.get("single_sample", 0) for x in left) == prompts:
        return "every prompt has a single sample; diversity compares samples of the same prompt: draw 2 or more"
    if metric == "self_bleu":
        if sum(x.get("no_4grams", 0) for x in left) + sum(x.get("single_sample", 0) for x in left) == prompts:
            return ("no prompt's samples hold a 4-gram (13a tokens): BLEU-4 is undefined on samples this short; "
                    "use distinct-n or semantic diversity")
        return "no sample shares a single token with another sample of its prompt: check the samples are text"
    return ("every sample of a prompt got the same embedding: the embedder's tokenizer likely mapped the texts to "
            "the same tokens (all unknown?) or the model's weights failed to load")
