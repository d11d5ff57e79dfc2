"""`RunView`: everything the rules may look at about one run, as plain values (no store access).

The report layer builds views from the store (or from imported records); the rules stay pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from runcard.evaluate import NAMED_KEYS, Evaluation
from runcard.table import PredictionTable

#: Evaluation scores exposed as ``<split>/<name>`` metrics of a view.
EVALUATION_KEYS = NAMED_KEYS


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
    tables: Mapping[str, PredictionTable] = field(default_factory=dict)  # the predictions (may load lazily)
    prediction_checkpoints: Mapping[str, str | None] = field(default_factory=dict)  # split -> sha logged
    known_checkpoints: frozenset[str] = frozenset()  # checkpoint hashes present in the store
    trained: bool = False  # a train stage ran or train metrics were logged

    def metrics(self) -> dict[str, float]:
        """Logged summary values plus the scores runcard computed from stored predictions."""
        return self._metrics

    def intervals(self) -> dict[str, tuple[float, float]]:
        """``<split>/<metric>`` -> the 95 % bootstrap CI of each evaluated score that has one."""
        return {f"{split}/{k}": v for split, ev in self.evaluations.items() for k, v in (ev.ci95 or {}).items()}

    @cached_property
    def _metrics(self) -> dict[str, float]:
        out = dict(self.summary)
        scores: dict[str, float] = {}
        for split, ev in self.evaluations.items():
            scores.update(ev.named_scores(f"{split}/"))
        out.update(scores)
        out.update(task_means(scores))
        return out


def task_means(scores: Mapping[str, float]) -> dict[str, float]:
    """On a multi-task run (scores named ``<split>/<task>/<metric>``): ``<split>/macro_f1`` and
    ``<split>/accuracy`` as the mean over the split's tasks."""
    by_split: dict[tuple[str, str], list[float]] = {}
    for key, value in scores.items():
        parts = key.split("/")
        if len(parts) == 3 and parts[2] in ("macro_f1", "accuracy"):
            by_split.setdefault((parts[0], parts[2]), []).append(value)
    return {f"{split}/{metric}": sum(v) / len(v) for (split, metric), v in by_split.items() if len(v) > 1}


def headline_keys(keys: list[str]) -> list[str]:
    """Per task, the split a reader looks for: test, else the last split that is not train, else any (keys are
    ``<split>`` or ``<split>/<task>``)."""
    by_task: dict[str | None, list[str]] = {}
    for key in keys:
        by_task.setdefault(key.split("/", 1)[1] if "/" in key else None, []).append(key)
    out = []
    for group in by_task.values():
        held_out = [k for k in group if k.split("/", 1)[0] != "train"]
        out.append(next((k for k in group if k.split("/", 1)[0] == "test"), held_out[-1] if held_out else group[0]))
    return out
