"""Acknowledged means durable: a point `log_metric` returned for survives a full disk, a failed batch and SIGKILL
at any moment; a checkpoint copy killed half-way leaves nothing behind; a stored folder that changed is noticed."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from runcard import get_run, list_runs, load_checkpoint, start_run
from runcard.errors import RunCardError
from runcard.runs import run_listings
from runcard.store import open_store
from tests.faults.conftest import Place, grow, python

#: Logs points until log_metric raises (the disk is full), writing how many it acknowledged outside the store.
FILLER = """
import json, sys, warnings, runcard
url, out = sys.argv[1], sys.argv[2]
warnings.simplefilter("ignore")
run = runcard.start_run(project="full", name="filler", store=url, batch_size=200)
acked, error = 0, None
try:
    for step in range(2_000_000):
        run.log_metric("loss", float(step), step=step)
        acked += 1
except Exception as exc:
    error = f"{type(exc).__name__}: {exc}"
finish = None
try:
    run.finish()
except Exception as exc:
    finish = f"{type(exc).__name__}: {exc}"
json.dump({"id": run.id, "acked": acked, "error": error, "finish": finish}, open(out, "w"))
"""


def test_a_full_disk_loses_no_acknowledged_point(tmpfs: Callable[[int], Path], tmp_path: Path) -> None:
    disk = tmpfs(768)  # database, WAL and journal on one small disk, as on a full laptop
    place = Place(disk)
    out = tmp_path / "filler.json"
    done = python(FILLER, place.url, out, env=place.env(), timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["error"] is not None and report["acked"] > 1000, report  # the disk did fill
    grow(disk, 65536)  # the user frees space
    run = get_run(report["id"], open_store(place.url))  # reading the run replays its journal
    history = run.history("loss")
    assert history[: report["acked"]] == [(s, float(s)) for s in range(report["acked"])]
    assert len(history) <= report["acked"] + 1  # at most the point whose log_metric raised
    assert run.status in ("failed", "crashed")
    if report["finish"] is not None:  # finish() said where the points are and how they come back
        assert "journal" in report["finish"] and "replays" in report["finish"]


class FlakyStore:
    """A store whose metric writes fail while ``broken`` is set (a database that refuses writes for a while)."""

    def __init__(self, inner: object) -> None:
        self._inner = inner
        self.broken = True

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    def log_metrics(self, run_id: str, points: list) -> None:
        if self.broken:
            raise OSError(28, "No space left on device")
        self._inner.log_metrics(run_id, points)  # type: ignore[attr-defined]


def test_a_failed_batch_is_kept_and_written_later(place: Place) -> None:
    store = FlakyStore(open_store(place.url))
    with pytest.warns(RuntimeWarning, match="kept in memory and in the journal"):  # noqa: PT031
        run = start_run(project="p", name="flaky", store=store, batch_size=10, flush_interval=600)  # type: ignore[arg-type]
        for step in range(35):
            run.log_metric("loss", float(step), step=step)  # every batch fails: acknowledged all the same
    store.broken = False
    run.finish()
    assert get_run(run.id, store._inner).history("loss") == [(s, float(s)) for s in range(35)]  # type: ignore[arg-type]
    assert not list(Path(store.journal_dir).glob(f"{run.id}*"))  # removed only once all of it is stored


def test_a_write_failing_at_finish_keeps_the_journal_and_says_where(place: Place) -> None:
    store = FlakyStore(open_store(place.url))
    run = start_run(project="p", name="kept", store=store, batch_size=1000)  # type: ignore[arg-type]
    for step in range(50):
        run.log_metric("loss", float(step), step=step)
    with pytest.raises(RunCardError, match="journal") as info:
        run.finish()
    assert "replays" in str(info.value)
    stored = get_run(run.id, store._inner)  # type: ignore[arg-type]
    assert stored.status in ("failed", "crashed")
    assert stored.history("loss") == [(s, float(s)) for s in range(50)]  # replayed from the journal on reading


KILLED = """
import sys, runcard
url = sys.argv[1]
run = runcard.start_run(project="kill", name="victim", store=url, batch_size=97, flush_interval=0.05)
print(run.id, flush=True)
step = 0
while True:
    run.log_metric("x", float(step), step=step)
    print(step, flush=True)  # printed only once log_metric returned: acknowledged
    step += 1
"""


def test_sigkill_at_random_moments_loses_nothing_acknowledged(place: Place) -> None:
    rng = random.Random(17)
    for attempt in range(4):
        proc = subprocess.Popen([sys.executable, "-c", KILLED, place.url], env=place.env(), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        run_id = proc.stdout.readline().strip()
        time.sleep(rng.uniform(0.05, 1.5))
        proc.send_signal(signal.SIGKILL)
        acked = [int(line) for line in proc.stdout.read().split() if line.isdigit()]
        proc.wait(timeout=30)
        run = get_run(run_id, open_store(place.url))
        assert run.status == "crashed", attempt
        last = acked[-1] if acked else -1
        history = run.history("x")
        assert history[: last + 1] == [(s, float(s)) for s in range(last + 1)], attempt
        assert len(history) <= last + 2  # the point being logged when killed may or may not be there


COPIER = """
import sys, runcard
url, blob = sys.argv[1], sys.argv[2]
run = runcard.start_run(project="ckpt", name="copier", store=url)
print(run.id, flush=True)
while True:
    run.log_checkpoint(blob)
"""


def test_a_checkpoint_copy_killed_half_way_is_cleaned_on_the_next_open(place: Place, tmp_path: Path) -> None:
    blob = tmp_path / "model.pt"
    with open(blob, "wb") as handle:
        handle.write(os.urandom(1 << 20) * 40)  # 40 MB: copies take long enough to be killed inside one
    tmp_dir = place.root / "artifacts" / "tmp"
    for delay in (0.3, 0.7, 1.1):
        proc = subprocess.Popen([sys.executable, "-c", COPIER, place.url, blob], env=place.env(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.stdout is not None and proc.stdout.readline().strip()
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    left = list(tmp_dir.iterdir()) if tmp_dir.is_dir() else []
    assert left, "no copy was in flight when killed: the test proved nothing"
    for path in left:  # time passes: the copies are older than the cleaner's grace period
        os.utime(path, (time.time() - 3600, time.time() - 3600))
    from runcard.store import _open

    _open.clear()  # a new process opens the store afresh
    open_store(place.url)
    assert list(tmp_dir.iterdir()) == []


def test_a_file_added_to_a_stored_folder_is_noticed(place: Place, tmp_path: Path) -> None:
    folder = tmp_path / "checkpoint"
    folder.mkdir()
    (folder / "weights.bin").write_bytes(b"w" * 1000)
    store = open_store(place.url)
    with start_run(project="p", name="dir", store=store) as run:
        run.log_checkpoint(folder)
    art = get_run(run.id, store).artifacts[0]
    (store.artifacts.root / art.path / "extra.bin").write_bytes(b"planted")
    with pytest.raises(RunCardError, match=r"extra\.bin"):
        load_checkpoint(run.id, store=store)


def test_runs_listed_while_a_run_crashes_show_it_crashed(place: Place) -> None:
    done = python("import runcard, os\nrun = runcard.start_run(project='p', name='x', store=__import__('sys').argv[1])\n"
                  "run.log_metric('a', 1.0)\nos._exit(0)", place.url, env=place.env())
    assert done.returncode == 0, done.stderr
    listed = run_listings("p", open_store(place.url))  # what `runcard runs` prints, judged first here
    assert [(r.status, r.summary) for r in listed] == [("crashed", {"a": 1.0})]
    runs = list_runs("p", open_store(place.url))
    assert [r.status for r in runs] == ["crashed"] and runs[0].history("a") == [(0, 1.0)]
    shown = subprocess.run([sys.executable, "-m", "runcard", "runs", "--project", "p", "--store", place.url],
                           capture_output=True, text=True, env=place.env(), check=True).stdout
    assert "crashed" in shown and "a=1" in shown  # a whole number under a key with no direction: a count
