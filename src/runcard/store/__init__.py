"""The run store: runs, metric series, stage timings, artifacts. Chosen by URL.

``sqlite:///path/runcard.db`` (the embedded default, ``sqlite:///.runcard/runcard.db``) keeps
artifacts in ``artifacts/`` beside the database file; ``postgresql+psycopg://user@host/db`` is the
team backend, with artifacts wherever ``RUNCARD_ARTIFACTS`` points (shared storage). The URL comes
from the ``store`` argument, else ``RUNCARD_STORE``, else the default.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from runcard.errors import InputError
from runcard.store.artifacts import ArtifactError, ArtifactStore
from runcard.store.base import MetricPoint, NewRun, Store
from runcard.store.opening import StoreError, StoreFileError
from runcard.store.runs import Artifact, Run
from runcard.store.sql import SqlStore

DEFAULT_URL = "sqlite:///.runcard/runcard.db"

_open: dict[tuple[str, str, str, int], SqlStore] = {}


def store_url(url: str | None = None) -> str:
    """The store URL in effect: the argument, else ``RUNCARD_STORE``, else the default."""
    return url or os.environ.get("RUNCARD_STORE") or DEFAULT_URL


def absolute_url(url: str) -> str:
    """``url`` with a SQLite database path made absolute (against the working directory); other URLs as they
    are. Two URLs of one store compare equal after this, and a worker in another folder opens the same file."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        return parsed.set(database=str(Path(parsed.database).resolve())).render_as_string(hide_password=False)
    return url


def open_store(store: str | Store | None = None) -> Store:
    """Open (and create or migrate if needed) the store at a URL; a `Store` is returned as is."""
    if store is not None and not isinstance(store, str):
        return store
    url = store_url(store)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InputError(f"store URL {url!r} is not a database URL; use sqlite:///path/to/runcard.db or "
                         "postgresql+psycopg://user@host/db.") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise InputError(f"store URL {url!r}: give a database file (sqlite:///path/to/runcard.db); an "
                             "in-memory database cannot be shared between connections and processes.")
        db = Path(parsed.database).resolve()
        db.parent.mkdir(parents=True, exist_ok=True)
        url = parsed.set(database=str(db)).render_as_string(hide_password=False)
        artifacts = os.environ.get("RUNCARD_ARTIFACTS") or str(db.parent / "artifacts")
        journal = os.environ.get("RUNCARD_JOURNAL") or str(db.parent / "journal")
    else:
        artifacts = os.environ.get("RUNCARD_ARTIFACTS") or ".runcard/artifacts"
        journal = os.environ.get("RUNCARD_JOURNAL") or str(Path.home() / ".cache" / "runcard" / "journal")
    artifacts, journal = str(Path(artifacts).resolve()), str(Path(journal).resolve())
    key = (url, artifacts, journal, os.getpid())  # a forked child opens its own connections
    if key not in _open:
        _open[key] = SqlStore(url, artifacts, journal)
    return _open[key]


__all__ = [
    "DEFAULT_URL", "Artifact", "ArtifactError", "ArtifactStore", "MetricPoint", "NewRun", "Run", "SqlStore",
    "Store", "StoreError", "StoreFileError", "absolute_url", "open_store", "store_url",
]
