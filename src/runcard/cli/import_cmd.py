"""`runcard import PATH`: bring runs from MLflow, W&B, Hugging Face Trainer, TensorBoard or folders into the store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from runcard.cli.options import AsJson, StoreUrl, print_json
from runcard.importers import import_path

EPILOG = (
    "Examples:\n\n"
    "  runcard import mlruns/\n\n"
    "  runcard import mlflow.db --project agnews\n\n"
    "  runcard import wandb/ --json\n\n"
    "  runcard import outputs/bert-run-3            (a Hugging Face Trainer output folder)\n\n"
    "  runcard import outputs/                      (several Trainer output folders: one run each)\n\n"
    "  runcard import lightning_logs/               (TensorBoard event files: one run per folder)\n\n"
    "  runcard import experiments/                  (one folder per run with metrics.json)\n\n"
    "What is recognised: docs/import.md. Importing the same source twice adds nothing."
)


def import_command(
    path: Annotated[Path, typer.Argument(help="File or folder to import from.", show_default=False)],
    project: Annotated[str | None, typer.Option("--project", help="Project for the imported runs "
                                                "(default: the MLflow experiment, or the folder name).")] = None,
    checkpoints: Annotated[bool, typer.Option("--checkpoints/--no-checkpoints",
                                              help="Copy checkpoint files into the artifact store.")] = True,
    store: StoreUrl = None,
    as_json: AsJson = False,
) -> None:
    """Import runs (config, metric series, summaries, predictions, checkpoints) into the store."""
    report = import_path(path, store, project=project, checkpoints=checkpoints)
    if as_json:
        print_json(report.to_dict())
        return
    console = Console()
    console.print(f"{path}: {report.kind} source; imported {len(report.imported)} run(s) with "
                  f"{report.points:,} metric points; skipped {len(report.skipped)} already in the store.")
    if report.imported:
        console.print("new run ids: " + ", ".join(report.imported))
    for run in report.runs:
        console.print(f"  {run['run']} {run['name']} ({run['status']}): {run['points']:,} points, {run['summary']} "
                      f"summary values, {run['config_keys']} config keys, {run['checkpoints']} checkpoints, "
                      f"{run['predictions']} prediction files", soft_wrap=True)
    warn = Console(stderr=True)
    for line in report.warnings:
        warn.print(f"warning: {line}", soft_wrap=True)
