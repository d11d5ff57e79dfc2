"""Importers, each fed a layout written in the test (and MLflow also through a real MLflow run)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from runcard import list_runs, load_checkpoint, table_from_arrays, write_predictions
from runcard.errors import InputError
from runcard.importers import detect, import_path


@pytest.fixture
def store_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("RUNCARD_ARTIFACTS", str(tmp_path / "store" / "artifacts"))
    monkeypatch.setenv("RUNCARD_JOURNAL", str(tmp_path / "store" / "journal"))
    return f"sqlite:///{tmp_path / 'store' / 'runcard.db'}"


def write_predictions_file(path: Path) -> None:
    table = table_from_arrays(["a", "b", "a"], [[0.9, 0.1], [0.3, 0.7], [0.4, 0.6]], classes=["a", "b"])
    write_predictions(table, path)


def make_mlruns(root: Path) -> Path:
    exp = root / "mlruns" / "1"
    run = exp / "0f0f0f0f0f0f4a4a8b8b123456789abc"
    (run / "params").mkdir(parents=True)
    (run / "metrics" / "train").mkdir(parents=True)
    (run / "tags").mkdir()
    (run / "artifacts").mkdir()
    (exp / "meta.yaml").write_text("experiment_id: '1'\nname: agnews\nlifecycle_stage: active\n")
    (run / "meta.yaml").write_text(
        "run_id: 0f0f0f0f0f0f4a4a8b8b123456789abc\nrun_name: baseline\nstatus: 3\n"
        "start_time: 1700000000000\nend_time: 1700000060000\nlifecycle_stage: active\nexperiment_id: '1'\n")
    (run / "params" / "lr").write_text("0.001")
    (run / "params" / "optimizer").write_text("adamw")
    (run / "metrics" / "train" / "loss").write_text(
        "1700000001000 0.9 0\n1700000002000 0.6 1\n1700000003000 0.4 2\n")
    (run / "metrics" / "val_acc").write_text("1700000004000 0.71 2\n")
    (run / "tags" / "mlflow.runName").write_text("baseline")
    (run / "tags" / "seed").write_text("0")
    write_predictions_file(run / "artifacts" / "val_predictions.csv")
    deleted = exp / "deadbeefdeadbeefdeadbeefdeadbeef"
    deleted.mkdir()
    (deleted / "meta.yaml").write_text("run_id: deadbeef\nstatus: 3\nlifecycle_stage: deleted\n")
    return root / "mlruns"


def test_mlflow_file_layout(tmp_path: Path, store_url: str) -> None:
    report = import_path(make_mlruns(tmp_path), store_url)
    assert report.kind == "mlflow-files" and len(report.imported) == 1 and report.points == 4
    run = list_runs(store=store_url)[0]
    assert (run.project, run.name, run.status) == ("agnews", "baseline", "finished")
    assert run.config == {"lr": 0.001, "optimizer": "adamw"} and run.tags == {"seed": "0"}
    assert run.history("train/loss") == [(0, 0.9), (1, 0.6), (2, 0.4)]
    assert run.summary == {"train/loss": 0.4, "val_acc": 0.71}
    assert run.created_at == 1700000000.0 and run.ended_at == 1700000060.0
    assert run.predictions("val").n == 3
    again = import_path(tmp_path / "mlruns", store_url)
    assert again.imported == [] and again.skipped == ["mlflow:0f0f0f0f0f0f4a4a8b8b123456789abc"]
    assert len(list_runs(store=store_url)) == 1


def make_mlflow_db(path: Path) -> Path:
    """The tables and columns of MLflow's SQLite schema that runcard reads (as MLflow 3 writes them)."""
    with sqlite3.connect(path) as conn:
        conn.executescript("""
            CREATE TABLE experiments (experiment_id INTEGER PRIMARY KEY, name VARCHAR(256), artifact_location
              VARCHAR(256), lifecycle_stage VARCHAR(32), creation_time BIGINT, last_update_time BIGINT, workspace TEXT);
            CREATE TABLE runs (run_uuid VARCHAR(32) PRIMARY KEY, name VARCHAR(250), source_type VARCHAR(20),
              source_name VARCHAR(500), entry_point_name VARCHAR(50), user_id VARCHAR(256), status VARCHAR(9),
              start_time BIGINT, end_time BIGINT, source_version VARCHAR(50), lifecycle_stage VARCHAR(20),
              artifact_uri VARCHAR(200), experiment_id INTEGER, deleted_time BIGINT);
            CREATE TABLE metrics (key VARCHAR(250), value FLOAT, timestamp BIGINT, run_uuid VARCHAR(32), step BIGINT,
              is_nan BOOLEAN);
            CREATE TABLE params (key VARCHAR(250), value VARCHAR(8000), run_uuid VARCHAR(32));
            CREATE TABLE tags (key VARCHAR(250), value VARCHAR(8000), run_uuid VARCHAR(32));
            INSERT INTO experiments VALUES (1, 'stance', 'mlartifacts/1', 'active', 0, 0, 'default');
            INSERT INTO runs VALUES ('aaaa1111', 'focal', 'LOCAL', '', '', 'me', 'FAILED', 1700000000000,
              1700000100000, '', 'active', 'mlartifacts/1/aaaa1111/artifacts', 1, NULL);
            INSERT INTO runs VALUES ('bbbb2222', 'gone', 'LOCAL', '', '', 'me', 'FINISHED', 1700000000000,
              1700000100000, '', 'deleted', '', 1, 1700000200000);
            INSERT INTO metrics VALUES ('loss', 1.5, 1700000001000, 'aaaa1111', 0, 0);
            INSERT INTO metrics VALUES ('loss', 0, 1700000002000, 'aaaa1111', 1, 1);
            INSERT INTO params VALUES ('gamma', '2.0', 'aaaa1111');
            INSERT INTO tags VALUES ('mlflow.user', 'me', 'aaaa1111');
            INSERT INTO tags VALUES ('task', 'stance', 'aaaa1111');
        """)
    artifacts = path.parent / "mlartifacts" / "1" / "aaaa1111" / "artifacts"
    artifacts.mkdir(parents=True)
    write_predictions_file(artifacts / "predictions_test.parquet")
    return path


def test_mlflow_sqlite_database(tmp_path: Path, store_url: str) -> None:
    db = make_mlflow_db(tmp_path / "mlflow.db")
    report = import_path(db, store_url)
    assert report.kind == "mlflow-sqlite" and len(report.imported) == 1
    run = list_runs(store=store_url)[0]
    assert (run.project, run.name, run.status, run.config, run.tags) == ("stance", "focal", "failed", {"gamma": 2.0},
                                                                        {"task": "stance"})
    history = run.history("loss")
    assert history[0] == (0, 1.5) and history[1][0] == 1 and np.isnan(history[1][1])
    assert run.predictions("test").n == 3
    assert detect(tmp_path, None)[0] == "mlflow-sqlite"  # a folder holding mlflow.db


def test_real_mlflow_run(tmp_path: Path, store_url: str) -> None:
    """A run written by MLflow itself (file store), read back by runcard."""
    pytest.importorskip("mlflow")  # in the test extra (mlflow-skinny): present under `make test`
    script = f"""
import mlflow
mlflow.set_tracking_uri({(tmp_path / 'mlruns').as_uri()!r})
mlflow.set_experiment("real")
with mlflow.start_run(run_name="r1"):
    mlflow.log_params({{"lr": 0.01, "epochs": 3}})
    for step in range(3):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
    mlflow.set_tag("seed", "7")
"""
    env = dict(os.environ, MLFLOW_ALLOW_FILE_STORE="true")
    subprocess.run([sys.executable, "-c", script], check=True, env=env, capture_output=True, timeout=300, cwd=tmp_path)
    report = import_path(tmp_path / "mlruns", store_url)
    assert report.kind == "mlflow-files" and len(report.imported) == 1
    run = list_runs(store=store_url)[0]
    assert (run.project, run.name, run.status) == ("real", "r1", "finished")
    assert run.config == {"lr": 0.01, "epochs": 3} and run.tags == {"seed": "7"}
    assert run.history("loss") == [(0, 1.0), (1, 0.5), (2, 1 / 3)]


def test_wandb_run_folders(tmp_path: Path, store_url: str) -> None:
    done = tmp_path / "wandb" / "run-20251001_101010-abc123" / "files"
    done.mkdir(parents=True)
    (done / "config.yaml").write_text(
        "_wandb:\n  value:\n    cli_version: 0.18.0\nlr:\n  desc: null\n  value: 0.0003\nmodel:\n  value: bert\n")
    (done / "wandb-summary.json").write_text(json.dumps({"test/kl": 0.41, "test/top1": 0.3484, "_runtime": 99,
                                                         "table": {"_type": "table"}}))
    (done / "wandb-history.jsonl").write_text("\n".join(json.dumps(r) for r in [
        {"_step": 0, "train/loss": 1.2, "_timestamp": 1700000000.5},
        {"_step": 1, "train/loss": 0.9, "_timestamp": 1700000001.5}]) + "\n")
    (done / "wandb-metadata.json").write_text(json.dumps({"startedAt": "2025-10-01T10:10:10.000000Z"}))
    unfinished = tmp_path / "wandb" / "offline-run-20251002_101010-def456" / "files"
    unfinished.mkdir(parents=True)
    (unfinished / "config.yaml").write_text("lr:\n  value: 0.001\n")
    report = import_path(tmp_path / "wandb", store_url, project="softlabel")
    assert report.kind == "wandb" and len(report.imported) == 2
    first, second = list_runs(store=store_url)
    assert (first.name, first.project, first.status) == ("abc123", "softlabel", "finished")
    assert first.config == {"lr": 0.0003, "model": "bert"}
    assert first.history("train/loss") == [(0, 1.2), (1, 0.9)]
    assert first.summary == {"test/kl": 0.41, "test/top1": 0.3484, "train/loss": 0.9}
    assert second.status == "failed" and "did not finish" in second.error
    assert import_path(tmp_path / "wandb", store_url).skipped == ["wandb:abc123", "wandb:def456"]


def test_hugging_face_trainer_folder(tmp_path: Path, store_url: str) -> None:
    out = tmp_path / "bert-run"
    for step in (50, 100):
        ckpt = out / f"checkpoint-{step}"
        ckpt.mkdir(parents=True)
        (ckpt / "model.safetensors").write_bytes(bytes([step]) * 32)
        (ckpt / "training_args.bin").write_bytes(b"\x80\x04 not unpickled")
        history = [{"loss": 1.0, "learning_rate": 5e-5, "epoch": 0.5, "step": 50}]
        if step == 100:
            history += [{"loss": 0.7, "learning_rate": 2e-5, "epoch": 1.0, "step": 100},
                        {"eval_loss": 0.8, "eval_macro_f1": 0.585, "epoch": 1.0, "step": 100}]
        (ckpt / "trainer_state.json").write_text(json.dumps({"global_step": step, "epoch": step / 100,
                                                             "log_history": history, "best_metric": 0.585}))
    (out / "config.json").write_text(json.dumps({"model_type": "bert", "num_labels": 3}))
    report = import_path(out, store_url)
    assert report.kind == "hf-trainer"
    run = list_runs(store=store_url)[0]
    assert run.name == "bert-run" and run.config["model"] == {"model_type": "bert", "num_labels": 3}
    assert run.config["trainer"]["global_step"] == 100
    assert run.history("loss") == [(50, 1.0), (100, 0.7)]
    assert run.summary["eval_macro_f1"] == 0.585
    assert [a.name for a in run.artifacts] == ["checkpoint-50", "checkpoint-100"]
    path = load_checkpoint(run.id, "checkpoint-100", store=store_url)
    assert (path / "model.safetensors").read_bytes() == bytes([100]) * 32


def test_generic_experiment_tree(tmp_path: Path, store_url: str) -> None:
    root = tmp_path / "experiments"
    a, b, c, d = (root / n for n in ("exp-a", "exp-b", "exp-c", "exp-d"))
    for folder in (a, b, c, d):
        folder.mkdir(parents=True)
    (a / "metrics.json").write_text(json.dumps({"test": {"accuracy": 0.76, "macro_f1": 0.66}, "note": "x"}))
    (a / "config.json").write_text(json.dumps({"lr": 0.001, "epochs": 6}))
    write_predictions_file(a / "test_predictions.csv")
    (a / "model.pt").write_bytes(b"pt")
    (b / "metrics.json").write_text(json.dumps([{"epoch": 1, "loss": 0.9}, {"epoch": 2, "loss": 0.6}]))
    (b / "config.yaml").write_text("lr: 0.01\n")
    (c / "metrics.csv").write_text("step,loss,acc\n10,0.5,0.8\n20,0.4,\n")
    (d / "metrics.json").write_text(json.dumps({"loss": [0.3, 0.2, 0.1]}))
    (root / "notes").mkdir()
    report = import_path(root, store_url, project="exp")
    assert report.kind == "generic" and len(report.imported) == 4
    runs = {r.name: r for r in list_runs(store=store_url)}
    assert runs["exp-a"].summary == {"test/accuracy": 0.76, "test/macro_f1": 0.66}
    assert runs["exp-a"].config == {"lr": 0.001, "epochs": 6}
    assert runs["exp-a"].predictions("test").n == 3 and runs["exp-a"].artifact(kind="checkpoint").name == "model.pt"
    assert runs["exp-b"].history("loss") == [(1, 0.9), (2, 0.6)] and runs["exp-b"].config == {"lr": 0.01}
    assert runs["exp-c"].history("acc") == [(10, 0.8)] and runs["exp-c"].history("loss") == [(10, 0.5), (20, 0.4)]
    assert runs["exp-d"].history("loss") == [(0, 0.3), (1, 0.2), (2, 0.1)]
    assert {r.project for r in runs.values()} == {"exp"}
    assert import_path(root, store_url).imported == []


def test_an_unrecognised_folder_says_what_it_looked_for(tmp_path: Path, store_url: str) -> None:
    (tmp_path / "random").mkdir()
    (tmp_path / "random" / "notes.txt").write_text("hello")
    with pytest.raises(InputError, match=r"found no runs to import.*mlruns.*wandb.*trainer_state.json.*metrics.json"):
        import_path(tmp_path / "random", store_url)
    with pytest.raises(InputError, match="no such file or folder"):
        import_path(tmp_path / "missing", store_url)
