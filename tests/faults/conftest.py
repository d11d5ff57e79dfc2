"""Fixtures of the fault-injection suite: scratch stores, a small tmpfs (a disk that fills), a read-only bind
mount, and child processes that write through the public API.

Mounting needs root (CI runs as root). Where it is impossible the test is skipped with the reason, unless
``RUNCARD_REQUIRE_FAULTS=1`` (set by ``.ci/run``), which turns that skip into a failure: the guarantees in
docs/store.md are only claimed where they were tested.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNCARD = shutil.which("runcard", path=str(Path(sys.executable).parent)) or "runcard"


def unavailable(reason: str) -> None:
    """Skip for ``reason``, or fail where CI requires every fault to be injected."""
    if os.environ.get("RUNCARD_REQUIRE_FAULTS") == "1":
        pytest.fail(f"RUNCARD_REQUIRE_FAULTS=1 but {reason}")
    pytest.skip(reason)


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True, check=False)


@dataclass
class Place:
    """A folder for one store: its URL and the environment a child process needs to use it."""

    root: Path

    @property
    def url(self) -> str:
        return f"sqlite:///{self.root / 'runcard.db'}"

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("RUNCARD_ARTIFACTS", "RUNCARD_JOURNAL",
                                                                  "RUNCARD_STORE")}
        env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
        return {**env, **extra}


@pytest.fixture
def place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Place:
    """A store folder whose journal and artifacts live beside its database (the default layout)."""
    for name in ("RUNCARD_ARTIFACTS", "RUNCARD_JOURNAL", "RUNCARD_STORE"):
        monkeypatch.delenv(name, raising=False)
    root = tmp_path / "store"
    root.mkdir()
    return Place(root)


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[[int], Path]]:
    """``tmpfs(kib)``: a fresh tmpfs of that size, unmounted afterwards."""
    mounted: list[Path] = []

    def make(kib: int) -> Path:
        if os.geteuid() != 0:
            unavailable("mounting a tmpfs needs root")
        point = tmp_path / f"tmpfs-{uuid.uuid4().hex[:6]}"
        point.mkdir()
        done = _mount("-t", "tmpfs", "-o", f"size={kib}k", "tmpfs", str(point))
        if done.returncode != 0:
            unavailable(f"cannot mount a tmpfs: {done.stderr.strip()}")
        mounted.append(point)
        return point

    yield make
    for point in reversed(mounted):
        subprocess.run(["umount", "-l", str(point)], capture_output=True, check=False)


def grow(point: Path, kib: int) -> None:
    """Give a tmpfs more room (the user freeing disk space)."""
    done = _mount("-o", f"remount,size={kib}k", str(point))
    assert done.returncode == 0, done.stderr


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Callable[[Path], Path]]:
    """``read_only(folder)``: the folder seen through a read-only bind mount."""
    mounted: list[Path] = []

    def make(folder: Path) -> Path:
        if os.geteuid() != 0:
            unavailable("a read-only bind mount needs root")
        point = tmp_path / f"ro-{uuid.uuid4().hex[:6]}"
        point.mkdir()
        done = _mount("--bind", str(folder), str(point))
        if done.returncode != 0:
            unavailable(f"cannot bind-mount: {done.stderr.strip()}")
        mounted.append(point)
        done = _mount("-o", "remount,bind,ro", str(point))
        assert done.returncode == 0, done.stderr
        return point

    yield make
    for point in reversed(mounted):
        subprocess.run(["umount", "-l", str(point)], capture_output=True, check=False)


def cli(*args: str | Path, env: dict[str, str] | None = None, cwd: Path | None = None,
        timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the real ``runcard`` command."""
    return subprocess.run([RUNCARD, *map(str, args)], capture_output=True, text=True, check=False, env=env, cwd=cwd,
                          timeout=timeout)


def python(code: str, *args: str | Path, env: dict[str, str] | None = None,
           timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter (a process of its own, as a user's script is)."""
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, check=False,
                          env=env, timeout=timeout)


def one_message(done: subprocess.CompletedProcess[str], *needles: str) -> str:
    """Assert the command failed as bad input should: exit 2, one ``runcard: error:`` line naming each needle,
    no traceback, no "internal error"."""
    err = done.stderr.strip()
    assert done.returncode == 2, (done.returncode, err[-2000:])
    assert "Traceback" not in err and "internal error" not in err, err
    assert err.startswith("runcard: error: ") and len(err.splitlines()) == 1, err
    for needle in needles:
        assert needle in err, (needle, err)
    return err


from tests.faults.mlflow_runs import mlflow_files, mlflow_sqlite  # noqa: F401 -- fixtures of the MLflow probes
