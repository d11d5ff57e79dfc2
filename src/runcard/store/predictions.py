"""Predictions stored as run artifacts: Parquet in the format of docs/formats.md, hash-checked on load."""

from __future__ import annotations

import io
import time
from dataclasses import replace
from pathlib import Path

import pyarrow.parquet as pq

from runcard.data.predictions import load_predictions, prediction_columns
from runcard.errors import InputError
from runcard.store.base import Store
from runcard.store.model import Artifact, Run
from runcard.table import PredictionTable


def store_predictions(store: Store, run_id: str, split: str, table: PredictionTable,
                      checkpoint: str | None) -> Artifact:
    """Write ``table`` as Parquet into the artifact store and record it on the run."""
    if not split or not split.replace("_", "").replace("-", "").isalnum():
        raise InputError(f"split {split!r}: use a plain name such as 'val' or 'test' (letters, digits, - and _).")
    buffer = io.BytesIO()
    pq.write_table(prediction_columns(table), buffer)
    stored = store.artifacts.put_bytes(buffer.getvalue(), f"predictions_{split}.parquet")
    meta = {"split": split, "n": table.n, "classes": [str(c) for c in table.classes], "checkpoint": checkpoint}
    artifact = Artifact(f"predictions_{split}.parquet", "predictions", stored.sha256, stored.size, stored.path,
                        time.time(), meta)
    store.add_artifact(run_id, artifact)
    return artifact


def load_run_predictions(store: Store, run: Run, split: str) -> PredictionTable:
    """The latest predictions logged for ``split`` on ``run``, after re-hashing the file."""
    found = [a for a in run.artifacts if a.kind == "predictions" and a.meta.get("split") == split]
    if not found:
        splits = sorted({str(a.meta.get("split")) for a in run.artifacts if a.kind == "predictions"})
        raise InputError(f"run {run.id} has no predictions for split {split!r} (it has: {splits or 'none'}).")
    art = found[-1]
    path = store.artifacts.verify(art.path, art.sha256, owner=f"run {run.id}")
    return replace(load_predictions(path), source=f"run {run.id} {split} predictions")


def predictions_file(store: Store, run: Run, split: str) -> Path:
    """Path of the stored Parquet file (hash-checked), e.g. to hand to `runcard eval`."""
    found = [a for a in run.artifacts if a.kind == "predictions" and a.meta.get("split") == split]
    if not found:
        raise InputError(f"run {run.id} has no predictions for split {split!r}.")
    return store.artifacts.verify(found[-1].path, found[-1].sha256, owner=f"run {run.id}")


