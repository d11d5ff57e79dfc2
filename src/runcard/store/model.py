"""What the store hands out: `Run` and `Artifact` dataclasses, never rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

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
    store: Store | None = field(default=None, repr=False, compare=False)

    def history(self, key: str) -> list[tuple[int, float]]:
        """The ``(step, value)`` series logged under ``key``, in logging order."""
        return self._store().history(self.id, key)

    def metric_keys(self) -> list[str]:
        """Every key with a logged series."""
        return self._store().metric_keys(self.id)

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
            "summary": {k: (None if v != v else v) for k, v in self.summary.items()},  # NaN is not JSON
            "created_at": self.created_at, "ended_at": self.ended_at, "heartbeat_at": self.heartbeat_at,
            "host": self.host, "pid": self.pid, "error": self.error, "source": self.source,
        }
