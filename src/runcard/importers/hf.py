"""Read Hugging Face Trainer output folders (``Trainer(args=TrainingArguments(output_dir=...))``).

A Trainer output folder holds ``trainer_state.json`` at its top (``trainer.save_state()``) or in its
``checkpoint-<step>/`` folders. What is read, and where it lands:

- ``log_history`` of the most advanced ``trainer_state.json`` (highest ``global_step``): every numeric
  entry as a series at its ``step`` (``loss``, ``learning_rate``, ``eval_loss``, ``epoch``, ...), up to and
  including the training summary (the entry holding ``train_runtime``). Entries logged after it are
  evaluations made once training ended (``trainer.evaluate()`` on the reloaded best model): they are the
  run's final values, not points of the training curves.
- ``all_results.json``, ``train_results.json``, ``eval_results.json``, ``test_results.json``
  (``trainer.save_metrics(split, metrics)``): the run's final values, under the Trainer's names
  (``eval_loss``, ``train_runtime``), in the run's summary; they win over the entries above. Where a key is
  also a series and its final value differs from the series' last point, the store keeps it as
  ``final/<key>`` beside the series (`runcard.importers.records.write_runs`).
- the trainer's ``global_step``, ``epoch``, ``best_metric``, ``best_model_checkpoint``,
  ``best_global_step`` and similar under config ``trainer``; ``best_model_checkpoint`` and
  ``best_global_step`` also as tags; the model's ``config.json`` under config ``model``.
- every ``checkpoint-<step>/`` folder as a checkpoint artifact with meta ``step``; the best one (the folder
  ``best_model_checkpoint`` names) also with ``best: true``.

``training_args.bin`` is a pickle and is never loaded.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from runcard.errors import InputError
from runcard.importers.others import flatten
from runcard.importers.records import ImportedRun, is_predictions_file, prediction_split, to_number
from runcard.importers.safe_files import load_json

#: ``trainer.save_metrics(split, ...)`` files, read in this order (a later file wins on a shared key).
RESULTS_FILES = ("all_results.json", "train_results.json", "eval_results.json", "test_results.json")
#: Facts of ``trainer_state.json`` kept under config ``trainer``.
STATE_KEYS = ("global_step", "epoch", "max_steps", "num_train_epochs", "train_batch_size", "best_metric",
              "best_model_checkpoint", "best_global_step", "logging_steps", "eval_steps", "save_steps")
#: Facts kept as tags too (tags are text).
TAG_KEYS = ("best_model_checkpoint", "best_global_step")


def _state(path: Path) -> dict[str, Any]:
    """A ``trainer_state.json``: a JSON object whose ``log_history`` is a list of objects, as the Trainer writes."""
    state = load_json(path)
    if not isinstance(state, dict):
        raise InputError(f"{path}: expected a JSON object (the Trainer's state), found a {type(state).__name__}; "
                         "restore the file the Trainer wrote.")
    history = state.get("log_history", [])
    if not isinstance(history, list):
        raise InputError(f"{path}: log_history is a {type(history).__name__}, not a list of log entries; restore "
                         "the file the Trainer wrote.")
    for i, entry in enumerate(history):
        if not isinstance(entry, dict):
            raise InputError(f"{path}: log_history entry {i} is a {type(entry).__name__}, not an object of logged "
                             "values; restore the file the Trainer wrote.")
        step = entry.get("step", i)
        number = to_number(step)
        if number is None or not math.isfinite(number) or number != int(number):
            raise InputError(f"{path}: log_history entry {i}: step {step!r} is not a whole number; restore the file "
                             "the Trainer wrote.")
    return state


def trainer_states(path: Path) -> list[Path]:
    """``trainer_state.json`` files at ``path`` and in its ``checkpoint-*`` folders."""
    found = [path / "trainer_state.json"] if (path / "trainer_state.json").is_file() else []
    found += sorted(p for p in path.glob("checkpoint-*/trainer_state.json") if not p.parent.is_symlink())
    return found


def trainer_run_dirs(path: Path) -> list[Path]:
    """``path`` when it is a Trainer output folder, else its sub-folders that are (one run each)."""
    if trainer_states(path):
        return [path]
    return sorted(d for d in path.iterdir() if d.is_dir() and trainer_states(d))


def _step_of(folder: Path) -> int | None:
    tail = folder.name.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else None


def read_hf_trainer(path: Path, states: list[Path], project: str | None, with_checkpoints: bool) -> ImportedRun:
    loaded = {p: _state(p) for p in states}
    state_file = max(states, key=lambda p: (to_number(loaded[p].get("global_step")) or 0, p == path / "trainer_state.json"))
    state = loaded[state_file]
    config: dict[str, Any] = {"trainer": {k: state[k] for k in STATE_KEYS if k in state}}
    model_config = next((p for p in (path / "config.json", *sorted(path.glob("checkpoint-*/config.json")))
                         if p.is_file()), None)
    if model_config is not None:
        config["model"] = load_json(model_config)
    record = ImportedRun(source=f"hf:{path.resolve()}", project=project or path.resolve().parent.name,
                         name=path.name, config=config,
                         tags={k: str(state[k]) for k in TAG_KEYS if state.get(k) is not None})
    _read_log_history(state.get("log_history", []), record)
    for name in RESULTS_FILES:
        if (path / name).is_file():
            record.summary.update(_results(path / name))
    if with_checkpoints:
        record.checkpoints = sorted(path.glob("checkpoint-*"), key=lambda p: _step_of(p) or -1)
        best = state.get("best_model_checkpoint")
        for folder in record.checkpoints:
            meta: dict[str, Any] = {} if _step_of(folder) is None else {"step": _step_of(folder)}
            if best and Path(str(best)).name == folder.name:
                meta["best"] = True
            record.checkpoint_meta[folder] = meta
    record.predictions = [(prediction_split(p), p) for p in sorted(path.iterdir()) if is_predictions_file(p)]
    return record  # write_runs copies only what lies in the tree without a link on the way (records.contained)


def _read_log_history(history: list[Any], record: ImportedRun) -> None:
    """Training-time entries as series; entries after the training summary (``train_runtime``) as final values."""
    ended = False
    for i, entry in enumerate(history):
        if ended:
            record.summary.update({k: v for k, v in ((k, to_number(v)) for k, v in entry.items() if k != "step")
                                   if v is not None})
            continue
        step = int(entry.get("step", i))  # checked by _state
        for key, value in entry.items():
            if key != "step":
                record.add_point(key, step, value)
        ended = "train_runtime" in entry


def _results(path: Path) -> dict[str, float]:
    data = load_json(path)
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object of metrics (trainer.save_metrics), got {type(data).__name__}.")
    return {k: v for k, v in ((k, to_number(v)) for k, v in flatten(data).items()) if v is not None}

