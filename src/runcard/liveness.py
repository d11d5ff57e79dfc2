"""Is a run's owner process still alive? Crashed runs are marked, and their journals replayed.

On the owner's host a run is judged at once: the process with the recorded pid must exist, not
be a zombie, and have the recorded start time (so a reused pid is not mistaken for the owner).
From any other host the run is judged by its heartbeat: older than the timeout means crashed.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from runcard.journal import journal_path, read_journal
from runcard.store.base import Store
from runcard.store.model import Run

#: A run on another host whose heartbeat is older than this many seconds is crashed.
HEARTBEAT_TIMEOUT = float(os.environ.get("RUNCARD_HEARTBEAT_TIMEOUT", "120"))


def hostname() -> str:
    return socket.gethostname()


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return "noboot"


def process_identity(pid: int) -> str | None:
    """A string that changes if ``pid`` is reused: boot id + start time. None if no such process
    (or a zombie)."""
    stat = Path(f"/proc/{pid}/stat")
    if sys.platform.startswith("linux"):
        try:
            text = stat.read_text()
        except OSError:
            return None
        fields = text[text.rindex(")") + 2:].split()  # after "pid (comm) "
        if fields[0] in ("Z", "X"):  # zombie or dead: the process is gone
            return None
        return f"{_boot_id()}:{fields[19]}"  # field 22 of stat: start time in clock ticks since boot
    try:
        out = subprocess.run(["ps", "-o", "lstart=,stat=", "-p", str(pid)], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    line = out.stdout.strip()
    if not line or line.split()[-1].startswith("Z"):
        return None
    return "ps:" + " ".join(line.split()[:-1])


def owner_alive(host: str | None, pid: int | None, proc_start: str | None, heartbeat_at: float | None,
                *, now: float | None = None, timeout: float = HEARTBEAT_TIMEOUT) -> bool | None:
    """True/False when the owner can be judged, None when nothing was recorded about it."""
    if host is not None and host == hostname() and pid is not None:
        identity = process_identity(pid)
        return identity is not None and (proc_start is None or identity == proc_start)
    if heartbeat_at is None or host is None:
        return None
    return (now if now is not None else time.time()) - heartbeat_at <= timeout


def recover_journal(store: Store, run_id: str) -> int:
    """Replay a crashed run's journal into the store; return the number of points it held."""
    path = journal_path(store.journal_dir, run_id)
    if not path.exists():
        return 0
    points = read_journal(path)
    store.log_metrics(run_id, points)
    path.unlink()
    return len(points)


def reconcile(store: Store, runs: list[Run]) -> list[Run]:
    """Mark runs whose owner died as crashed (replaying their journals); return the updated list."""
    out = []
    for run in runs:
        if run.status == "running":
            host, pid, proc_start, heartbeat_at = store.liveness_info(run.id)
            if owner_alive(host, pid, proc_start, heartbeat_at) is False:
                if host == hostname():
                    recover_journal(store, run.id)
                store.set_status(run.id, "crashed", ended_at=heartbeat_at, only_if="running",
                                 error="the owner process died without ending the run (detected by runcard)")
                run = store.get_run(run.id)
        elif run.status == "crashed" and journal_path(store.journal_dir, run.id).exists():
            recover_journal(store, run.id)  # marked crashed from another host; its journal is here
            run = store.get_run(run.id)
        out.append(run)
    return out
