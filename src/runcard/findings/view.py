"""`RunView`: everything the rules may look at about one run, as plain values (no store access).

The report layer builds views from the store (or from imported records); the rules stay pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from runcard.evaluate import Evaluation

#: Evaluation scores exposed as ``<split>/<name>`` metrics of a view.
EVALUATION_KEYS = ("accuracy", "balanced_accuracy", "macro_f1", "weighted_f1", "cohen_kappa", "mcc", "nll",
                   "brier", "ece", "adaptive_ece")


@dataclass(frozen=True)
class RunView:
    """One run as the findings rules see it."""

    id: str
    name: str
    project: str = ""
    status: str = "finished"
    config: Mapping[str, Any] = field(default_factory=dict)
    summary: Mapping[str, float] = field(default_factory=dict)
    series: Mapping[str, list[tuple[int, float]]] = field(default_factory=dict)
    evaluations: Mapping[str, Evaluation] = field(default_factory=dict)
    texts: Mapping[str, list[str]] = field(default_factory=dict)  # split -> input texts
    prediction_checkpoints: Mapping[str, str | None] = field(default_factory=dict)  # split -> sha logged
    known_checkpoints: frozenset[str] = frozenset()  # checkpoint hashes present in the store
    trained: bool = False  # a train stage ran or train metrics were logged

    def metrics(self) -> dict[str, float]:
        """Logged summary values plus the scores runcard computed from stored predictions."""
        return self._metrics

    @cached_property
    def _metrics(self) -> dict[str, float]:
        out = dict(self.summary)
        for split, ev in self.evaluations.items():
            for key in EVALUATION_KEYS:
                value = ev.scores.get(key) if key in ev.scores else getattr(ev, key, None)
                if value is not None:
                    out[f"{split}/{key}"] = float(value)
            for k, value in ev.top_k.items():
                out[f"{split}/top{k}_accuracy"] = value
            if ev.soft:
                for key, value in ev.soft.items():
                    out[f"{split}/{key}"] = value
        out.update(task_means(self.evaluations))
        return out


def task_means(evaluations: Mapping[str, Evaluation]) -> dict[str, float]:
    """On a multi-task run (evaluations keyed ``<split>/<task>``): ``<split>/macro_f1`` and
    ``<split>/accuracy`` as the mean over its tasks."""
    by_split: dict[str, list[Evaluation]] = {}
    for key, ev in evaluations.items():
        split, _, task = key.partition("/")
        if task:
            by_split.setdefault(split, []).append(ev)
    out = {}
    for split, evs in by_split.items():
        if len(evs) > 1:
            out[f"{split}/macro_f1"] = sum(e.macro_f1 for e in evs) / len(evs)
            out[f"{split}/accuracy"] = sum(e.accuracy for e in evs) / len(evs)
    return out
