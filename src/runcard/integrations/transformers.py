"""Record a Hugging Face ``Trainer`` run into runcard: `RuncardCallback`.

    callback = RuncardCallback(project="sentiment", checkpoints="copy")
    trainer = Trainer(model, args, train_dataset=train, eval_dataset=val, callbacks=[callback],
                      compute_metrics=callback.compute_metrics())
    trainer.train()
    callback.log_predictions(trainer, test, split="test")
    # runcard card <callback.run_id>

It records the config (``TrainingArguments.to_dict()``, the model's class, size and config), every logged value
at ``state.global_step``, the stages ``train``, ``evaluate`` and ``predict``, each saved checkpoint, and each
evaluation's predictions tied to the checkpoint whose weights made them; values logged after training are the
run's final values. docs/tracking.md ("Hugging Face Trainer") says where each lands.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from transformers import TrainerCallback
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

from runcard.errors import InputError
from runcard.integrations.after_training import add_checkpoint, add_predictions
from runcard.table import table_from_arrays
from runcard.tracking import ActiveRun, jsonable, start_run

log = logging.getLogger(__name__)

#: How saved checkpoints are recorded. A by-reference record is not offered: the store keeps only files it owns
#: (it hashes, verifies and deletes them), so a folder outside it could change or vanish under the run.
CHECKPOINT_MODES = ("copy", "none")


def _numbers(values: Mapping[str, Any] | None) -> dict[str, float]:
    """The numeric entries of a Trainer log or metrics dict (strings and booleans are not series)."""
    return {k: float(v) for k, v in (values or {}).items()
            if isinstance(v, (int, float, np.number)) and not isinstance(v, bool)}


def json_config(values: Mapping[str, Any], where: str) -> tuple[dict[str, Any], dict[str, str]]:
    """``values`` with every JSON-representable entry, and the keys left out (key -> type name)."""
    kept, dropped = {}, {}
    for key, value in values.items():
        try:
            kept[key] = jsonable(value, f"{where}.{key}")
        except InputError:
            dropped[key] = type(value).__name__
    return kept, dropped


class RuncardCallback(TrainerCallback):
    """Record a ``transformers.Trainer`` run: series, stages, checkpoints and predictions.

    ``project``/``name``/``config``/``tags``/``store``/``evaluation``: as `runcard.start_run` (``name`` defaults
    to ``args.run_name``; ``config`` entries are added to the training arguments). ``run``: an `ActiveRun` of
    yours to record into instead; it is not finished at the end of training. ``classes``: the class names, in
    label-id order (default: the model's ``config.id2label``). ``checkpoints``: ``"copy"`` (each saved
    checkpoint folder into the artifact store) or ``"none"``. ``split``: the split name of the evaluations'
    predictions (default ``"val"``).
    """

    def __init__(self, project: str | None = None, name: str | None = None, *, run: ActiveRun | None = None,
                 config: Mapping[str, Any] | None = None, tags: Mapping[str, Any] | None = None, store: Any = None,
                 evaluation: Any = None, classes: Sequence[str] | None = None, checkpoints: str = "copy",
                 split: str = "val") -> None:
        if checkpoints not in CHECKPOINT_MODES:
            hint = (" Recording a checkpoint by reference is not supported: the store only keeps files it holds."
                    if checkpoints == "reference" else "")
            raise InputError(f"RuncardCallback(checkpoints={checkpoints!r}): expected one of "
                             f"{CHECKPOINT_MODES}.{hint}")
        if run is None and not (isinstance(project, str) and project):
            raise InputError("RuncardCallback: pass project='...' (or run=an ActiveRun from runcard.start_run).")
        self.run, self._own = run, run is None
        self._start = {"project": project, "name": name, "config": dict(config or {}), "tags": dict(tags or {}),
                       "store": store, "evaluation": evaluation}
        self.classes = list(classes) if classes is not None else None
        self.checkpoints, self.split = checkpoints, split
        self._phase = "before"  # before -> training -> after
        self._step, self._t0, self._started = 0, 0.0, 0.0
        self._saved: dict[int, str] = {}  # step -> sha256 of the checkpoint logged at that step
        self._weights: str | None = None  # sha256 of the checkpoint matching the weights in memory, if any
        self._pending: list[tuple[Any, Any]] = []  # (labels, logits) of evaluations awaiting their step's checkpoint
        self._latest: dict[str, float] = {}  # each series' last logged value
        self._predicting = False

    @property
    def run_id(self) -> str | None:
        return None if self.run is None else self.run.id

    # -- the run ----------------------------------------------------------------------------------

    def _ensure_run(self, args: Any, model: Any) -> ActiveRun:
        if self.run is None:
            config, dropped = json_config(args.to_dict(), "TrainingArguments")
            if model is not None:
                model_config, more = json_config(json.loads(model.config.to_json_string()), "model.config")
                dropped.update({f"model.config.{k}": v for k, v in more.items()})
                config["model"] = {"class": type(model).__name__, "num_parameters": int(model.num_parameters()),
                                   "config": model_config}
            if dropped:
                log.warning("RuncardCallback: left out of the config (not JSON values): %s",
                            ", ".join(sorted(dropped)))
                config["runcard_dropped"] = dropped
            start = self._start
            self.run = start_run(start["project"], start["name"] or args.run_name,
                                 config={**config, **start["config"]}, tags=start["tags"], store=start["store"],
                                 evaluation=start["evaluation"])
        if self.classes is None and model is not None and getattr(model.config, "id2label", None):
            self.classes = [str(model.config.id2label[i]) for i in sorted(model.config.id2label)]
        return self.run

    @property
    def _open(self) -> bool:
        """Whether the run takes new records through `ActiveRun` (the callback's own run ends with training)."""
        return self.run is not None and not (self._own and self._phase == "after")

    def _add_stage(self, name: str, seconds: float, started_at: float) -> None:
        assert self.run is not None
        if self._open:
            self.run.flush()
        self.run.store.add_stage(self.run.id, name, seconds, started_at)

    # -- Trainer events ---------------------------------------------------------------------------

    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        if not state.is_world_process_zero:
            return
        if self._phase == "after":
            raise InputError(f"RuncardCallback: this callback recorded run {self.run_id} already; use a new "
                             "RuncardCallback for each trainer.train().")
        self._ensure_run(args, model)
        self._phase, self._step = "training", state.global_step
        self._t0, self._started = time.perf_counter(), time.time()

    def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if state.is_world_process_zero:
            self._flush_pending()  # an evaluation with no checkpoint saved at its step

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._step, self._weights = state.global_step, None  # the optimiser step moved the weights

    def on_log(self, args: Any, state: Any, control: Any, logs: Mapping[str, Any] | None = None,
               model: Any = None, **kwargs: Any) -> None:
        if not state.is_world_process_zero or not logs:
            return
        self._ensure_run(args, model)
        self._record(_numbers(logs), state.global_step)

    def _record(self, values: Mapping[str, float], step: int) -> None:
        """Series points; after training, the final values: under their name, or ``final/<name>`` beside a
        series whose last point they differ from."""
        assert self.run is not None
        if self._phase != "after":
            self.run.log_metrics(values, step=step)
            self._latest.update(values)
            return
        out = {k if k not in self._latest else f"final/{k}": v for k, v in values.items() if self._latest.get(k) != v}
        if out:
            self.run.store.set_summary(self.run.id, out)

    def on_evaluate(self, args: Any, state: Any, control: Any, metrics: Mapping[str, Any] | None = None,
                    model: Any = None, **kwargs: Any) -> None:
        if not state.is_world_process_zero:
            return
        self._ensure_run(args, model)
        self._stage_from("evaluate", metrics)
        if self._phase != "training":
            self._flush_pending(self._weights)

    def on_predict(self, args: Any, state: Any, control: Any, metrics: Mapping[str, Any] | None = None,
                   model: Any = None, **kwargs: Any) -> None:
        if not state.is_world_process_zero:
            return
        self._ensure_run(args, model)
        self._stage_from("predict", metrics)
        self._record(_numbers(metrics), state.global_step)  # the Trainer does not log predict's metrics

    def _stage_from(self, name: str, metrics: Mapping[str, Any] | None) -> None:
        runtime = next((v for k, v in _numbers(metrics).items() if k.endswith("_runtime") and k != "train_runtime"),
                       None)
        if runtime is not None:
            self._add_stage(name, runtime, time.time() - runtime)

    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if not state.is_world_process_zero or self.run is None:
            return
        step = state.global_step
        if self.checkpoints == "copy":
            folder = Path(args.output_dir) / f"{PREFIX_CHECKPOINT_DIR}-{step}"
            self._saved[step] = self._weights = self._log_checkpoint(folder, step)
        self._flush_pending(self._saved.get(step))

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if not state.is_world_process_zero or self.run is None:
            return
        self._flush_pending(self._saved.get(self._step))
        self._add_stage("train", time.perf_counter() - self._t0, self._started)
        if args.load_best_model_at_end and state.best_model_checkpoint:
            self._weights = self._checkpoint_of(Path(state.best_model_checkpoint), state.best_global_step)
        self._phase = "after"
        if self._own:
            self.run.finish("finished")

    # -- checkpoints and predictions --------------------------------------------------------------

    def _checkpoint_of(self, folder: Path, step: int | None) -> str | None:
        """The sha256 of the checkpoint in ``folder``: logged at its step, else logged now (mode ``copy``)."""
        if step is None:
            tail = folder.name.rsplit("-", 1)[-1]
            step = int(tail) if tail.isdigit() else None
        if step is not None and step in self._saved:
            return self._saved[step]
        return self._log_checkpoint(folder, step) if self.checkpoints == "copy" else None

    def _log_checkpoint(self, folder: Path, step: int | None) -> str:
        assert self.run is not None
        if self._open:
            sha = self.run.log_checkpoint(folder, step=step)
        else:  # the run ended with training: record on the stored run
            sha = add_checkpoint(self.run.store, self.run.id, folder, step)
        if step is not None:
            self._saved[int(step)] = sha
        return sha

    def _flush_pending(self, checkpoint: str | None = None) -> None:
        if self.run is None:
            return
        pending, self._pending = self._pending, []
        for labels, logits in pending:
            self._log_table(self.split, labels, logits, checkpoint)

    def _log_table(self, split: str, labels: Any, logits: Any, checkpoint: str | None, **extra: Any) -> str:
        assert self.run is not None
        if isinstance(logits, tuple):
            logits = logits[0]  # the model's extra outputs (hidden states, attentions) follow the logits
        if labels is None:
            raise InputError(f"RuncardCallback: the {split} predictions have no labels (label_ids is None); "
                             "runcard evaluates predictions against their labels.")
        if self._open:
            return self.run.log_predictions(split, np.asarray(labels), logits=np.asarray(logits),
                                            classes=self.classes, checkpoint=checkpoint, **extra)
        table = table_from_arrays(np.asarray(labels), logits=np.asarray(logits), classes=self.classes,
                                  source=f"run {self.run.id} {split}", **extra)
        return add_predictions(self.run.store, self.run.id, split, table, checkpoint, self.run.settings)

    def compute_metrics(self, wrapped: Callable[[Any], Mapping[str, float]] | None = None
                        ) -> Callable[[Any], dict[str, float]]:
        """A ``compute_metrics`` for the Trainer that records each evaluation's predictions (``EvalPrediction``:
        logits and label ids) as the `split` predictions, tied to the checkpoint saved at that step (or, after
        training, the weights in memory: the best checkpoint with ``load_best_model_at_end``), and returns
        ``wrapped(eval_prediction)`` (your own metrics), or no extra metrics."""
        def hook(prediction: Any) -> dict[str, float]:
            if not self._predicting:
                self._pending.append((prediction.label_ids, prediction.predictions))
            return dict(wrapped(prediction)) if wrapped is not None else {}

        return hook

    def log_predictions(self, trainer: Any, dataset: Any, split: str = "test", *, ids: Any = None,
                        texts: Any = None) -> str:
        """Run ``trainer.predict(dataset)`` and record the predictions as ``split``, tied to the checkpoint whose
        weights made them (with ``load_best_model_at_end``, the best one, logged now if it was not yet); return
        their sha256. ``ids``/``texts``: one per row, shown on the card."""
        self._predicting = True
        try:
            output = trainer.predict(dataset, metric_key_prefix=split)
        finally:
            self._predicting = False
        return self._log_table(split, output.label_ids, output.predictions, self._weights, ids=ids, texts=texts)
