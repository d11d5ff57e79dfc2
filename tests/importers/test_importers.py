"""Importers of layouts a test can write by hand (MLflow: tests/importers/test_mlflow.py, with the real package)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runcard import list_runs, load_checkpoint, table_from_arrays, write_predictions
from runcard.errors import InputError
from runcard.importers import import_path


@pytest.fixture
def store_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("RUNCARD_ARTIFACTS", str(tmp_path / "store" / "artifacts"))
    monkeypatch.setenv("RUNCARD_JOURNAL", str(tmp_path / "store" / "journal"))
    return f"sqlite:///{tmp_path / 'store' / 'runcard.db'}"


def write_predictions_file(path: Path) -> None:
    table = table_from_arrays(["a", "b", "a"], [[0.9, 0.1], [0.3, 0.7], [0.4, 0.6]], classes=["a", "b"])
    write_predictions(table, path)


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
