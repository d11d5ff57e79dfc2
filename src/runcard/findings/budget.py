"""The per-document false-alarm budget: every finding that tests a null shares one family-wise level.

A document (a run card, a comparison, a summary, `runcard eval`) runs many tests: each rule on each split,
class, pair or run. The reader sees one verdict per document, so the error rate that matters is the
document's: the chance that a clean run's card raises any finding at all. Every rule that tests a null hands
in one candidate per test it ran, with its p-value (`Finding.p_value`). The level ``alpha`` (5 % by default)
is split equally among the rules that ran tests in the document (Bonferroni: alpha / R each, so a rule that
runs a thousand pair tests does not take the power of the one calibration test), and inside each rule Holm's
step-down procedure keeps that share: sort the rule's m p-values, p(1) <= ... <= p(m), and reject while
p(i) <= (alpha / R) / (m - i + 1). Together the family-wise error rate of the document is at most alpha.
A candidate is shown only when it is rejected and its claim's effect is there (`Finding.eligible`: e.g. an
ECE of at least 0.01, a run 10x off). Findings with no null (a missing
checkpoint, zero support, a detached loss term) are facts and stay outside the budget. Each finding that
passed carries ``p_value`` and ``budget`` (alpha, the number of tests, its threshold) in its evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from runcard.findings.finding import Finding

#: The family-wise false-alarm level of a document.
ALPHA = 0.05


@dataclass(frozen=True)
class Budget:
    """What the budget did in a document: its level, the tests each rule ran, how many it kept."""

    alpha: float
    tests: dict[str, int]  # rule (finding kind) -> tests it ran
    kept: int

    def to_dict(self) -> dict[str, Any]:
        return {"alpha": self.alpha, "tests": dict(self.tests), "kept": self.kept,
                "method": "alpha split equally among the rules that ran tests, Holm step-down within each"}


def check_alpha(alpha: float) -> float:
    """A family-wise level in (0, 0.5]."""
    from runcard.errors import InputError

    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha <= 0.5:
        raise InputError(f"--alpha {alpha!r}: give the family-wise false-alarm level in (0, 0.5], e.g. 0.05.")
    return float(alpha)


def holm(p_values: Sequence[float], alpha: float = ALPHA) -> tuple[np.ndarray, np.ndarray]:
    """Holm's step-down procedure: (rejected, threshold) per p-value, in the order given. The i-th smallest
    p-value's threshold is ``alpha / (m - i + 1)``; every p-value up to the first that misses its threshold is
    rejected, none after it.

    >>> rejected, thresholds = holm([0.01, 0.04, 0.03], alpha=0.05)
    >>> rejected.tolist(), [round(float(t), 4) for t in thresholds]
    ([True, False, False], [0.0167, 0.05, 0.025])
    """
    p = np.asarray(p_values, dtype=float)
    m = len(p)
    order = np.argsort(p, kind="stable")
    thresholds = np.empty(m)
    thresholds[order] = alpha / (m - np.arange(m))
    rejected = np.zeros(m, dtype=bool)
    for i in order:
        if not p[i] <= thresholds[i]:
            break
        rejected[i] = True
    return rejected, thresholds


def apply_budget(findings: Sequence[Finding], alpha: float = ALPHA) -> tuple[list[Finding], Budget]:
    """The facts, and the tests the budget rejects at ``alpha`` whose claim holds, each with its p-value, its
    rule's share of the level and its threshold in the evidence."""
    facts = [f for f in findings if f.p_value is None]
    rules: dict[str, list[Finding]] = {}
    for f in findings:
        if f.p_value is not None:
            rules.setdefault(f.kind, []).append(f)
    share = alpha / len(rules) if rules else alpha
    kept = []
    for tests in rules.values():
        rejected, thresholds = holm([float(f.p_value) for f in tests], share)  # type: ignore[arg-type]
        for f, keep, threshold in zip(tests, rejected, thresholds):
            if keep and f.eligible:
                budget = {"alpha": alpha, "rules_testing": len(rules), "rule_share": share,
                          "tests_of_rule": len(tests), "threshold": float(threshold),
                          "method": "Holm step-down within the rule's share"}
                kept.append(replace(f, evidence={**f.evidence, "p_value": f.p_value, "budget": budget}))
    return facts + kept, Budget(alpha, {k: len(v) for k, v in rules.items()}, len(kept))
