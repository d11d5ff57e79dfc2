"""Records added to a stored run after its `ActiveRun` ended: a Trainer callback's run ends with training, and
the test predictions (and the checkpoint that made them) come after ``trainer.train()`` returns. The same
records `ActiveRun.log_checkpoint` and `ActiveRun.log_predictions` write."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from runcard.errors import InputError
from runcard.eval_settings import EvalSettings
from runcard.store import Artifact, Store
from runcard.store.evaluations import evaluate_and_keep
from runcard.store.predictions import store_predictions
from runcard.store.runs import prediction_key
from runcard.table import PredictionTable


def add_checkpoint(store: Store, run_id: str, folder: Path, step: int | None) -> str:
    """Copy a checkpoint folder into the artifact store and record it on ``run_id``; return its sha256."""
    if not folder.is_dir():
        raise InputError(f"checkpoint folder {folder} does not exist; nothing was recorded.")
    stored = store.artifacts.put_dir(folder)
    meta: dict[str, Any] = {"source_path": str(folder.resolve()), "manifest": [list(e) for e in stored.manifest or ()]}
    if step is not None:
        meta["step"] = int(step)
    store.add_artifact(run_id, Artifact(folder.name, "checkpoint", stored.sha256, stored.size, stored.path,
                                        time.time(), meta))
    return stored.sha256


def add_predictions(store: Store, run_id: str, split: str, table: PredictionTable, checkpoint: str | None,
                    settings: EvalSettings) -> str:
    """Store one split's predictions on ``run_id`` and their evaluation with ``settings``; return their sha256."""
    art = store_predictions(store, run_id, split, table, checkpoint)
    evaluate_and_keep(store, run_id, prediction_key(art.meta), art.sha256, table, settings)
    return art.sha256
