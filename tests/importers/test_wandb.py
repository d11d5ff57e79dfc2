"""W&B, as wandb wrote it: runs logged by the real wandb package in offline mode (in a subprocess, no network),
imported by runcard and compared with the values the test passed to wandb and with what the wandb run object
reported in that process."""

from __future__ import annotations

import calendar
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runcard import list_runs
from runcard.errors import InputError
from runcard.importers import import_path

pytest.importorskip("wandb")

CONFIG = {"lr": 0.001, "layers": [64, 32], "optimizer": {"name": "adamw", "beta1": 0.9}, "_hidden": 1}
STEPS = [0, 1, 2, 5]  # explicit steps, with a gap


def logged(step: int) -> dict:
    return {"loss": 1.0 / (step + 1), "val": {"acc": 0.5 + step / 100, "f1": 0.25 + step / 50}}


WRITE = """
import json, os, sys, time
import wandb
out, mode, config, steps = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
def logged(step):
    return {"loss": 1.0 / (step + 1), "val": {"acc": 0.5 + step / 100, "f1": 0.25 + step / 50}}
def plain(value):  # wandb's summary as plain numbers by key; media objects (with a _type) are not metrics
    if hasattr(value, "keys"):
        return None if "_type" in value.keys() else {k: plain(value[k]) for k in value.keys()}
    return value if isinstance(value, (int, float)) else None
def seen(run, before):
    return {"id": run.id, "name": run.name, "project": run.project, "tags": list(run.tags), "notes": run.notes,
            "group": run.group, "start_time": run.start_time, "before_init": before, "config": dict(run.config),
            "summary": plain(run.summary)}
view = {}
if mode == "killed":
    before = time.time()
    run = wandb.init(project="wb-real", name="killed-run", config={"lr": 0.5})
    view["killed"] = seen(run, before)
    json.dump(view, open(out, "w"))
    for step in range(1000):
        run.log({"loss": 1.0 / (step + 1)}, step=step)
    os._exit(0)  # no wandb.finish(): no exit record
before = time.time()
run = wandb.init(project="wb-real", name="finished-run", config=config, tags=["baseline", "bert"],
                 notes="first try", group="sweep-7", job_type="train")
for step in steps:
    run.log(logged(step), step=step)
run.log({"table": wandb.Table(columns=["a"], data=[[1]])}, step=steps[-1] + 1)
run.config.update({"epochs": 3})
run.summary["acc"] = 0.99
view["finished"] = seen(run, before)
run.finish()
before = time.time()
run = wandb.init(project="wb-real", name="failed-run", config={"lr": 0.1})
run.log({"loss": 2.0}, step=0)
view["failed"] = seen(run, before)
run.finish(exit_code=1)
json.dump(view, open(out, "w"))
"""


def flat(data: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in data.items():
        out.update(flat(value, f"{prefix}{key}/") if isinstance(value, dict) else {f"{prefix}{key}": value})
    return out


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict]]:
    """The ``wandb/`` folder of three real offline runs (finished, exit code 1, killed) and what wandb showed."""
    root = tmp_path_factory.mktemp("wandb-runs")
    env = dict(os.environ, WANDB_MODE="offline", WANDB_DIR=str(root), WANDB_SILENT="true",
               WANDB_CONFIG_DIR=str(root / "config"), WANDB_CACHE_DIR=str(root / "cache"),
               WANDB_DATA_DIR=str(root / "data"), TZ="America/New_York")  # local time must not leak in
    view: dict[str, dict] = {}
    for mode in ("done", "killed"):
        out = root / f"{mode}.json"
        subprocess.run([sys.executable, "-c", WRITE, str(out), mode, json.dumps(CONFIG), json.dumps(STEPS)],
                       check=True, env=env, capture_output=True, timeout=300, cwd=root)
        view.update(json.loads(out.read_text()))
    return root / "wandb", view


@pytest.fixture
def store_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("RUNCARD_ARTIFACTS", str(tmp_path / "store" / "artifacts"))
    monkeypatch.setenv("RUNCARD_JOURNAL", str(tmp_path / "store" / "journal"))
    return f"sqlite:///{tmp_path / 'store' / 'runcard.db'}"


def test_every_field_is_what_the_test_logged(written: tuple[Path, dict], store_url: str) -> None:
    folder, view = written
    report = import_path(folder, store_url)
    assert report.kind == "wandb" and len(report.imported) == 3
    runs = {r.name: r for r in list_runs(store=store_url)}
    run, seen = runs["finished-run"], view["finished"]
    assert (run.source, run.project, run.status, run.error) == (f"wandb:{seen['id']}", "wb-real", "finished", None)
    assert run.config == {"lr": 0.001, "layers": [64, 32], "optimizer": {"name": "adamw", "beta1": 0.9}, "epochs": 3}
    assert run.config == {k: v for k, v in seen["config"].items() if not k.startswith("_")} | {"epochs": 3}
    assert run.tags == {"wandb_id": seen["id"], "notes": "first try", "group": "sweep-7", "job_type": "train",
                        "wandb_tags": "baseline,bert", "exit_code": "0"}
    assert (seen["name"], seen["notes"], seen["group"], seen["tags"]) == ("finished-run", "first try", "sweep-7",
                                                                           ["baseline", "bert"])
    for key in ("loss", "val/acc", "val/f1"):
        assert run.history(key) == [(step, flat(logged(step))[key]) for step in STEPS]
    assert "table/nrows" not in run.summary and run.history("table/nrows") == []  # a media object, not a metric
    expected_summary = {k: v for k, v in flat(seen["summary"]).items() if v is not None and not k.startswith("_")}
    assert run.summary == expected_summary and run.summary["acc"] == 0.99
    assert seen["before_init"] <= run.created_at <= seen["before_init"] + 30  # UTC seconds, though TZ was New York
    assert abs(run.created_at - seen["start_time"]) < 1 and run.ended_at >= run.created_at
    failed = runs["failed-run"]
    assert (failed.status, failed.tags["exit_code"], failed.history("loss")) == ("failed", "1", [(0, 2.0)])
    assert "exited with code 1" in failed.error and failed.config == {"lr": 0.1}
    counts = {line["name"]: line for line in report.runs}
    assert counts["finished-run"]["points"] == 3 * len(STEPS) and counts["failed-run"]["points"] == 1
    assert any("table (table-file)" in w for w in report.warnings)
    again = import_path(folder, store_url)
    assert again.imported == [] and len(again.skipped) == 3 and len(list_runs(store=store_url)) == 3


def test_a_killed_process_is_crashed_with_what_wandb_wrote_out(written: tuple[Path, dict], store_url: str) -> None:
    folder, view = written
    import_path(folder, store_url)
    run = next(r for r in list_runs(store=store_url) if r.name == "killed-run")
    assert (run.source, run.project, run.status) == (f"wandb:{view['killed']['id']}", "wb-real", "crashed")
    assert "no exit record" in run.error and run.config == {"lr": 0.5}
    history = run.history("loss")  # wandb writes whole 32 KiB blocks: what it had written out is a prefix
    assert len(history) > 10 and history == [(step, 1.0 / (step + 1)) for step in range(len(history))]
    assert view["killed"]["before_init"] <= run.created_at <= view["killed"]["before_init"] + 30


def test_a_run_file_without_wandb_installed_names_the_extra(written: tuple[Path, dict], store_url: str,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    folder, _ = written
    for name in ("wandb", "wandb.proto", "wandb.proto.wandb_internal_pb2"):
        monkeypatch.setitem(sys.modules, name, None)  # import wandb now fails as if it were not installed
    with pytest.raises(InputError, match=r"offline-run-.*pip install 'runcard\[wandb\]'"):
        import_path(folder, store_url)


def test_importing_runcard_does_not_import_wandb() -> None:
    code = "import sys, runcard, runcard.importers, runcard.importers.wandb; print('wandb' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout == "False\n"


def synced_copy(folder: Path, view: dict, tmp_path: Path, *, lr: float, acc: float, started: str) -> Path:
    """The finished run with hand-made text files of a synced run: wandb writes files/config.yaml,
    wandb-summary.json and wandb-metadata.json only when it syncs to a server, which offline mode cannot."""
    run_dir = next(folder.glob(f"offline-run-*-{view['finished']['id']}"))
    copy = tmp_path / "wandb" / run_dir.name.removeprefix("offline-")
    shutil.copytree(run_dir, copy)
    files = copy / "files"
    (files / "config.yaml").write_text(
        "_wandb:\n  value:\n    cli_version: 0.31.0\n" f"lr:\n  value: {lr}\n" "layers:\n  value:\n  - 64\n  - 32\n"
        "optimizer:\n  value:\n    name: adamw\n    beta1: 0.9\nepochs:\n  value: 3\n")
    summary = {"loss": 1 / 6, "val": {"acc": 0.55, "f1": 0.35}, "acc": acc, "_step": 6, "_wandb": {"runtime": 1},
               "table": {"_type": "table-file", "nrows": 1}}
    (files / "wandb-summary.json").write_text(json.dumps(summary))
    (files / "wandb-metadata.json").write_text(json.dumps({"startedAt": started, "program": "train.py"}))
    return copy


def utc_iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{int(seconds % 1 * 1e6):06d}"


def test_synced_text_files_are_checked_against_the_run_file(written: tuple[Path, dict], store_url: str,
                                                             tmp_path: Path) -> None:
    folder, view = written
    start = view["finished"]["start_time"]
    agree = synced_copy(folder, view, tmp_path / "agree", lr=0.001, acc=0.99, started=utc_iso(start))
    report = import_path(agree, store_url)
    assert [w for w in report.warnings if "files/" in w] == []
    differ = synced_copy(folder, view, tmp_path / "differ", lr=0.01, acc=0.5, started=utc_iso(start - 5 * 3600))
    report = import_path(differ, f"sqlite:///{tmp_path / 'other.db'}")
    notes = report.runs[0]["not_understood"]
    assert "files/config.yaml disagrees with the run file on: lr" in notes
    assert "files/wandb-summary.json disagrees with the run file on: acc" in notes
    assert any(n.startswith("files/wandb-metadata.json startedAt") for n in notes)
    run = list_runs(store=f"sqlite:///{tmp_path / 'other.db'}")[0]
    assert run.config["lr"] == 0.001 and run.summary["acc"] == 0.99  # the run file's values are kept


def test_a_synced_folder_without_wandb_installed_is_read_from_its_text_files(
        written: tuple[Path, dict], store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, view = written
    synced = synced_copy(folder, view, tmp_path, lr=0.01, acc=0.5, started=utc_iso(view["finished"]["start_time"]))
    for name in ("wandb", "wandb.proto", "wandb.proto.wandb_internal_pb2"):
        monkeypatch.setitem(sys.modules, name, None)
    report = import_path(synced, store_url)
    assert any("was not read" in w and "pip install 'runcard[wandb]'" in w for w in report.warnings)
    run = list_runs(store=store_url)[0]
    assert (run.config["lr"], run.summary["acc"], run.source) == (0.01, 0.5, f"wandb:{view['finished']['id']}")


@pytest.fixture
def new_york(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_text_only_folder_reads_naive_times_as_utc(tmp_path: Path, store_url: str, new_york: None) -> None:
    """Hand-made: the text layout of a synced run downloaded from W&B, which offline wandb cannot write."""
    files = tmp_path / "wandb" / "run-20251001_101010-abc123" / "files"
    files.mkdir(parents=True)
    (files / "config.yaml").write_text("lr:\n  value: 0.0003\n")
    (files / "wandb-summary.json").write_text(json.dumps({"acc": 0.9}))
    (files / "wandb-metadata.json").write_text(json.dumps({"startedAt": "2025-10-01T10:10:10.500000"}))
    import_path(tmp_path, store_url)
    run = list_runs(store=store_url)[0]
    assert run.created_at == calendar.timegm((2025, 10, 1, 10, 10, 10)) + 0.5
    assert (run.name, run.status, run.config, run.summary) == ("abc123", "finished", {"lr": 0.0003}, {"acc": 0.9})
