"""`runcard import` of Hugging Face Trainer output folders written by a real `transformers.Trainer` run (a
random-init tiny BERT, tests/tiny_trainer.py), every field compared with the Trainer's own objects."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("transformers")
pytest.importorskip("accelerate")

from runcard import list_runs
from runcard.importers import import_path
from runcard.report.card import build_card
from runcard.store import open_store
from tests.tiny_trainer import make_splits, spoil_second_epoch, tiny_model, training_args


@pytest.fixture
def store_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("RUNCARD_ARTIFACTS", str(tmp_path / "store" / "artifacts"))
    monkeypatch.setenv("RUNCARD_JOURNAL", str(tmp_path / "store" / "journal"))
    return f"sqlite:///{tmp_path / 'store' / 'runcard.db'}"


def train(output_dir: Path, *, spoil: bool, seed: int = 0) -> dict[str, Any]:
    """A Trainer run as a user scripts it: train, evaluate the reloaded best model, predict on test, save the
    metrics and the state. Returns the Trainer's own objects to compare with."""
    from transformers import Trainer

    splits, tokenizer = make_splits(output_dir.parent / f"data-{output_dir.name}", seed=seed)
    trainer = Trainer(model=tiny_model(tokenizer.vocab_size, seed), args=training_args(output_dir, seed=seed),
                      train_dataset=splits.train, eval_dataset=splits.val,
                      callbacks=[spoil_second_epoch()] if spoil else None)
    train_metrics = trainer.train().metrics
    trainer.save_metrics("train", train_metrics)
    eval_metrics = trainer.evaluate()
    trainer.save_metrics("eval", eval_metrics)
    test_metrics = trainer.predict(splits.test, metric_key_prefix="test").metrics
    trainer.save_metrics("test", test_metrics)
    trainer.save_metrics("all", {**train_metrics, **eval_metrics, **test_metrics})
    trainer.save_state()
    return {"state": trainer.state, "train": train_metrics, "eval": eval_metrics, "test": test_metrics}


def expected_series(log_history: list[dict[str, Any]]) -> dict[str, list[tuple[int, float]]]:
    """The training-time entries of log_history (up to the training summary), per key, in logged order."""
    series: dict[str, list[tuple[int, float]]] = {}
    for entry in log_history:
        for key, value in entry.items():
            if key != "step":
                series.setdefault(key, []).append((entry["step"], float(value)))
        if "train_runtime" in entry:
            break
    return series


def test_a_trainer_folder_lands_with_its_final_results_and_best_checkpoint(tmp_path: Path, store_url: str) -> None:
    out = tmp_path / "bert-run"
    got = train(out, spoil=True)
    state = got["state"]
    best, last = state.best_global_step, state.global_step
    assert 0 < best < last  # the spoiled second epoch is worse: the best checkpoint is the first

    report = import_path(out, store_url)
    assert report.kind == "hf-trainer" and len(report.imported) == 1
    run = list_runs(store=store_url)[0]
    assert run.name == "bert-run" and run.source == f"hf:{out.resolve()}"

    series = expected_series(state.log_history)
    assert set(run.metric_keys()) == set(series)
    for key, points in series.items():
        assert sorted(run.history(key)) == sorted(points), key

    # the run's results are the results files' values (the reloaded best model), not the last epoch's
    results = {**got["train"], **got["eval"], **got["test"]}
    assert json.loads((out / "all_results.json").read_text()) == pytest.approx(results)
    last_epoch_eval = series["eval_loss"][-1][1]
    assert got["eval"]["eval_loss"] != last_epoch_eval
    assert run.summary["final/eval_loss"] == got["eval"]["eval_loss"]
    assert run.summary["eval_loss"] == last_epoch_eval  # the series' own latest point stays under its name
    for key, value in results.items():
        if key not in series:
            assert run.summary[key] == value, key  # test_loss, ...: no series, the plain name
        elif value != series[key][-1][1]:
            assert run.summary[f"final/{key}"] == value, key  # beside a series it differs from
        else:
            assert run.summary[key] == value and f"final/{key}" not in run.summary, key

    trainer_config = run.config["trainer"]
    assert trainer_config["best_model_checkpoint"] == state.best_model_checkpoint
    assert trainer_config["best_global_step"] == state.best_global_step
    assert trainer_config["best_metric"] == state.best_metric
    assert trainer_config["global_step"] == state.global_step and trainer_config["epoch"] == state.epoch
    assert run.tags["best_model_checkpoint"] == state.best_model_checkpoint
    assert run.tags["best_global_step"] == str(state.best_global_step)
    assert run.config["model"]["hidden_size"] == 32 and run.config["model"]["num_hidden_layers"] == 2

    checkpoints = {a.name: a for a in run.artifacts if a.kind == "checkpoint"}
    assert sorted(checkpoints) == sorted([f"checkpoint-{best}", f"checkpoint-{last}"])
    assert Path(state.best_model_checkpoint).name == f"checkpoint-{best}"
    assert checkpoints[f"checkpoint-{best}"].meta["best"] is True and checkpoints[f"checkpoint-{best}"].meta["step"] == best
    assert "best" not in checkpoints[f"checkpoint-{last}"].meta and checkpoints[f"checkpoint-{last}"].meta["step"] == last

    store = open_store(store_url)
    card = build_card(store, store.get_run(run.id))
    assert card["training"]["selected_step"] == best
    assert card["logged_metrics"]["final/eval_loss"] == got["eval"]["eval_loss"]


def test_a_folder_of_trainer_folders_is_one_run_each(tmp_path: Path, store_url: str) -> None:
    parent = tmp_path / "sweep"
    first = train(parent / "seed-0", spoil=False, seed=0)
    second = train(parent / "seed-1", spoil=False, seed=1)
    (parent / "seed-1" / "trainer_state.json").unlink()  # only its checkpoints' states are left
    report = import_path(parent, store_url)
    assert report.kind == "hf-trainer" and len(report.imported) == 2
    runs = {r.name: r for r in list_runs(store=store_url)}
    assert sorted(runs) == ["seed-0", "seed-1"] and {r.project for r in runs.values()} == {"sweep"}
    for name, got in (("seed-0", first), ("seed-1", second)):
        run, state = runs[name], got["state"]
        assert run.config["trainer"]["best_model_checkpoint"] == state.best_model_checkpoint
        assert run.summary["test_loss"] == got["test"]["test_loss"]
        loss = [(e["step"], e["loss"]) for e in state.log_history if "loss" in e]
        assert run.history("loss") == loss
    assert import_path(parent, store_url).skipped == [f"hf:{(parent / n).resolve()}" for n in ("seed-0", "seed-1")]
