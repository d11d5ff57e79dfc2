"""Findings counted away from the server: in one worker process at the lowest CPU priority.

A run's findings are every rule over its stored evaluations, series and predictions (the label-issue null alone
is about 0.1 s a run), and the runs table asks for them for every run it shows. Counted in the server's own
process they would hold its interpreter while pages wait; in a worker at ``nice 19``, pages and the browser come
first and the badges fill in as the worker gets to them.

The worker is ``python -m runcard.ui.counting`` (a plain subprocess, so nothing of the program that serves the
UI is imported or run again in it), reading one JSON line per request on stdin (the run ids) and answering one
on stdout (run id -> counts by severity). It opens the store read-only, as the server does, and reads each run
again by its id; it ends when its stdin closes (the server stopped, or died). Where no worker can run, the
counting happens in the caller's thread instead: the same numbers, only slower pages meanwhile.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import IO, Any

from runcard.findings import run_findings
from runcard.report.views import load_runs
from runcard.store import SqlStore

log = logging.getLogger(__name__)

SEVERITIES = ("error", "warning", "info")


def open_read_only(url: str, artifacts: str | Path, journal: str | Path) -> SqlStore:
    """A `SqlStore` of its own (not the one `open_store` shares) on which every write path raises."""
    store = SqlStore(url, artifacts, journal)
    store.read_only = True
    return store


def count_findings(store: SqlStore, run_ids: list[str]) -> dict[str, dict[str, int]]:
    """Run id -> its own findings counted by severity (the card's and the summary's numbers)."""
    out: dict[str, dict[str, int]] = {}
    runs = store.get_runs(run_ids)
    for run, loaded in zip(runs, load_runs(store, runs)):
        counts = Counter(f.severity for f in run_findings(loaded.view))
        out[run.id] = {s: counts.get(s, 0) for s in SEVERITIES}
    return out


class FindingsWorker:
    """One low-priority worker process for one store, started on first use; requests are served in turn."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self._process: subprocess.Popen[str] | None = None
        self._failed = False
        self._lock = threading.Lock()

    def _started(self) -> subprocess.Popen[str] | None:
        """The running worker (started here if need be), or None when counting happens in this process."""
        if self._process is None and not self._failed:
            try:
                self._process = subprocess.Popen(
                    [sys.executable, "-m", "runcard.ui.counting"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                    text=True, bufsize=1)
                settings = {"url": self.store.url, "artifacts": str(self.store.artifacts.root),
                            "journal": str(self.store.journal_dir)}
                assert self._process.stdin is not None
                self._process.stdin.write(json.dumps(settings) + "\n")
            except OSError as exc:
                self._give_up(f"no worker process ({exc})")
        return self._process

    def _give_up(self, why: str) -> None:
        log.warning("findings are counted in the server's process from now on: %s", why)
        self._failed = True
        process, self._process = self._process, None
        if process is not None:
            with contextlib.suppress(OSError):
                process.kill()
            process.wait()

    def _ask(self, run_ids: list[str]) -> dict[str, dict[str, int]] | None:
        with self._lock:
            process = self._started()
            if process is None:
                return None
            assert process.stdin is not None and process.stdout is not None
            try:
                process.stdin.write(json.dumps(run_ids) + "\n")
                line = process.stdout.readline()
                answer: Any = json.loads(line) if line.strip() else {"error": f"it ended ({process.poll()})"}
            except (OSError, ValueError) as exc:
                self._give_up(f"the worker's pipe broke ({exc})")
                return None
            if not isinstance(answer, dict) or isinstance(answer.get("error"), str):
                self._give_up(f"the worker failed: {answer.get('error') if isinstance(answer, dict) else answer}")
                return None
            return answer

    def warm(self) -> None:
        """Start the worker and let it import the rules, before the first page asks."""
        self._ask([])

    def count(self, run_ids: list[str]) -> dict[str, dict[str, int]]:
        """Run id -> findings by severity, from the worker (or here, when it cannot run)."""
        answer = self._ask(run_ids)
        return answer if answer is not None else count_findings(self.store, run_ids)

    @property
    def pid(self) -> int | None:
        """The worker process's id, None when counting happens in the caller's process."""
        return None if self._process is None else self._process.pid

    def close(self) -> None:
        with self._lock:
            process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(OSError):
            if process.stdin is not None:
                process.stdin.close()  # the worker ends at the end of its input
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _serve(stdin: IO[str], stdout: IO[str]) -> None:
    """The worker's loop: the store's settings first, then one request per line until the input ends."""
    with contextlib.suppress(OSError, AttributeError):  # no nice() here: the same work at normal priority
        os.nice(19)
    settings = json.loads(stdin.readline())
    store = open_read_only(settings["url"], settings["artifacts"], settings["journal"])
    for line in stdin:
        try:
            reply: dict[str, Any] = count_findings(store, json.loads(line)) if line.strip() else {}
        except Exception as exc:  # noqa: BLE001 -- said to the server, which then counts by itself
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        stdout.write(json.dumps(reply) + "\n")
        stdout.flush()
    store.close()


if __name__ == "__main__":
    replies, sys.stdout = sys.stdout, sys.stderr  # a stray print goes to the log, never into an answer
    _serve(sys.stdin, replies)
