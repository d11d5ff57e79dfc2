"""The `Store` protocol: what every backend offers. Callers get dataclasses, never rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from runcard.store.artifacts import ArtifactStore
from runcard.store.model import Artifact, Run


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
    extra: dict[str, Any] = field(default_factory=dict)


class Store(Protocol):
    """A run store. `runcard.store.open_store` picks the backend from a URL."""

    url: str
    artifacts: ArtifactStore
    journal_dir: Path

    def create_run(self, run: NewRun) -> None: ...

    def set_status(self, run_id: str, status: str, *, error: str | None = None,
                   ended_at: float | None = None, only_if: str | None = None) -> bool: ...

    def heartbeat(self, run_id: str, at: float) -> None: ...

    def add_stage(self, run_id: str, name: str, seconds: float, started_at: float) -> None: ...

    def log_metrics(self, run_id: str, points: list[MetricPoint]) -> None: ...

    def set_summary(self, run_id: str, values: dict[str, float]) -> None: ...

    def add_artifact(self, run_id: str, artifact: Artifact) -> None: ...

    def list_runs(self, project: str | None = None, status: str | None = None) -> list[Run]: ...

    def get_run(self, id_or_prefix: str) -> Run: ...

    def liveness_info(self, run_id: str) -> tuple[str | None, int | None, str | None, float | None]: ...

    def history(self, run_id: str, key: str) -> list[tuple[int, float]]: ...

    def metric_keys(self, run_id: str) -> list[str]: ...

    def all_series(self, run_id: str) -> dict[str, list[tuple[int, float]]]: ...

    def find_source(self, source: str) -> str | None: ...

    def delete_run(self, run_id: str) -> list[Artifact]: ...

    def artifact_in_use(self, sha256: str) -> bool: ...

    def close(self) -> None: ...
