"""MLflow runs written by the real mlflow package (in a subprocess): the starting point of the MLflow fault probes,
which then change one thing in what MLflow wrote."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

WRITE = """
import sys
import mlflow
uri, predictions = sys.argv[1], sys.argv[2]
mlflow.set_tracking_uri(uri)
mlflow.set_experiment("probe")
with mlflow.start_run(run_name="probe"):
    mlflow.log_params({"lr": "0.01", "optimizer": "adamw"})
    mlflow.set_tag("owner", "me")
    for step in range(3):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
    mlflow.log_artifact(predictions)
"""


def write_mlflow(folder: Path, layout: str) -> Path:
    """A folder holding one real MLflow run (``files``: ``mlruns/``; ``sqlite``: ``mlflow.db`` with its artifacts
    beside it, as `mlflow ui` run in that folder keeps them), with a predictions artifact."""
    pytest.importorskip("mlflow")
    from runcard import table_from_arrays, write_predictions

    folder.mkdir(parents=True, exist_ok=True)
    predictions = folder.parent / f"{folder.name}-logged" / "test_predictions.csv"
    predictions.parent.mkdir(parents=True, exist_ok=True)
    write_predictions(table_from_arrays(["a", "b", "a"], [[0.9, 0.1], [0.3, 0.7], [0.4, 0.6]], classes=["a", "b"]),
                      predictions)
    uri = f"file://{folder / 'mlruns'}" if layout == "files" else f"sqlite:///{folder / 'mlflow.db'}"
    env = dict(os.environ, MLFLOW_ALLOW_FILE_STORE="true")
    done = subprocess.run([sys.executable, "-c", WRITE, uri, str(predictions)], cwd=folder, env=env,
                          capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return folder


@pytest.fixture(scope="session")
def mlflow_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_mlflow(tmp_path_factory.mktemp("mlflow") / "files", "files")


@pytest.fixture(scope="session")
def mlflow_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_mlflow(tmp_path_factory.mktemp("mlflow") / "sqlite", "sqlite")


def copy_of(folder: Path, into: Path) -> Path:
    """A copy to change (the session's original stays as MLflow wrote it)."""
    target = into / folder.name
    shutil.copytree(folder, target, symlinks=True)
    return target


def run_folder(mlruns: Path) -> Path:
    """The one run's folder of a file store: ``mlruns/<experiment id>/<run id>/``."""
    return next(p.parent for p in mlruns.glob("*/*/meta.yaml") if p.parent.name != ".trash")
