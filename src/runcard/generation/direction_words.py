"""What each generation metric's direction means, in words, for tables and for differences.

Diversity has no "better": a label says what a higher value means, and a change is described as
more or less diverse (Self-BLEU rises when samples become more alike).
"""

from __future__ import annotations

import math

from runcard.metrics.directions import direction

#: (metric prefix, label, words for a rise, words for a fall)
_MEANINGS = (
    ("distinct", "higher = more diverse", "more diverse", "less diverse"),
    ("self_bleu", "higher = less diverse (more alike)", "less diverse", "more diverse"),
    ("semantic_diversity", "higher = more diverse", "more diverse", "less diverse"),
    ("pass@", "higher = more prompts solved", "more prompts solved", "fewer prompts solved"),
    ("quality", "the file's quality scores: their direction is the scorer's", "higher quality score",
     "lower quality score"),
)


def _meaning(metric: str) -> tuple[str, str, str, str]:
    for entry in _MEANINGS:
        if metric.startswith(entry[0]):
            return entry
    raise KeyError(metric)


def label(metric: str) -> str:
    """What a higher value of ``metric`` means, e.g. ``"higher = more diverse"``."""
    return _meaning(metric)[1]


def change_words(metric: str, difference: float) -> str:
    """A change B - A in words: ``"less diverse"`` for Self-BLEU +2.3."""
    if not math.isfinite(difference):
        return "undefined"
    if difference == 0:
        return "no change"
    _, _, up, down = _meaning(metric)
    return up if difference > 0 else down


def is_diversity(metric: str) -> bool:
    """Distinct-n, Self-BLEU and semantic diversity (the metrics an all-zero check applies to)."""
    return metric.startswith(("distinct", "self_bleu", "semantic_diversity"))


def higher_or_lower(metric: str) -> str | None:
    """The house direction (`runcard.metrics.directions`): Self-BLEU is lower-is-better, quality unknown."""
    return None if metric == "quality" else direction(metric)
