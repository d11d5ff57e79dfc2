"""Read generic experiment trees (W&B run folders: `runcard.importers.wandb`; Hugging Face Trainer
folders: `runcard.importers.hf`).

Generic tree: a folder (or each sub-folder) holding a metrics file, ``metrics.json``,
``metrics.jsonl`` or ``metrics.csv`` (also ``results.json``), and optionally a config,
``config.json``, ``config.yaml``/``.yml``, ``params.json``, ``hparams.yaml`` or ``args.json``. A
metrics JSON object of numbers is a summary; an object of lists is one series per key (step =
position); a list of objects (or JSONL, or CSV rows) is one record per step, with ``step`` (else
``epoch``, else the position) as the step. Files named ``*pred*.csv|parquet|jsonl`` are
predictions; ``*.pt``, ``*.pth``, ``*.ckpt``, ``*.safetensors`` are checkpoints.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

from runcard.errors import InputError
from runcard.importers.records import (
    CHECKPOINT_SUFFIXES,
    ImportedRun,
    is_predictions_file,
    parse_scalar,
    prediction_split,
    to_number,
)
from runcard.importers.safe_files import load_json, load_json_lines, load_yaml, read_text

METRIC_FILES = ("metrics.json", "metrics.jsonl", "metrics.csv", "results.json")
CONFIG_FILES = ("config.json", "config.yaml", "config.yml", "params.json", "hparams.yaml", "args.json")


def flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts as ``a/b`` keys."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, f"{name}/"))
        else:
            out[name] = value
    return out


# -- generic experiment trees -----------------------------------------------------------------------


def generic_run_dirs(path: Path) -> list[Path]:
    """``path`` if it holds a metrics file, else its sub-folders that do."""
    if any((path / name).is_file() for name in METRIC_FILES):
        return [path]
    return sorted(d for d in path.iterdir() if d.is_dir() and any((d / n).is_file() for n in METRIC_FILES))


def read_generic(run_dirs: list[Path], project: str | None, default_project: str,
                 with_checkpoints: bool) -> list[ImportedRun]:
    records = []
    for run_dir in run_dirs:
        record = ImportedRun(source=f"dir:{run_dir.resolve()}", project=project or default_project, name=run_dir.name)
        config_file = next((run_dir / n for n in CONFIG_FILES if (run_dir / n).is_file()), None)
        if config_file is not None:
            loaded = load_json(config_file) if config_file.suffix == ".json" else load_yaml(config_file)
            record.config = loaded if isinstance(loaded, dict) else {"value": loaded}
        for name in METRIC_FILES:
            if (run_dir / name).is_file():
                _read_metrics_file(run_dir / name, record)
        files = sorted(run_dir.iterdir())
        record.notes += [f"skipped {p}: a symbolic link, which runcard does not follow" for p in files
                         if p.is_symlink() and (is_predictions_file(p) or p.suffix in CHECKPOINT_SUFFIXES)]
        files = [p for p in files if not p.is_symlink()]
        record.predictions = [(prediction_split(p), p) for p in files if is_predictions_file(p)]
        if with_checkpoints:
            record.checkpoints = [p for p in files if p.is_file() and p.suffix in CHECKPOINT_SUFFIXES]
        records.append(record)
    return records


def _read_metrics_file(path: Path, record: ImportedRun) -> None:
    if path.suffix == ".csv":
        try:
            rows = [{k: parse_scalar(v) for k, v in row.items() if v not in ("", None) and k is not None}
                    for row in csv.DictReader(io.StringIO(read_text(path), newline=""))]
        except csv.Error as exc:
            raise InputError(f"{path}: not a readable CSV file ({exc}).") from None
        _records_as_series(rows, record)
        return
    if path.suffix == ".jsonl":
        _records_as_series(load_json_lines(path), record)
        return
    data = load_json(path)
    if isinstance(data, list):
        _records_as_series(data, record)
    elif isinstance(data, dict):
        flat = flatten(data)
        for key, value in flat.items():
            if isinstance(value, list):
                for step, item in enumerate(value):
                    record.add_point(key, step, item)
            elif to_number(value) is not None:
                record.summary[key] = to_number(value)  # type: ignore[assignment]
    else:
        raise InputError(f"{path}: expected a JSON object or a list of objects, got {type(data).__name__}.")


def _records_as_series(rows: list[Any], record: ImportedRun) -> None:
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            continue
        flat = flatten(row)
        number = to_number(flat.get("step", flat.get("epoch", i)))
        step = int(number) if number is not None and math.isfinite(number) else i
        for key, value in flat.items():
            if key != "step":
                record.add_point(key, step, value)
