"""Several processes at once, and a process killed mid-run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from runcard import get_run, list_runs
from runcard.liveness import owner_alive, process_identity
from runcard.store import Store

ROOT = Path(__file__).resolve().parents[2]

WRITER = textwrap.dedent("""
    import sys, runcard
    url, index, points = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    with runcard.start_run(project="concurrency", name=f"writer-{index}", store=url, batch_size=700) as run:
        for step in range(points):
            run.log_metric("value", float(index * points + step), step=step)
    print(run.id)
""")


def _env(store: Store) -> dict[str, str]:
    env = dict(os.environ)
    env["RUNCARD_ARTIFACTS"] = str(store.artifacts.root)
    env["RUNCARD_JOURNAL"] = str(store.journal_dir)
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_four_processes_lose_nothing(store: Store, store_url: str) -> None:
    points = 10_000
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, store_url, str(i), str(points)], env=_env(store),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(4)]
    ids = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        ids.append(out.strip())
    runs = {r.id: r for r in list_runs("concurrency", store)}
    assert sorted(runs) == sorted(ids)
    for run_id in ids:
        run = runs[run_id]
        index = int(run.name.split("-")[1])
        history = run.history("value")
        assert len(history) == points and run.status == "finished"
        assert history == [(s, float(index * points + s)) for s in range(points)]


CRASHER = textwrap.dedent("""
    import sys, time, runcard
    url = sys.argv[1]
    run = runcard.start_run(project="crash", name="victim", store=url, batch_size=50, flush_interval=60)
    with run.stage("train"):
        time.sleep(0.01)
    for step in range(120):          # 100 points reach the store in batches of 50; 20 stay buffered
        run.log_metric("loss", 1.0 / (step + 1), step=step)
    print(run.id, flush=True)
    time.sleep(600)
""")


def test_a_killed_process_leaves_a_crashed_run_with_its_metrics(store: Store, store_url: str) -> None:
    proc = subprocess.Popen([sys.executable, "-c", CRASHER, store_url], env=_env(store),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    run_id = proc.stdout.readline().strip()
    assert run_id, proc.stderr.read()
    assert get_run(run_id, store).status == "running"  # alive: not judged crashed
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    run = get_run(run_id, store)
    assert run.status == "crashed"
    assert run.history("loss") == [(s, 1.0 / (s + 1)) for s in range(120)]  # including the unflushed 20
    assert run.stages["train"] >= 0.01
    assert [r.status for r in list_runs("crash", store)] == ["crashed"]


def test_other_hosts_are_judged_by_heartbeat() -> None:
    now = time.time()
    assert owner_alive("elsewhere", 1, "x", now - 30, now=now, timeout=120) is True
    assert owner_alive("elsewhere", 1, "x", now - 300, now=now, timeout=120) is False
    assert owner_alive(None, None, None, None) is None


def test_the_owner_lock_decides_not_the_pid(tmp_path: Path) -> None:
    """A process holding a run's lock is alive whatever pid was recorded (a pid reused, or seen from another PID
    namespace); once it is gone the lock is free and the run is dead, even if its pid now names a live process."""
    import socket

    path = tmp_path / "run.lock"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\nfrom runcard.journal import OwnerLock\n"
                               f"OwnerLock(__import__('pathlib').Path({str(path)!r}))\nprint('held', flush=True)\n"
                               "time.sleep(600)"], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    me = os.getpid()  # a live pid that is not the owner
    assert owner_alive(socket.gethostname(), 999_999, "another-boot:1", None, lock=path) is True
    holder.kill()
    holder.wait(timeout=30)
    assert owner_alive(socket.gethostname(), me, process_identity(me), None, lock=path) is False
    assert owner_alive(socket.gethostname(), me, None, None, lock=tmp_path / "none.lock") is None  # no lock, no beat
