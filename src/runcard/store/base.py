"""The `Store` protocol: what every backend offers. Callers get dataclasses, never rows."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from runcard.store.artifacts import ArtifactStore
from runcard.store.runs import Artifact, Run, RunListing


class MetricPoint(NamedTuple):
    """One logged value. ``seq`` orders the points of a run and makes replays idempotent."""

    seq: int
    key: str
    step: int
    value: float
    timestamp: float


@dataclass(frozen=True)
class NewRun:
    """The facts recorded when a run is created."""

    id: str
    project: str
    name: str
    config: dict[str, Any]
    tags: dict[str, str]
    created_at: float
    status: str = "running"
    host: str | None = None
    pid: int | None = None
    proc_start: str | None = None
    source: str | None = None
    ended_at: float | None = None
    eval_settings: dict[str, Any] | None = None


@dataclass(frozen=True)
class Record:
    """Something computed from a run's stored predictions (an evaluation, a calibration fit, decision rules),
    kept under (run, kind, key, inputs, settings) so every document shows the same numbers. ``scores``:
    flat named scores for listings (evaluations only); ``payload``: the whole result, JSON text."""

    kind: str
    key: str
    inputs: str
    settings: str
    payload: str
    runcard: str
    created_at: float
    scores: dict[str, float] | None = None


class Store(Protocol):
    """A run store. `runcard.store.open_store` picks the backend from a URL."""

    url: str
    artifacts: ArtifactStore
    journal_dir: Path
    #: True for a store opened without write access: reads work, computed records are not kept.
    read_only: bool

    def create_run(self, run: NewRun) -> None: ...

    def set_status(self, run_id: str, status: str, *, error: str | None = None,
                   ended_at: float | None = None, only_if: str | None = None) -> bool: ...

    def heartbeat(self, run_id: str, at: float) -> None: ...

    def add_stage(self, run_id: str, name: str, seconds: float, started_at: float) -> None: ...

    def log_metrics(self, run_id: str, points: list[MetricPoint]) -> None: ...

    def set_summary(self, run_id: str, values: dict[str, float]) -> None: ...

    def add_artifact(self, run_id: str, artifact: Artifact) -> None: ...

    def list_runs(self, project: str | None = None, status: str | None = None) -> list[Run]: ...

    def run_listings(self, project: str | None = None) -> list[RunListing]: ...

    def get_run(self, id_or_prefix: str) -> Run: ...

    def liveness_info(self, run_id: str) -> tuple[str | None, int | None, str | None, float | None]: ...

    def history(self, run_id: str, key: str) -> list[tuple[int, float]]: ...

    def metric_keys(self, run_id: str) -> list[str]: ...

    def all_series(self, run_id: str) -> dict[str, list[tuple[int, float]]]: ...

    def series_of_runs(self, run_ids: list[str]) -> dict[str, dict[str, list[tuple[int, float]]]]: ...

    def find_source(self, source: str) -> str | None: ...

    def delete_run(self, run_id: str) -> list[Artifact]: ...

    def artifact_in_use(self, sha256: str) -> bool: ...

    def set_eval_settings(self, run_id: str, settings: dict[str, Any]) -> None: ...

    def put_record(self, run_id: str, record: Record) -> None: ...

    def get_record(self, run_id: str, kind: str, key: str, inputs: str, settings: str) -> Record | None: ...

    def close(self) -> None: ...
