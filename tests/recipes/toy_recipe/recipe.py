"""The toy recipe's experiment: predictions of a fixed-seed random model, logged and carded like any recipe's."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from runcard.recipes.progress import Reporter
from runcard.recipes.results import RecipeResult, write_card
from runcard.store import Store
from runcard.tracking import start_run
from tests.recipes.toy_recipe import ToyConfig


def run_toy(config: ToyConfig, base: Path, store: Store, *, reporter: Reporter) -> RecipeResult:
    rng = np.random.default_rng(config.experiment.seed)
    y = rng.integers(0, 3, config.data.rows)
    logits = rng.normal(size=(config.data.rows, 3)) + 2.0 * np.eye(3)[y]
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    with start_run(config.experiment.project, name=config.experiment.name, config=config.model_dump(mode="json"),
                   store=store, evaluation=config.evaluation.settings()) as run:
        run.log_predictions("test", y_true=y, y_prob=probs, classes=["a", "b", "c"])
        run_id = run.id
    return write_card(store, run_id, out_dir=config.report.out_dir, html=False, metrics={})
