"""Read W&B run folders, Hugging Face Trainer output folders, and generic experiment trees.

W&B (``wandb/run-*/`` or ``wandb/offline-run-*/``): ``files/config.yaml`` (each key's ``value``;
``_wandb`` is dropped), ``files/wandb-summary.json`` (final values; a run without it did not
finish), ``files/wandb-history.jsonl`` (one line per logged step, ``_step`` the step) where
present, ``files/wandb-metadata.json`` (start time).

Hugging Face Trainer (a folder with ``trainer_state.json``, at the top or in ``checkpoint-*/``):
the ``log_history`` of the most advanced ``trainer_state.json`` as series, ``config.json`` as the
model config, ``checkpoint-*/`` folders as checkpoints. ``training_args.bin`` is a pickle and is
never loaded.

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
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from runcard.errors import InputError
from runcard.importers.records import (
    CHECKPOINT_SUFFIXES,
    ImportedRun,
    is_predictions_file,
    parse_scalar,
    prediction_split,
    to_number,
)

METRIC_FILES = ("metrics.json", "metrics.jsonl", "metrics.csv", "results.json")
CONFIG_FILES = ("config.json", "config.yaml", "config.yml", "params.json", "hparams.yaml", "args.json")


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not valid JSON ({exc}).") from None


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


# -- W&B --------------------------------------------------------------------------------------------


def wandb_run_dirs(path: Path) -> list[Path]:
    """W&B run folders at ``path``: the folder itself, its children, or ``path/wandb``'s children."""
    def is_run(d: Path) -> bool:
        return d.is_dir() and (d.name.startswith("run-") or d.name.startswith("offline-run-")) and (d / "files").is_dir()

    if is_run(path):
        return [path]
    for base in (path, path / "wandb"):
        if base.is_dir():
            runs = sorted((d for d in base.iterdir() if is_run(d)), key=lambda d: d.name.removeprefix("offline-"))
            if runs:
                return runs
    return []


def read_wandb(run_dirs: list[Path], project: str | None, default_project: str) -> list[ImportedRun]:
    records = []
    for run_dir in run_dirs:
        files = run_dir / "files"
        run_id = run_dir.name.rsplit("-", 1)[-1]
        config: dict[str, Any] = {}
        if (files / "config.yaml").is_file():
            raw = yaml.safe_load((files / "config.yaml").read_text(encoding="utf-8")) or {}
            for key, value in raw.items():
                if key == "_wandb" or key.startswith("_"):
                    continue
                config[key] = value.get("value") if isinstance(value, dict) and "value" in value else value
        meta = _json(files / "wandb-metadata.json") if (files / "wandb-metadata.json").is_file() else {}
        summary_file = files / "wandb-summary.json"
        record = ImportedRun(
            source=f"wandb:{run_id}", project=project or str(meta.get("project") or default_project),
            name=run_id, config=config, created_at=_iso(meta.get("startedAt")),
            status="finished" if summary_file.is_file() else "failed",
            error=None if summary_file.is_file() else "W&B run folder has no wandb-summary.json: the run did not finish",
        )
        if summary_file.is_file():
            summary = flatten(_json(summary_file))
            record.summary = {k: v for k, v in ((k, to_number(v)) for k, v in summary.items())
                              if v is not None and not k.startswith("_")}
        history = files / "wandb-history.jsonl"
        if history.is_file():
            for i, line in enumerate(history.read_text(encoding="utf-8").splitlines()):
                if not line.strip():
                    continue
                row = flatten(json.loads(line))
                step = int(row.get("_step", i))
                for key, value in row.items():
                    if not key.startswith("_"):
                        record.add_point(key, step, value, to_number(row.get("_timestamp")))
        records.append(record)
    return records


def _iso(text: Any) -> float | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


# -- Hugging Face Trainer ---------------------------------------------------------------------------


def trainer_states(path: Path) -> list[Path]:
    """``trainer_state.json`` files at ``path`` and in its ``checkpoint-*`` folders."""
    found = [path / "trainer_state.json"] if (path / "trainer_state.json").is_file() else []
    found += sorted(path.glob("checkpoint-*/trainer_state.json"))
    return found


def read_hf_trainer(path: Path, states: list[Path], project: str | None, with_checkpoints: bool) -> ImportedRun:
    state_file = max(states, key=lambda p: (_json(p).get("global_step", 0), p == path / "trainer_state.json"))
    state = _json(state_file)
    config: dict[str, Any] = {"trainer": {k: state[k] for k in (
        "global_step", "epoch", "max_steps", "num_train_epochs", "train_batch_size", "best_metric",
        "best_model_checkpoint", "logging_steps", "eval_steps", "save_steps") if k in state}}
    model_config = next((p for p in (path / "config.json", *sorted(path.glob("checkpoint-*/config.json"))) if p.is_file()), None)
    if model_config is not None:
        config["model"] = _json(model_config)
    record = ImportedRun(source=f"hf:{path.resolve()}", project=project or path.resolve().parent.name,
                         name=path.name, config=config)
    for i, entry in enumerate(state.get("log_history", [])):
        step = int(entry.get("step", i))
        for key, value in entry.items():
            if key != "step":
                record.add_point(key, step, value)
    if with_checkpoints:
        record.checkpoints = sorted(path.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[-1])
                                    if p.name.split("-")[-1].isdigit() else -1)
    record.predictions = [(prediction_split(p), p) for p in sorted(path.iterdir()) if is_predictions_file(p)]
    return record


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
            loaded = (_json(config_file) if config_file.suffix == ".json"
                      else yaml.safe_load(config_file.read_text(encoding="utf-8")))
            record.config = loaded if isinstance(loaded, dict) else {"value": loaded}
        for name in METRIC_FILES:
            if (run_dir / name).is_file():
                _read_metrics_file(run_dir / name, record)
        record.predictions = [(prediction_split(p), p) for p in sorted(run_dir.iterdir()) if is_predictions_file(p)]
        if with_checkpoints:
            record.checkpoints = sorted(p for p in run_dir.iterdir() if p.is_file() and p.suffix in CHECKPOINT_SUFFIXES)
        records.append(record)
    return records


def _read_metrics_file(path: Path, record: ImportedRun) -> None:
    if path.suffix == ".csv":
        with open(path, newline="", encoding="utf-8") as handle:
            _records_as_series([{k: parse_scalar(v) for k, v in row.items() if v != ""} for row in csv.DictReader(handle)], record)
        return
    if path.suffix == ".jsonl":
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        _records_as_series(rows, record)
        return
    data = _json(path)
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
        step_value = flat.get("step", flat.get("epoch", i))
        step = int(step_value) if to_number(step_value) is not None else i
        for key, value in flat.items():
            if key != "step":
                record.add_point(key, step, value)
