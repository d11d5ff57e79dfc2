"""The store as the UI reads it: opened once, read-only, with the caches that keep a listing of 10,000 runs fast.

The UI never writes: its `SqlStore` is its own instance (not the one `open_store` shares in the process) with
``read_only`` set, so every write path raises, a computed result that a document would keep is recomputed
instead, and a run whose owner died is *shown* as crashed (judged by its lock or heartbeat, as `runcard runs`
judges it) without being marked so in the store.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from runcard.errors import InputError, RunCardError
from runcard.liveness import run_alive
from runcard.store import Run, SqlStore, open_store, store_url
from runcard.store.runs import RunListing
from runcard.ui.counting import FindingsWorker, open_read_only
from runcard.urls import safe_url

#: Findings counts kept per run (a run's count is recomputed when what it is computed from changes).
FINDINGS_CACHE = 20_000


class NotFound(RunCardError):
    """What a URL names is not there (a store, a run, a sweep): an HTTP 404 page."""


class BadRequest(InputError):
    """A query the UI cannot answer as asked (an unknown column, a single run to compare): an HTTP 400 page."""


class UiStore:
    """The store behind one UI server, opened on first use (a missing SQLite file is a `NotFound` on every page
    until it exists: the UI never creates a store)."""

    def __init__(self, url: str | None = None) -> None:
        self.url = store_url(url)
        self._store: SqlStore | None = None
        self._worker: FindingsWorker | None = None
        self._lock = threading.Lock()
        self._cache_lock = threading.Lock()
        self._index: dict[str | None, tuple[tuple[Any, ...], list[RunListing]]] = {}
        self._sweeps: dict[str | None, tuple[tuple[Any, ...], list[tuple[str, int]]]] = {}
        self._findings: OrderedDict[tuple[Any, ...], dict[str, int]] = OrderedDict()

    @property
    def where(self) -> str:
        return safe_url(self.url)

    def get(self) -> SqlStore:
        """The opened store (read-only)."""
        with self._lock:
            if self._store is None:
                self._store = self._open()
            return self._store

    def _open(self) -> SqlStore:
        try:
            parsed = make_url(self.url)
        except ArgumentError:
            raise BadRequest(f"store URL {self.where!r} is not a database URL; start the UI with "
                             "--store sqlite:///path/to/runcard.db or postgresql+psycopg://user@host/db.") from None
        if parsed.get_backend_name() == "sqlite":
            db = Path(parsed.database or "")
            if not parsed.database or not db.is_file():
                raise NotFound(f"no store at {db}: nothing has been recorded there yet. Record a run (e.g. `make "
                               "demo`, or `runcard run CONFIG`) or start the UI with --store URL of an existing store.")
        shared = open_store(self.url)  # resolves the artifact and journal folders exactly as every command does
        return open_read_only(shared.url, shared.artifacts.root, shared.journal_dir)

    def worker(self) -> FindingsWorker:
        """The low-priority process that counts findings (`runcard.ui.counting`), started on first use."""
        store = self.get()
        with self._lock:
            if self._worker is None:
                self._worker = FindingsWorker(store)
            return self._worker

    # -- listings ---------------------------------------------------------------------------------

    def listings(self, project: str | None) -> list[RunListing]:
        """Every run of ``project`` with its flat values; rebuilt only when the store's listing version moves."""
        store = self.get()
        version = store.listing_version()
        cached = self._index.get(project)
        if cached is not None and cached[0] == version:
            return cached[1]
        rows = store.run_listings(project)
        with self._cache_lock:
            if len(self._index) >= 4:
                self._index.clear()
            self._index[project] = (version, rows)
        return rows

    def projects(self) -> list[tuple[str, int]]:
        """(project, number of runs), most runs first."""
        return sorted(self.get().project_counts().items(), key=lambda kv: (-kv[1], kv[0]))

    def sweeps(self, project: str | None) -> list[tuple[str, int]]:
        """(sweep id, number of runs) of the runs tagged with a sweep; counted again only when the store's
        listing version moves (counting reads every run's tags: most of a runs page's time at 10,000 runs)."""
        store = self.get()
        version = store.listing_version()
        cached = self._sweeps.get(project)
        if cached is not None and cached[0] == version:
            return cached[1]
        counted = sorted(store.tag_counts("sweep", project).items())
        with self._cache_lock:
            if len(self._sweeps) >= 16:
                self._sweeps.clear()
            self._sweeps[project] = (version, counted)
        return counted

    def runs(self, ids: Sequence[str]) -> list[Run]:
        """Runs by exact id (unknown ids left out), in the order given."""
        return self.get().get_runs(list(ids))

    def run(self, id_or_prefix: str) -> Run:
        """One run by id or unique prefix; a `NotFound` naming it otherwise."""
        store = self.get()
        found = store.get_runs([id_or_prefix])
        if found:
            return found[0]
        try:
            return store.get_run(id_or_prefix)
        except InputError as exc:
            raise NotFound(str(exc)) from None

    # -- what the store does not keep -------------------------------------------------------------

    def status(self, run: Run) -> str:
        """The status to show: a running run whose owner is gone shows as crashed (nothing is written)."""
        if run.status == "running" and run_alive(self.get(), run.id) is False:
            return "crashed"
        return run.status

    def findings_counts(self, runs: Sequence[Run], *, compute: bool = True) -> dict[str, dict[str, int] | None]:
        """Run id -> its own findings counted by severity (the numbers the summary's findings column and its card
        give: every rule over its stored evaluations, its series and its predictions). Counts are kept per run
        and what they are computed from; with ``compute`` False, runs not counted yet map to None."""
        out: dict[str, dict[str, int] | None] = {}
        missing: list[tuple[Run, tuple[Any, ...]]] = []
        with self._cache_lock:
            for run in runs:
                key = _findings_key(run)
                if key in self._findings:
                    self._findings.move_to_end(key)
                    out[run.id] = self._findings[key]
                else:
                    out[run.id] = None
                    missing.append((run, key))
        if compute and missing:
            counted = self.worker().count([run.id for run, _ in missing])
            for run, key in missing:
                if run.id in counted:
                    out[run.id] = self._remember(key, counted[run.id])
        return out

    def _remember(self, key: tuple[Any, ...], counts: dict[str, int]) -> dict[str, int]:
        with self._cache_lock:
            self._findings[key] = counts
            while len(self._findings) > FINDINGS_CACHE:
                self._findings.popitem(last=False)
        return counts

    def close(self) -> None:
        if self._worker is not None:
            self._worker.close()
        if self._store is not None:
            self._store.close()


def _findings_key(run: Run) -> tuple[Any, ...]:
    """What a run's findings are computed from, as far as a listing can see: its status, artifacts, latest
    values and evaluated scores (a new point, prediction or evaluation changes the key)."""
    return (run.id, run.status, run.ended_at, tuple(a.sha256 for a in run.artifacts),
            tuple(sorted((k, repr(v)) for k, v in run.summary.items())), tuple(sorted(run.evaluated)))
