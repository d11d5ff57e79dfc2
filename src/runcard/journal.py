"""A per-run append-only journal of metric points, so a killed process loses nothing it logged.

Metric points reach the database in batches (fast), but every point is first appended to a local
journal file with one ``write(2)``: once `log_metric` returns, the point is in the kernel's hands
and survives the process being killed. When a run is found crashed on the same host, its journal
is replayed into the store (points already there are skipped by their sequence number) and
removed. A run that ends normally removes its journal after its last flush.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from runcard.store.base import MetricPoint


class Journal:
    """Append-only file of metric points for one run."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd: int | None = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def append(self, points: Iterable[MetricPoint]) -> None:
        """One write for all ``points`` (a line each)."""
        if self._fd is None:
            return
        # Tab-separated; keys cannot hold tabs or newlines (checked when logged). repr() round-trips floats.
        data = "".join(f"{p[0]}\t{p[2]}\t{p[3]!r}\t{p[4]!r}\t{p[1]}\n" for p in points)
        os.write(self._fd, data.encode("utf-8"))

    def close(self, *, remove: bool) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if remove and self.path.exists():
            self.path.unlink()


def read_journal(path: Path) -> list[MetricPoint]:
    """Every complete line of a journal (a torn last line, cut by the crash, is skipped)."""
    points = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if not line.endswith("\n"):
                break
            seq, step, value, ts, key = line[:-1].split("\t", 4)
            points.append(MetricPoint(int(seq), key, int(step), float(value), float(ts)))
    return points


def journal_path(journal_dir: Path, run_id: str) -> Path:
    return journal_dir / f"{run_id}.jsonl"
