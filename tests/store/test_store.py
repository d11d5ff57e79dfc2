"""The Store contract, against SQLite and PostgreSQL alike."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest
from sqlalchemy import update

from runcard.errors import InputError
from runcard.store import ArtifactError, MetricPoint, NewRun, Store, StoreError, open_store, schema
from runcard.store.runs import Artifact


def new_run(store: Store, run_id: str, **kw: object) -> str:
    fields = {"project": "p", "name": run_id, "config": {"lr": 0.1}, "tags": {"seed": "0"}, "created_at": time.time()}
    fields.update(kw)
    store.create_run(NewRun(id=run_id, **fields))  # type: ignore[arg-type]
    return run_id


def test_runs_are_listed_and_found_by_prefix(store: Store) -> None:
    new_run(store, "abc12345", project="a")
    new_run(store, "abd99999", project="b")
    assert [r.id for r in store.list_runs()] == ["abc12345", "abd99999"]
    assert [r.id for r in store.list_runs(project="b")] == ["abd99999"]
    run = store.get_run("abc")
    assert (run.id, run.project, run.config, run.tags, run.status) == ("abc12345", "a", {"lr": 0.1}, {"seed": "0"}, "running")
    with pytest.raises(InputError, match="ambiguous: it matches abc12345, abd99999"):
        store.get_run("ab")
    with pytest.raises(InputError, match="no run with id 'zz'"):
        store.get_run("zz")


def test_metrics_history_and_summary(store: Store) -> None:
    run_id = new_run(store, "r1")
    points = [MetricPoint(0, "loss", 0, 1.0, 1.0), MetricPoint(1, "loss", 2, 0.5, 2.0),
              MetricPoint(2, "loss", 1, 0.7, 3.0), MetricPoint(3, "acc", 0, math.nan, 3.0)]
    store.log_metrics(run_id, points)
    store.log_metrics(run_id, points[:2])  # replayed points are not duplicated
    assert store.history(run_id, "loss") == [(0, 1.0), (2, 0.5), (1, 0.7)]
    summary = store.get_run(run_id).summary
    assert summary["loss"] == 0.5  # the latest step wins, not the latest write
    assert math.isnan(summary["acc"])
    store.log_metrics(run_id, [MetricPoint(4, "loss", 2, 0.4, 4.0)])  # same step, later: wins
    assert store.get_run(run_id).summary["loss"] == 0.4
    store.set_summary(run_id, {"final_f1": 0.8})
    assert store.get_run(run_id).summary["final_f1"] == 0.8
    assert store.metric_keys(run_id) == ["acc", "loss"]


def test_stages_accumulate_by_name(store: Store) -> None:
    run_id = new_run(store, "r1")
    for name, seconds in (("data", 1.5), ("train", 10.0), ("data", 0.5)):
        store.add_stage(run_id, name, seconds, time.time())
    assert store.get_run(run_id).stages == {"data": 2.0, "train": 10.0}


def test_status_changes(store: Store) -> None:
    run_id = new_run(store, "r1")
    assert store.set_status(run_id, "failed", error="Traceback ...", ended_at=5.0)
    assert not store.set_status(run_id, "crashed", only_if="running")
    run = store.get_run(run_id)
    assert (run.status, run.error, run.ended_at) == ("failed", "Traceback ...", 5.0)


def test_artifacts_are_content_addressed_and_verified(store: Store, tmp_path: Path) -> None:
    src = tmp_path / "model.pt"
    src.write_bytes(b"weights" * 1000)
    stored = store.artifacts.put_file(src)
    again = store.artifacts.put_file(src)
    assert stored == again and len(stored.sha256) == 64 and stored.size == 7000
    path = store.artifacts.verify(stored.path, stored.sha256)
    assert path.read_bytes() == src.read_bytes() and path.name == "model.pt"
    data = bytearray(path.read_bytes())
    data[100] ^= 0x01  # one flipped bit
    path.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match=f"expected {stored.sha256}"):
        store.artifacts.verify(stored.path, stored.sha256, owner="run r1")
    path.unlink()
    with pytest.raises(ArtifactError, match=r"run r1: artifact file .* is missing"):
        store.artifacts.verify(stored.path, stored.sha256, owner="run r1")
    assert not list((Path(store.artifacts.root) / "tmp").iterdir())  # no temporary files left


def test_directory_artifacts_have_a_manifest(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "checkpoint-10"
    (folder / "sub").mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"a" * 100)
    (folder / "sub" / "config.json").write_text("{}")
    stored = store.artifacts.put_dir(folder)
    manifest = [list(e) for e in stored.manifest]
    assert sorted(e[0] for e in manifest) == ["model.safetensors", "sub/config.json"]
    store.artifacts.verify(stored.path, stored.sha256, manifest=manifest)
    (store.artifacts.path(stored.path) / "sub" / "config.json").write_text('{"x": 1}')
    with pytest.raises(ArtifactError, match="modified or corrupted"):
        store.artifacts.verify(stored.path, stored.sha256, manifest=manifest)


def test_delete_run_removes_its_records(store: Store, tmp_path: Path) -> None:
    run_id = new_run(store, "r1")
    store.log_metrics(run_id, [MetricPoint(0, "loss", 0, 1.0, 1.0)])
    store.add_stage(run_id, "train", 1.0, 0.0)
    store.add_artifact(run_id, Artifact("m.pt", "checkpoint", "0" * 64, 1, "00/x/m.pt", 0.0, {}))
    removed = store.delete_run(run_id)
    assert [a.name for a in removed] == ["m.pt"]
    assert store.list_runs() == [] and store.history(run_id, "loss") == []
    assert not store.artifact_in_use("0" * 64)


def test_sources_are_unique(store: Store) -> None:
    new_run(store, "r1", source="mlflow:abc")
    assert store.find_source("mlflow:abc") == "r1"
    with pytest.raises(StoreError, match="already exists"):
        new_run(store, "r2", source="mlflow:abc")


def test_a_newer_schema_is_refused(store_url: str) -> None:
    store = open_store(store_url)
    with store.engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(update(schema.schema_version).values(version=schema.SCHEMA_VERSION + 1))
    from runcard.store.sql import SqlStore

    with pytest.raises(StoreError, match="newer than this runcard understands"):
        SqlStore(store_url, store.artifacts.root, store.journal_dir)


def test_bad_urls_are_explained(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a database URL"):
        open_store("not a url")
    with pytest.raises(InputError, match="in-memory database cannot be shared"):
        open_store("sqlite://")
    with pytest.raises(InputError, match="unsupported database 'mysql'"):
        open_store("mysql://u@h/db")


def test_absolute_url_makes_a_sqlite_path_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from runcard.store import absolute_url

    monkeypatch.chdir(tmp_path)
    assert absolute_url("sqlite:///runs/x.db") == f"sqlite:///{tmp_path / 'runs' / 'x.db'}"
    assert absolute_url(f"sqlite:///{tmp_path}/x.db") == f"sqlite:///{tmp_path}/x.db"
    assert absolute_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"


def test_a_version_1_store_gains_the_settings_and_the_records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store written before evaluations were kept (schema 1: no eval_settings column, no records table) is
    upgraded when opened, and its runs are evaluated (and their evaluations kept) as documents ask for them."""
    import sqlite3

    import numpy as np

    from runcard import start_run
    from runcard.report.card import build_card
    from runcard.store import SqlStore

    monkeypatch.setenv("RUNCARD_ARTIFACTS", str(tmp_path / "artifacts"))
    monkeypatch.setenv("RUNCARD_JOURNAL", str(tmp_path / "journal"))
    db = tmp_path / "old.db"
    with start_run("old", config={"calibration": {"bins": 10}}, store=f"sqlite:///{db}") as run:
        run.log_predictions("test", np.array([0, 1] * 50), np.array([[0.7, 0.3], [0.4, 0.6]] * 50))
    with sqlite3.connect(db) as conn:  # back to what version 1 wrote
        conn.execute("DROP TABLE runcard_records")
        conn.execute("ALTER TABLE runcard_runs DROP COLUMN eval_settings")
        conn.execute("UPDATE runcard_schema SET version = 1")
    store = SqlStore(f"sqlite:///{db}", tmp_path / "artifacts", tmp_path / "journal")
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT version FROM runcard_schema").fetchone() == (2,)
    old = store.get_run(run.id)
    assert old.eval_settings is None and old.evaluated == {} and old.settings.bins == 10  # from calibration.bins
    doc = build_card(store, old)
    assert doc["evaluation"]["test"]["settings"]["bins"] == 10
    again = store.get_run(run.id)
    assert again.eval_settings["bins"] == 10 and again.evaluated["test/accuracy"] == 1.0  # kept, and listed
