"""`RuncardCallback` on a real `transformers.Trainer` run (random-init tiny BERT, tests/tiny_trainer.py): what the
store holds is compared with the Trainer's own objects, and the run's card is built with no other code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("transformers")
pytest.importorskip("accelerate")

from scipy.special import softmax
from sklearn.metrics import accuracy_score
from transformers import Trainer

import runcard
from runcard.errors import InputError
from runcard.integrations.transformers import RuncardCallback
from runcard.report.card import build_card
from runcard.store import open_store
from tests.cli.test_cli import RUNCARD
from tests.tiny_trainer import CLASSES, make_splits, spoil_second_epoch, tiny_model, training_args


@pytest.fixture
def store_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("RUNCARD_ARTIFACTS", str(tmp_path / "store" / "artifacts"))
    monkeypatch.setenv("RUNCARD_JOURNAL", str(tmp_path / "store" / "journal"))
    return f"sqlite:///{tmp_path / 'store' / 'runcard.db'}"


def test_a_trainer_run_is_recorded_and_has_a_card(tmp_path: Path, store_url: str) -> None:
    splits, tokenizer = make_splits(tmp_path / "data")
    model = tiny_model(tokenizer.vocab_size)
    callback = RuncardCallback(project="sentiment", name="tiny-bert", store=store_url, tags={"seed": 0})
    args = training_args(tmp_path / "out")
    trainer = Trainer(model=model, args=args, train_dataset=splits.train, eval_dataset=splits.val,
                      callbacks=[callback, spoil_second_epoch()], compute_metrics=callback.compute_metrics())
    trainer.train()
    final_eval = trainer.evaluate()
    callback.log_predictions(trainer, splits.test, split="test")
    state = trainer.state
    best, last = state.best_global_step, state.global_step
    assert 0 < best < last  # the spoiled second epoch: the best checkpoint is the first

    store = open_store(store_url)
    run = store.get_run(callback.run_id)
    assert (run.project, run.name, run.status, run.tags) == ("sentiment", "tiny-bert", "finished", {"seed": "0"})
    assert {k: v for k, v in run.config.items() if k != "model"} == json.loads(json.dumps(args.to_dict()))
    assert run.config["model"]["num_parameters"] == model.num_parameters()
    assert run.config["model"]["class"] == "BertForSequenceClassification"
    assert run.config["model"]["config"]["hidden_size"] == 32

    # every value the Trainer logged during training, at its global step
    expected: dict[str, list[tuple[int, float]]] = {}
    for entry in state.log_history:
        for key, value in entry.items():
            if key != "step":
                expected.setdefault(key, []).append((entry["step"], float(value)))
        if "train_runtime" in entry:
            break
    for key, points in expected.items():
        assert sorted(run.history(key)) == sorted(points), key
    # the final evaluation (the reloaded best model) is the run's result, beside the per-epoch series
    assert run.history("eval_loss")[-1][1] != final_eval["eval_loss"]
    assert run.summary["final/eval_loss"] == final_eval["eval_loss"]

    checkpoints = {a.name: a for a in run.artifacts if a.kind == "checkpoint"}
    assert sorted(checkpoints) == sorted([f"checkpoint-{best}", f"checkpoint-{last}"])
    assert checkpoints[f"checkpoint-{best}"].meta["step"] == best
    best_sha = checkpoints[f"checkpoint-{best}"].sha256
    assert Path(state.best_model_checkpoint).name == f"checkpoint-{best}"
    reloaded = runcard.load_checkpoint(run.id, f"checkpoint-{best}", store=store)
    weights = Path(state.best_model_checkpoint) / "model.safetensors"
    assert (reloaded / "model.safetensors").read_bytes() == weights.read_bytes()

    # each evaluation's predictions, tied to the checkpoint saved at its step; the final ones to the best
    predictions = [(a.meta["split"], a.meta["checkpoint"]) for a in run.artifacts if a.kind == "predictions"]
    assert predictions == [("val", best_sha), ("val", checkpoints[f"checkpoint-{last}"].sha256), ("val", best_sha),
                           ("test", best_sha)]
    test_output = trainer.predict(splits.test)
    table = run.predictions("test")
    np.testing.assert_allclose(table.probs, softmax(test_output.predictions, axis=1), rtol=1e-5, atol=1e-6)
    assert list(table.classes) == list(CLASSES)

    assert run.stages["train"] > 0 and run.stages["predict"] > 0
    runtimes = [e["eval_runtime"] for e in state.log_history if "eval_runtime" in e]
    assert run.stages["evaluate"] == pytest.approx(sum(runtimes), abs=1e-6)

    card = build_card(store, run)
    assert set(card["evaluation"]) == {"val", "test"}
    assert card["evaluation"]["test"]["provenance"]["checkpoint"] == best_sha
    assert card["evaluation"]["val"]["provenance"]["checkpoint"] == best_sha
    accuracy = accuracy_score(test_output.label_ids, test_output.predictions.argmax(axis=1))
    assert run.evaluated["test/accuracy"] == pytest.approx(accuracy)
    assert card["model"]["checkpoints"] and card["training"]["selected_step"] == best
    assert card["training"]["curves"]["loss"] == [list(p) for p in expected["loss"]]  # with its steps
    assert set(card["training"]["stages"]) == {"train", "evaluate", "predict"}

    env = {**os.environ, "RUNCARD_STORE": store_url}
    done = subprocess.run([RUNCARD, "card", run.id, "--json"], capture_output=True, text=True, timeout=120, env=env,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert set(json.loads(done.stdout)["evaluation"]) == {"val", "test"}


def test_into_your_own_run_without_checkpoints(tmp_path: Path, store_url: str) -> None:
    splits, tokenizer = make_splits(tmp_path / "data")
    with runcard.start_run("sentiment", "mine", config={"recipe": "tiny"}, store=store_url) as run:
        callback = RuncardCallback(run=run, checkpoints="none")
        trainer = Trainer(model=tiny_model(tokenizer.vocab_size), args=training_args(tmp_path / "out"),
                          train_dataset=splits.train, eval_dataset=splits.val, callbacks=[callback])
        trainer.train()
        assert open_store(store_url).get_run(run.id).status == "running"  # your run: you finish it
        callback.log_predictions(trainer, splits.test)
        run.log_metric("after", 1.0)
    stored = runcard.get_run(run.id, store=store_url)
    assert stored.status == "finished" and stored.config == {"recipe": "tiny"}
    assert not [a for a in stored.artifacts if a.kind == "checkpoint"]
    assert [a.meta["checkpoint"] for a in stored.artifacts if a.kind == "predictions"] == [None]
    assert stored.history("loss") == [(e["step"], e["loss"]) for e in trainer.state.log_history if "loss" in e]


def test_checkpoint_modes_and_arguments_are_checked() -> None:
    with pytest.raises(InputError, match="by reference is not supported"):
        RuncardCallback(project="p", checkpoints="reference")
    with pytest.raises(InputError, match="pass project="):
        RuncardCallback()


def test_import_runcard_does_not_import_transformers() -> None:
    code = "import sys, runcard, runcard.integrations; print('transformers' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "False"
