"""Ctrl-C at any moment of `runcard run`: exit code 130 (or 0 when it came too late to stop anything), never a
traceback, and what is printed agrees with the store."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests.faults.conftest import RUNCARD
from tests.sweep.conftest import TINY_CONFIG


def interrupt_run(folder: Path, delay: float) -> tuple[int, str, list[tuple[str, str]]]:
    """Start the tiny recipe, send SIGINT after ``delay`` seconds; its exit code, stderr and the store's runs."""
    db = folder / "runcard.db"
    proc = subprocess.Popen([RUNCARD, "run", "tiny.toml", "--store", f"sqlite:///{db}"], cwd=folder,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # a terminal's Ctrl-C
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=300)
    runs: list[tuple[str, str]] = []
    if db.exists():
        with sqlite3.connect(db) as conn:
            runs = conn.execute("SELECT id, status FROM runcard_runs").fetchall()
    return proc.returncode, err, runs


@pytest.fixture(scope="module")
def duration(tmp_path_factory: pytest.TempPathFactory) -> float:
    """How long the tiny recipe takes here, uninterrupted (the moments below are fractions of it)."""
    folder = tmp_path_factory.mktemp("whole")
    (folder / "tiny.toml").write_text(TINY_CONFIG, encoding="utf-8")
    start = time.perf_counter()
    done = subprocess.run([RUNCARD, "run", "tiny.toml", "--store", f"sqlite:///{folder / 'runcard.db'}", "-q"],
                          cwd=folder, capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr
    return time.perf_counter() - start


def test_ctrl_c_at_random_moments(tmp_path: Path, duration: float) -> None:
    rng = random.Random(2026)
    # early (while importing), at random through the run, and late (after the run finished: the window where
    # the old code printed "marked failed" for a run the store called finished)
    moments = [0.02, rng.uniform(0.1, 0.4), rng.uniform(0.4, 0.7), *(rng.uniform(0.7, 1.0) for _ in range(3))]
    for i, fraction in enumerate(moments):
        folder = tmp_path / f"try{i}"
        folder.mkdir()
        (folder / "tiny.toml").write_text(TINY_CONFIG, encoding="utf-8")
        code, err, runs = interrupt_run(folder, fraction * duration)
        context = (fraction, code, err[-1500:], runs)
        assert code in (0, 130), context
        assert "Traceback" not in err and "KeyboardInterrupt" not in err, context
        assert len(runs) <= 1, context
        if code == 0:  # the signal came after the command was done
            assert runs and runs[0][1] == "finished" and list((folder / "cards").glob("*.md")), context
            continue
        if not runs:
            assert "marked failed" not in err and ("nothing was recorded" in err or "interrupted" in err), context
            continue
        run_id, status = runs[0]
        assert status in ("finished", "failed"), context  # never left running
        if status == "finished":  # interrupted after it finished: said so, with how to get its card
            assert f"after run {run_id} finished" in err or list((folder / "cards").glob("*.md")), context
            assert "marked failed" not in err, context
        else:
            assert f"run {run_id}" in err and "failed" in err and "finished" not in err.splitlines()[-1], context
