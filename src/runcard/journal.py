"""A per-run append-only journal of metric points, so a killed process loses nothing it logged.

Metric points reach the database in batches (fast), but every point is first appended to a local
journal file with one ``write(2)``: once `log_metric` returns, the point is in the kernel's hands
and survives the process being killed. When a run is found crashed on the same host, its journal
is replayed into the store (points already there are skipped by their sequence number) and
removed. A run that ends normally removes its journal after its last flush.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterable
from pathlib import Path

from runcard.errors import RunCardError
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
        data = "".join(f"{p[0]}\t{p[2]}\t{p[3]!r}\t{p[4]!r}\t{p[1]}\n" for p in points).encode("utf-8")
        start = os.fstat(self._fd).st_size
        written = 0
        try:
            while written < len(data):
                written += os.write(self._fd, data[written:])
        except OSError as exc:
            if written:  # take the partial lines back (one writer: the run's owner), so none is half a point
                try:
                    os.ftruncate(self._fd, start)
                except OSError:
                    with contextlib.suppress(OSError):
                        os.write(self._fd, b"\n")  # ends the torn line; replay skips it
            raise RunCardError(f"cannot write the run's journal {self.path} ({exc.strerror}): these metric points "
                               "were NOT recorded; free disk space and log them again.") from None

    def close(self, *, remove: bool) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if remove and self.path.exists():
            self.path.unlink()


def read_journal(path: Path) -> list[MetricPoint]:
    """Every complete line of a journal (a torn last line, cut by the crash, is skipped)."""
    points = []
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if not line.endswith("\n"):
                break
            try:
                seq, step, value, ts, key = line[:-1].split("\t", 4)
                points.append(MetricPoint(int(seq), key, int(step), float(value), float(ts)))
            except ValueError:
                continue  # a line torn by a failed write and ended by it: not a point anyone was told is kept
    return points


#: A run's journal is ``<run id>.jsonl`` in the journal folder.
JOURNAL_SUFFIX = ".jsonl"


def journal_path(journal_dir: Path, run_id: str) -> Path:
    return journal_dir / (run_id + JOURNAL_SUFFIX)


def lock_path(journal_dir: Path, run_id: str) -> Path:
    """The file a run's owner holds an exclusive lock on for as long as it runs."""
    return journal_dir / f"{run_id}.lock"


class OwnerLock:
    """An exclusive flock on a run's lock file, held by its owner process until `release`: a reader on the same
    file system tells a live owner from a dead one by trying the lock, whatever PID namespace either is in."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd: int | None = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
        fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()
            os.close(self._fd)
            self._fd = None


def lock_held(path: Path) -> bool | None:
    """Whether a live process holds the lock at ``path``: True, False, or None when there is no lock file."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False
