"""`runcard import PATH`: read runs from MLflow, W&B, Hugging Face Trainer, TensorBoard or a plain folder tree.

Detection order: an MLflow SQLite database file (or ``mlflow.db`` in the folder), an ``mlruns``
folder, W&B run folders, Trainer output folders, TensorBoard event files, then a generic tree.
Formats are described in `runcard.importers.mlflow`, `.wandb`, `.hf`, `.tensorboard` and `.others`
and in docs/import.md.
"""

from __future__ import annotations

from pathlib import Path

from runcard.errors import InputError
from runcard.importers import hf, mlflow, others, tensorboard, wandb
from runcard.importers.records import ImportedRun, ImportReport, write_runs
from runcard.store import Store, open_store

LOOKED_FOR = (
    "an MLflow tracking database (SQLite file with experiments/runs/metrics tables, or mlflow.db inside)",
    "an MLflow mlruns/ folder (<experiment>/meta.yaml and <experiment>/<run>/meta.yaml)",
    "W&B run folders (wandb/run-*/ or offline-run-*/ holding run-<id>.wandb or files/)",
    "Hugging Face Trainer output folders (trainer_state.json at the top or in checkpoint-*/, of the folder or its sub-folders)",
    "TensorBoard event files (events.out.tfevents.*, in the folder or below)",
    "a generic tree: a folder, or sub-folders, holding " + ", ".join(others.METRIC_FILES),
)


def detect(path: Path, project: str | None, *, checkpoints: bool = True) -> tuple[str, list[ImportedRun]]:
    """What kind of source ``path`` is, and its runs as records (nothing is written)."""
    if not path.exists():
        raise InputError(f"{path}: no such file or folder.")
    default_project = path.resolve().name
    if path.is_file():
        if mlflow.is_mlflow_db(path):
            return "mlflow-sqlite", mlflow.read_mlflow_db(path, project)
        raise InputError(f"{path}: a file, but not an MLflow SQLite tracking database. runcard import looks for: "
                         + "; ".join(LOOKED_FOR) + ".")
    if mlflow.is_mlflow_db(path / "mlflow.db"):
        return "mlflow-sqlite", mlflow.read_mlflow_db(path / "mlflow.db", project)
    mlruns = mlflow.find_mlruns(path)
    if mlruns is not None:
        return "mlflow-files", mlflow.read_mlruns(mlruns, project)
    wandb_dirs = wandb.wandb_run_dirs(path)
    if wandb_dirs:
        return "wandb", wandb.read_wandb(wandb_dirs, project, default_project)
    trainer_dirs = hf.trainer_run_dirs(path)
    if trainer_dirs:
        return "hf-trainer", [hf.read_hf_trainer(d, hf.trainer_states(d), project, checkpoints) for d in trainer_dirs]
    event_dirs = tensorboard.event_dirs(path)
    if event_dirs:
        return "tensorboard", tensorboard.read_tensorboard(path, event_dirs, project)
    generic = others.generic_run_dirs(path)
    if generic:
        return "generic", others.read_generic(generic, project, default_project, checkpoints)
    raise InputError(f"{path}: found no runs to import. runcard import looks for: " + "; ".join(LOOKED_FOR)
                     + ". See docs/import.md.")


def import_path(path: str | Path, store: str | Store | None = None, *, project: str | None = None,
                checkpoints: bool = True) -> ImportReport:
    """Import every run found at ``path``; runs already imported (same source) are skipped."""
    path = Path(path)
    kind, records = detect(path, project, checkpoints=checkpoints)
    return write_runs(records, open_store(store), ImportReport(kind), path if path.is_dir() else path.parent)


__all__ = ["LOOKED_FOR", "ImportReport", "ImportedRun", "detect", "import_path"]
