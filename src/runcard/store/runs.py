"""What the store hands out: `Run`, `RunListing` and `Artifact` dataclasses, never rows."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from runcard.display import table
from runcard.eval_settings import EvalSettings, settings_from_config, settings_from_mapping

if TYPE_CHECKING:
    from runcard.store.base import Store
    from runcard.table import PredictionTable

#: Run statuses. ``crashed``: the owner process died (or stopped heart-beating) while running.
STATUSES = ("running", "finished", "failed", "crashed")
#: Artifact kinds.
KINDS = ("checkpoint", "predictions", "generations", "file")


@dataclass(frozen=True)
class Artifact:
    """A stored file (or directory): content-addressed by ``sha256``, at ``path`` under the artifact root."""

    name: str
    kind: str
    sha256: str
    size: int
    path: str
    created_at: float
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "sha256": self.sha256, "size": self.size,
                "path": self.path, "created_at": self.created_at, "meta": dict(self.meta)}


@dataclass(frozen=True)
class Run:
    """One run as stored: its facts, stage timings, artifacts and latest metric values."""

    id: str
    project: str
    name: str
    status: str
    config: dict[str, Any]
    tags: dict[str, str]
    stages: dict[str, float]
    artifacts: tuple[Artifact, ...]
    summary: dict[str, float]
    created_at: float
    ended_at: float | None = None
    heartbeat_at: float | None = None
    host: str | None = None
    pid: int | None = None
    error: str | None = None
    source: str | None = None
    eval_settings: dict[str, Any] | None = None  # as recorded; `runcard.store.evaluations.run_settings` resolves
    evaluated: dict[str, float] = field(default_factory=dict)  # scores of its stored evaluations (run's settings)
    store: Store | None = field(default=None, repr=False, compare=False)

    def history(self, key: str) -> list[tuple[int, float]]:
        """The ``(step, value)`` series logged under ``key``, in logging order."""
        return self._store().history(self.id, key)

    def metric_keys(self) -> list[str]:
        """Every key with a logged series."""
        return self._store().metric_keys(self.id)

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v:.4f}" for k, v in self.evaluated.items()
                          if k in ("test/macro_f1", "test/accuracy", "test/kl"))
        return f"Run({self.id}, {self.project}/{self.name}, {self.status}" + (f", {shown}" if shown else "") + ")"

    def _repr_html_(self) -> str:
        rows: list[list[Any]] = [["id", self.id], ["project/name", f"{self.project}/{self.name}"],
                                 ["status", self.status], *[[k, v] for k, v in self.evaluated.items()]]
        return table(["field", "value"], rows, caption="A stored run (runcard.card(run) builds its card)")

    @cached_property
    def settings(self) -> EvalSettings:
        """The run's evaluation settings (recorded, else from its config, else the defaults)."""
        return resolve_settings(self.eval_settings, self.config)

    def predictions(self, split: str) -> PredictionTable:
        """The predictions logged for ``split`` (the latest, if logged more than once), hash-checked."""
        from runcard.store.predictions import load_run_predictions

        return load_run_predictions(self._store(), self, split)

    def artifact(self, name: str | None = None, kind: str | None = None) -> Artifact | None:
        """The latest artifact with this name and/or kind, or None."""
        for art in reversed(self.artifacts):
            if (name is None or art.name == name) and (kind is None or art.kind == kind):
                return art
        return None

    def _store(self) -> Store:
        if self.store is None:
            raise RuntimeError("this Run was built without a store")
        return self.store

    def to_dict(self) -> dict[str, Any]:
        """The run as JSON-ready values (`runcard runs --json`, `runcard show --json`)."""
        return {
            "id": self.id, "project": self.project, "name": self.name, "status": self.status,
            "config": self.config, "tags": dict(self.tags), "stages": dict(self.stages),
            "artifacts": [a.to_dict() for a in self.artifacts],
            "summary": dict(self.summary),  # NaN and infinities: written as strings by runcard.jsonsafe
            "created_at": self.created_at, "ended_at": self.ended_at, "heartbeat_at": self.heartbeat_at,
            "host": self.host, "pid": self.pid, "error": self.error, "source": self.source,
            "eval_settings": self.eval_settings, "evaluated": dict(self.evaluated),
        }


@dataclass(frozen=True)
class RunListing:
    """One run as a listing shows it: its facts and flat values, without stages, artifacts or evaluations. Its
    config and tags stay JSON until asked for (a listing of 10,000 runs that shows neither skips 20,000 parses)."""

    id: str
    project: str
    name: str
    status: str
    config_json: str
    tags_json: str
    created_at: float
    ended_at: float | None
    summary: dict[str, float]
    evaluated: dict[str, float]

    @cached_property
    def config(self) -> dict[str, Any]:
        """The run's config, parsed on first use."""
        return json.loads(self.config_json)

    @cached_property
    def tags(self) -> dict[str, str]:
        """The run's tags, parsed on first use."""
        return json.loads(self.tags_json)

    @cached_property
    def values(self) -> dict[str, float]:
        """Logged values and evaluated scores; a score computed from the stored predictions wins."""
        return {**self.summary, **self.evaluated}


def seconds_taken(run: Run | RunListing) -> float | None:
    """How long a run took: to its end, or so far while it runs; None for one that stopped without an end time."""
    end = run.ended_at if run.ended_at is not None else (time.time() if run.status == "running" else None)
    return None if end is None else max(0.0, end - run.created_at)


def summaries_by_run(rows: Iterable[Sequence[Any]]) -> dict[str, dict[str, float]]:
    """``(run id, key, value)`` rows of the summary table as each run's latest values (a stored NULL is NaN)."""
    out: dict[str, dict[str, float]] = {}
    for run_id, key, value in rows:  # unpacked: a Row's attributes cost 10,000 runs 0.1 s
        out.setdefault(run_id, {})[key] = math.nan if value is None else value
    return out


def scores_by_run(rows: Iterable[Sequence[Any]]) -> dict[str, list[tuple[str, str, str, str]]]:
    """``(run id, key, inputs, settings, scores)`` rows of evaluation records as each run's
    ``(key, inputs, settings, scores)``, the form `current_scores` reads."""
    out: dict[str, list[tuple[str, str, str, str]]] = {}
    for run_id, key, inputs, settings, scores in rows:
        out.setdefault(run_id, []).append((key, inputs, settings, scores))
    return out


def prediction_key(meta: dict[str, object]) -> str:
    """How documents name a predictions artifact: its split, or ``<split>/<task>`` on a multi-task run."""
    task = meta.get("task")
    return f"{meta.get('split')}/{task}" if task else str(meta.get("split"))


def split_of(key: str) -> str:
    """The split part of a predictions key (``test/stance`` -> ``test``)."""
    return key.split("/", 1)[0]


def task_of(key: str) -> str | None:
    """The task part of a predictions key, None for a single-task run."""
    return key.split("/", 1)[1] if "/" in key else None


#: Splits in the order documents list them (test first: it is what a reader looks for).
SPLIT_ORDER = ("test", "val", "validation", "dev", "train")


def _split_rank(key: str, tasks: list[str]) -> tuple[int, int, str]:
    split, task = split_of(key), task_of(key) or ""
    return (tasks.index(task), SPLIT_ORDER.index(split) if split in SPLIT_ORDER else len(SPLIT_ORDER), split)


def latest_predictions(artifacts: Iterable[Artifact]) -> dict[str, Artifact]:
    """The last predictions artifact logged for each split (``split/task`` on multi-task runs), by task (as
    first logged), then test, val, train."""
    latest: dict[str, Artifact] = {}
    tasks: list[str] = []
    for art in artifacts:
        if art.kind == "predictions":
            key = prediction_key(art.meta)
            latest[key] = art
            if (task_of(key) or "") not in tasks:
                tasks.append(task_of(key) or "")
    return {s: latest[s] for s in sorted(latest, key=lambda k: _split_rank(k, tasks))}


def resolve_settings(recorded: dict[str, Any] | None, config: dict[str, Any]) -> EvalSettings:
    """A run's evaluation settings: as recorded with it, else as its config declares, else the defaults."""
    return settings_from_mapping(recorded, "recorded evaluation settings") if recorded else settings_from_config(config)


def current_scores(artifacts: Sequence[Artifact], settings: str,
                   rows: Iterable[tuple[str, str, str, str | None]]) -> dict[str, float]:
    """The flat scores of the stored evaluations that belong to a run's latest predictions and its settings:
    ``rows`` are (key, inputs, settings, scores JSON) of its evaluation records."""
    from runcard.findings.view import task_means  # on use: the findings package imports numpy (0.1 s of a listing)

    latest = {key: art.sha256 for key, art in latest_predictions(artifacts).items()}
    out: dict[str, float] = {}
    for key, inputs, used, scores in rows:
        if used == settings and latest.get(key) == inputs and scores:
            out.update(json.loads(scores))
    out.update(task_means(out))
    return out
