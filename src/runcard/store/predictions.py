"""Predictions stored as run artifacts: Parquet in the format of docs/formats.md, hash-checked on load."""

from __future__ import annotations

import io
import time
from dataclasses import replace
from pathlib import Path

import pyarrow.parquet as pq

from runcard.data.prediction_files import load_predictions, prediction_columns
from runcard.errors import InputError
from runcard.store.base import Store
from runcard.store.runs import Artifact, Run, prediction_key
from runcard.table import PredictionTable


def _check_name(what: str, name: str) -> None:
    if not name or not name.replace("_", "").replace("-", "").isalnum():
        raise InputError(f"{what} {name!r}: use a plain name such as 'val' or 'test' (letters, digits, - and _).")


def store_predictions(store: Store, run_id: str, split: str, table: PredictionTable,
                      checkpoint: str | None, task: str | None = None) -> Artifact:
    """Write ``table`` as Parquet into the artifact store and record it on the run.

    ``task`` names the task of a multi-task run (one predictions artifact per split and task).
    """
    _check_name("split", split)
    if task is not None:
        _check_name("task", task)
    name = f"predictions_{split}.parquet" if task is None else f"predictions_{split}_{task}.parquet"
    buffer = io.BytesIO()
    pq.write_table(prediction_columns(table), buffer)
    stored = store.artifacts.put_bytes(buffer.getvalue(), name)
    meta = {"split": split, "n": table.n, "classes": [str(c) for c in table.classes], "checkpoint": checkpoint}
    if task is not None:
        meta["task"] = task
    artifact = Artifact(name, "predictions", stored.sha256, stored.size, stored.path, time.time(), meta)
    store.add_artifact(run_id, artifact)
    return artifact


def load_run_predictions(store: Store, run: Run, split: str) -> PredictionTable:
    """The latest predictions logged for ``split`` (or ``split/task``) on ``run``, after re-hashing the file."""
    found = [a for a in run.artifacts if a.kind == "predictions" and prediction_key(a.meta) == split]
    if not found:
        splits = sorted({prediction_key(a.meta) for a in run.artifacts if a.kind == "predictions"})
        raise InputError(f"run {run.id} has no predictions for split {split!r} (it has: {splits or 'none'}).")
    return load_artifact_table(store, run, found[-1])


def load_artifact_table(store: Store, run: Run, art: Artifact) -> PredictionTable:
    """A predictions artifact of ``run`` as a table, after re-hashing the file."""
    key = prediction_key(art.meta)
    path = store.artifacts.verify(art.path, art.sha256, owner=f"run {run.id} {key} predictions")
    return replace(load_predictions(path), source=f"run {run.id} {key} predictions")


def predictions_file(store: Store, run: Run, split: str) -> Path:
    """Path of the stored Parquet file (hash-checked), e.g. to hand to `runcard eval`."""
    found = [a for a in run.artifacts if a.kind == "predictions" and prediction_key(a.meta) == split]
    if not found:
        raise InputError(f"run {run.id} has no predictions for split {split!r}.")
    return store.artifacts.verify(found[-1].path, found[-1].sha256, owner=f"run {run.id}")


