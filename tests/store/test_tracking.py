"""`start_run` and the active run: lifecycle, metrics, stages, checkpoints, predictions."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from runcard import get_run, list_runs, load_checkpoint, start_run
from runcard.errors import InputError
from runcard.store import ArtifactError, Store
from tests.conftest import random_probs


def test_a_run_records_everything_and_finishes(store: Store, tmp_path: Path) -> None:
    ckpt = tmp_path / "model.pt"
    ckpt.write_bytes(b"\x00\x01" * 500)
    with start_run(project="agnews", name="run-2", config={"lr": 1e-3, "dims": (1500, 64)}, tags={"seed": 0},
                   store=store) as run:
        assert len(run.id) == 8 and get_run(run.id, store).status == "running"
        with run.stage("data"):
            time.sleep(0.02)
        with run.stage("train"):
            for step in range(6):
                run.log_metric("train/loss", 1.0 / (step + 1), step=step)
        run.log_metrics({"val/loss": 0.59, "val/acc": np.float32(0.75)}, step=6)
        run.log_metric("lr", 0.1)  # auto step 0
        run.log_metric("lr", 0.05)  # auto step 1
        sha = run.log_checkpoint(ckpt)
    stored = get_run(run.id[:5], store)
    assert stored.status == "finished" and stored.ended_at is not None
    assert stored.config == {"lr": 1e-3, "dims": [1500, 64]} and stored.tags == {"seed": "0"}
    assert set(stored.stages) == {"data", "train"} and stored.stages["data"] >= 0.02
    assert stored.history("train/loss") == [(s, 1.0 / (s + 1)) for s in range(6)]
    assert stored.history("lr") == [(0, 0.1), (1, 0.05)]
    assert stored.summary["val/acc"] == pytest.approx(0.75) and stored.summary["train/loss"] == pytest.approx(1 / 6)
    art = stored.artifact(kind="checkpoint")
    assert art is not None and art.sha256 == sha and art.size == 1000
    path = load_checkpoint(run.id, store=store)
    assert path.read_bytes() == ckpt.read_bytes()
    assert not (Path(store.journal_dir) / f"{run.id}.jsonl").exists()


def test_an_exception_marks_the_run_failed_and_propagates(store: Store) -> None:
    with pytest.raises(ZeroDivisionError), start_run(project="p", store=store) as run:  # noqa: PT012
        run.log_metric("loss", 1.0)
        _ = 1 / 0
    stored = get_run(run.id, store)
    assert stored.status == "failed" and "ZeroDivisionError" in stored.error
    assert stored.history("loss") == [(0, 1.0)]


def test_predictions_round_trip(store: Store, rng: np.random.Generator) -> None:
    probs = random_probs(rng, 50, 3)
    y = rng.integers(0, 3, 50)
    with start_run(project="p", store=store) as run:
        digest = run.log_predictions("val", y, probs, classes=["neg", "neu", "pos"],
                                     ids=[f"i{i}" for i in range(50)], texts=["t"] * 50, checkpoint="ab" * 32)
    stored = get_run(run.id, store)
    table = stored.predictions("val")
    np.testing.assert_array_equal(table.probs, probs)
    np.testing.assert_array_equal(table.y_true, y)
    assert table.classes == ("neg", "neu", "pos") and table.ids[3] == "i3"
    art = stored.artifact(kind="predictions")
    assert art.sha256 == digest and art.meta["checkpoint"] == "ab" * 32 and art.meta["split"] == "val"
    with pytest.raises(InputError, match="no predictions for split 'test'"):
        stored.predictions("test")


def test_checkpoint_problems_are_errors_naming_run_path_and_hash(store: Store, tmp_path: Path) -> None:
    ckpt = tmp_path / "weights.bin"
    ckpt.write_bytes(b"x" * 64)
    with start_run(project="p", store=store) as run:
        with pytest.raises(InputError, match="does not exist"):
            run.log_checkpoint(tmp_path / "missing.pt")
        sha = run.log_checkpoint(ckpt)
    with pytest.raises(InputError, match=r"no checkpoint named 'other\.pt'"):
        load_checkpoint(run.id, "other.pt", store=store)
    stored = store.artifacts.path(get_run(run.id, store).artifact(kind="checkpoint").path)
    stored.write_bytes(b"y" * 64)
    with pytest.raises(ArtifactError, match=rf"run {run.id} checkpoint 'weights.bin': .*expected {sha}"):
        load_checkpoint(run.id, store=store)
    stored.unlink()
    with pytest.raises(ArtifactError, match=rf"run {run.id}.*is missing \(expected sha256 {sha}\)"):
        load_checkpoint(run.id, store=store)


def test_directory_checkpoints(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "checkpoint-100"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"w" * 10)
    (folder / "config.json").write_text("{}")
    with start_run(project="p", store=store) as run:
        run.log_checkpoint(folder)
    path = load_checkpoint(run.id, "checkpoint-100", store=store)
    assert sorted(p.name for p in path.iterdir()) == ["config.json", "model.safetensors"]


def test_bad_inputs_are_refused(store: Store) -> None:
    with pytest.raises(InputError, match=r"config\.opt: a object cannot be stored"):
        start_run(project="p", config={"opt": object()}, store=store)
    with start_run(project="p", store=store) as run:
        with pytest.raises(InputError, match="is not a number"):
            run.log_metric("loss", "high")
        with pytest.raises(InputError, match="step -1"):
            run.log_metric("loss", 1.0, step=-1)
        with pytest.raises(InputError, match="metric key ''"):
            run.log_metric("", 1.0)
    with pytest.raises(InputError, match="has ended"):
        run.log_metric("loss", 1.0)


def test_list_runs_filters(store: Store) -> None:
    with start_run(project="a", store=store):
        pass
    with pytest.raises(RuntimeError), start_run(project="b", store=store):
        raise RuntimeError("boom")
    assert [r.project for r in list_runs(store=store)] == ["a", "b"]
    assert [r.project for r in list_runs("b", store=store)] == ["b"]
    assert [r.status for r in list_runs(store=store, status="failed")] == ["failed"]
    with pytest.raises(InputError, match="status 'done'"):
        list_runs(store=store, status="done")
