"""Record a run from any training code: `start_run` and the active run it returns.

    with runcard.start_run(project="p", name="run-2", config=cfg) as run:
        with run.stage("train"):
            run.log_metric("train/loss", 0.47, step=6)
        run.log_checkpoint("model.pt")

Metric points are batched into the store (every `batch_size` points or `flush_interval`
seconds, and at every stage end, artifact and finish) and journalled first (`runcard.journal`),
so a killed process loses none of them. Status, stages and artifacts are written at once.
"""

from __future__ import annotations

import atexit
import contextlib
import math
import os
import threading
import time
import traceback
import uuid
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from runcard.errors import InputError, RunCardError
from runcard.eval_settings import EvalSettings, settings_from_config, settings_from_mapping
from runcard.evaluate import Evaluation
from runcard.journal import Journal, OwnerLock, journal_path, lock_path
from runcard.liveness import hostname, process_identity
from runcard.store import Artifact, MetricPoint, NewRun, Store, open_store
from runcard.store.evaluations import evaluate_and_keep
from runcard.store.predictions import store_predictions
from runcard.store.runs import prediction_key, resolve_settings
from runcard.table import table_from_arrays

#: Defaults of the batching and liveness machinery.
BATCH_SIZE = 10_000
FLUSH_INTERVAL = 2.0
HEARTBEAT_INTERVAL = 15.0


def new_run_id(store: Store) -> str:
    """A short id (8 hex characters) not yet used in the store."""
    while True:
        candidate = uuid.uuid4().hex[:8]
        try:
            store.get_run(candidate)
        except InputError:
            return candidate


def jsonable(value: Any, where: str = "config") -> Any:
    """``value`` as JSON-ready Python values; anything that cannot be stored faithfully is an error."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if not math.isfinite(number):
            raise InputError(f"{where}: {number} is not a JSON number; store it as a string if you mean it.")
        return number
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist(), where)
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise InputError(f"{where}: key {key!r} is not a string; config keys must be strings.")
            out[key] = jsonable(item, f"{where}.{key}")
        return out
    if isinstance(value, (list, tuple)):
        return [jsonable(item, f"{where}[{i}]") for i, item in enumerate(value)]
    raise InputError(f"{where}: a {type(value).__name__} cannot be stored in a config; use numbers, strings, "
                     "booleans, lists and dicts (convert it with str() if that is what you mean).")


def _metric_value(key: str, value: Any) -> float:
    if hasattr(value, "item") and callable(value.item):
        value = value.item()  # numpy scalars, 0-d arrays, torch tensors
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"log_metric({key!r}): value {value!r} is not a number.")
    return float(value)


def has_gradient_path(term: Any) -> bool:
    """True for a tensor that requires grad (it moves the parameters); False for numbers, numpy
    values and detached tensors (they only shift the loss value)."""
    return bool(getattr(term, "requires_grad", False))


def gradient_geometry(terms: Mapping[str, Any], weights: Mapping[str, float], params: Any) -> dict[str, float]:
    """Gradient norm of each weighted term with respect to ``params`` (0 for a term without a gradient
    path), and the cosine between every two terms' gradients (NaN when one is zero)."""
    if params is None:
        raise InputError("log_loss_terms(grad_norms=True) needs params=model.parameters() (the tensors whose "
                         "gradients are measured).")
    import torch

    tensors = [p for p in params if getattr(p, "requires_grad", False)]
    if not tensors:
        raise InputError("log_loss_terms: params holds no tensor that requires grad.")
    flat: dict[str, Any] = {}
    for name, term in terms.items():
        if not has_gradient_path(term):
            flat[name] = None
            continue
        grads = torch.autograd.grad(float(weights.get(name, 1.0)) * term, tensors, retain_graph=True,
                                    allow_unused=True)
        flat[name] = torch.cat([(g if g is not None else torch.zeros_like(p)).reshape(-1).double()
                                for g, p in zip(grads, tensors)])
    out: dict[str, float] = {}
    norms = {name: 0.0 if g is None else float(g.norm()) for name, g in flat.items()}
    for name, norm in norms.items():
        out[f"loss_terms/{name}/grad_norm"] = norm
    names = list(flat)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            ga, gb = flat[a], flat[b]
            cosine = float(torch.dot(ga, gb) / (norms[a] * norms[b])) if ga is not None and gb is not None \
                and norms[a] > 0 and norms[b] > 0 else float("nan")
            out[f"loss_grad_cosine/{a}/{b}"] = cosine
    return out


def _check_key(key: str) -> None:
    if not isinstance(key, str) or not key or len(key) > 250 or "\n" in key or "\t" in key:
        raise InputError(f"metric key {key!r}: use a non-empty string of at most 250 characters, "
                         "without tabs or newlines.")


class ActiveRun:
    """A run being recorded. Its ``id`` exists from the start; leave the ``with`` block to end it."""

    def __init__(self, store: Store, new: NewRun, *, batch_size: int, flush_interval: float,
                 heartbeat_interval: float) -> None:
        self.store = store
        self.id = new.id
        self.project = new.project
        self.name = new.name
        self.config = new.config
        self.settings = resolve_settings(new.eval_settings, new.config)
        self.evaluations: dict[str, Evaluation] = {}
        self._batch_size = batch_size
        self._flush_interval = flush_interval
        self._heartbeat_interval = heartbeat_interval
        self._buffer: list[Any] = []
        self._lock = threading.RLock()
        self._seq = 0
        self._last_step: dict[str, int] = {}
        self._journal = Journal(journal_path(store.journal_dir, self.id))
        self._owner = OwnerLock(lock_path(store.journal_dir, self.id))  # held until the run ends: it is alive
        self._write_error: BaseException | None = None
        self._done = threading.Event()
        self._closed = False
        self._monitor = threading.Thread(target=self._watch, name=f"runcard-{self.id}", daemon=True)
        self._monitor.start()
        atexit.register(self._at_exit)

    # -- lifecycle --------------------------------------------------------------------------------

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.finish("finished")
        else:
            self.finish("failed", error="".join(traceback.format_exception(exc_type, exc, tb)))

    def finish(self, status: str = "finished", *, error: str | None = None) -> None:
        """Flush everything and mark the run ``finished`` (or ``failed``); later calls do nothing."""
        if self._closed:
            return
        if status not in ("finished", "failed"):
            raise InputError(f"finish(status={status!r}): expected 'finished' or 'failed'.")
        self._done.set()
        self._monitor.join(timeout=10)
        try:
            self.flush()
        except Exception as exc:  # noqa: BLE001 -- the journal keeps every acknowledged point: say where
            self._fail_keeping_journal(exc)
            return
        self.store.set_status(self.id, status, error=error, ended_at=time.time())
        self._journal.close(remove=True)  # only now: the database holds every point the journal held
        self._owner.release()
        self._closed = True
        atexit.unregister(self._at_exit)

    def _fail_keeping_journal(self, exc: BaseException) -> None:
        """The last write failed: keep the journal (the only other copy of the points), mark the run failed if
        the store still takes a write, and say where the points are and how they come back."""
        message = (f"metric points could not be written to the store ({type(exc).__name__}: {exc}); every point "
                   f"log_metric accepted is in the journal {self._journal.path}, which runcard replays into the store "
                   "the next time it reads this run on this host (e.g. `runcard runs`)")
        self._journal.close(remove=False)
        self._owner.release()
        self._closed = True
        atexit.unregister(self._at_exit)
        with contextlib.suppress(Exception):
            self.store.set_status(self.id, "failed", error=message, ended_at=time.time())
        raise RunCardError(f"run {self.id}: {message}.") from exc

    def _at_exit(self) -> None:
        # A script that never left a `with` block or called finish(): it ended normally.
        with contextlib.suppress(Exception):
            self.finish("finished")

    def _watch(self) -> None:
        last_beat = time.monotonic()
        while not self._done.wait(min(self._flush_interval, self._heartbeat_interval)):
            try:  # a failed write keeps its points in the buffer (and the journal): the next tick retries
                self.flush()
                if time.monotonic() - last_beat >= self._heartbeat_interval:
                    self.store.heartbeat(self.id, time.time())
                    last_beat = time.monotonic()
            except Exception as exc:  # noqa: BLE001 -- finish() reports it
                self._write_error = exc

    def _check_open(self) -> None:
        if self._closed:
            raise InputError(f"run {self.id} has ended; start a new run to log more.")

    # -- metrics ----------------------------------------------------------------------------------

    def log_metric(self, key: str, value: Any, step: int | None = None) -> None:
        """Log one value of the series ``key`` at ``step`` (default: the key's previous step + 1)."""
        self.log_metrics({key: value}, step=step)

    def log_metrics(self, values: Mapping[str, Any], step: int | None = None) -> None:
        """Log several series at one step, in one journal write."""
        if self._closed:
            self._check_open()
        if step is not None and (isinstance(step, bool) or not isinstance(step, (int, np.integer)) or step < 0):
            raise InputError(f"step {step!r}: expected a whole number >= 0.")
        now = time.time()
        with self._lock:
            points = []
            for key, raw in values.items():
                if key not in self._last_step:
                    _check_key(key)
                value = raw if type(raw) is float else _metric_value(key, raw)
                at = int(step) if step is not None else self._last_step.get(key, -1) + 1
                self._last_step[key] = at
                points.append(MetricPoint(self._seq, key, at, value, now))
                self._seq += 1
            self._journal.append(points)  # raises if it fails: then nothing was acknowledged
            self._buffer.extend(points)
            if len(self._buffer) >= self._batch_size:
                try:
                    self._flush_locked()
                except Exception as exc:  # noqa: BLE001 -- acknowledged all the same: the journal holds them
                    self._store_failed(exc)

    def _store_failed(self, exc: BaseException) -> None:
        """A batch did not reach the store: its points stay buffered (and journaled) and are retried; say so once."""
        if self._write_error is None:
            warnings.warn(f"run {self.id}: the store refused a write ({type(exc).__name__}: {exc}); the points are "
                          f"kept in memory and in the journal {self._journal.path}, and retried", RuntimeWarning,
                          stacklevel=4)
        self._write_error = exc

    def log_loss_terms(self, terms: Mapping[str, Any], weights: Mapping[str, float] | None = None,
                       step: int | None = None, *, grad_norms: bool = False, params: Any = None) -> None:
        """Log the parts of a composite loss ``sum_k weight_k x term_k``.

        Stores ``loss_terms/<name>`` = weight x value (what the optimiser sees),
        ``loss_terms/<name>/raw`` = value and ``loss_terms/<name>/has_grad`` = 1 when the term has a
        gradient path to the parameters (a tensor that requires grad), 0 when it has none (a Python
        float, ``.item()``, a detached tensor or one computed under ``torch.no_grad()``: it only shifts
        the loss value). With ``grad_norms=True`` (call it every k steps: it costs one backward pass
        per term) and ``params`` (e.g. ``model.parameters()``), also each weighted term's gradient norm
        ``loss_terms/<name>/grad_norm`` and the cosine between every two terms' gradients
        ``loss_grad_cosine/<a>/<b>``; call it before ``loss.backward()``, or with
        ``retain_graph=True`` there. The `detached_term` and `weak_regularizer` findings read them.
        """
        weights = dict(weights or {})
        unknown = sorted(set(weights) - set(terms))
        if unknown:
            raise InputError(f"log_loss_terms: weights for {unknown} but no such terms; terms are {sorted(terms)}.")
        values: dict[str, float] = {}
        for name, term in terms.items():
            raw = _metric_value(name, term)
            values[f"loss_terms/{name}"] = float(weights.get(name, 1.0)) * raw
            values[f"loss_terms/{name}/raw"] = raw
            values[f"loss_terms/{name}/has_grad"] = 1.0 if has_gradient_path(term) else 0.0
        if grad_norms:
            values.update(gradient_geometry(terms, weights, params))
        self.log_metrics(values, step=step)

    def flush(self) -> None:
        """Write buffered metric points to the store now."""
        with self._lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        if self._buffer:
            batch, self._buffer = self._buffer, []
            try:
                self.store.log_metrics(self.id, batch)
            except BaseException:
                self._buffer = batch + self._buffer  # not written: keep them for the next try
                raise

    # -- stages and artifacts ---------------------------------------------------------------------

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time a stage of the run (wall clock); the seconds are stored even if the stage raises."""
        self._check_open()
        if not isinstance(name, str) or not name:
            raise InputError(f"stage name {name!r}: use a non-empty string.")
        started, t0 = time.time(), time.perf_counter()
        try:
            yield
        finally:
            self.flush()
            self.store.add_stage(self.id, name, time.perf_counter() - t0, started)

    def log_checkpoint(self, path: str | Path, name: str | None = None, *, step: int | None = None) -> str:
        """Copy a checkpoint file (or directory) into the artifact store; return its sha256. ``step``: the step
        (or epoch) of the logged series whose weights these are; the card marks it on the training curves."""
        if step is not None and (isinstance(step, bool) or not isinstance(step, (int, np.integer)) or step < 0):
            raise InputError(f"log_checkpoint(step={step!r}): expected a whole number >= 0 (the step of the weights).")
        return self._log_path(path, name, "checkpoint", {} if step is None else {"step": int(step)}).sha256

    def log_artifact(self, path: str | Path, name: str | None = None) -> str:
        """Copy any file (or directory) into the artifact store; return its sha256."""
        return self._log_path(path, name, "file").sha256

    def _log_path(self, path: str | Path, name: str | None, kind: str, extra: dict[str, Any] | None = None) -> Artifact:
        self._check_open()
        path = Path(path)
        if not path.exists():
            raise InputError(f"log_{kind if kind == 'checkpoint' else 'artifact'}: {path} does not exist "
                             f"(working directory {Path.cwd()}); nothing was recorded.")
        stored = self.store.artifacts.put_dir(path, name) if path.is_dir() else self.store.artifacts.put_file(path, name)
        meta: dict[str, Any] = {"source_path": str(path.resolve()), **(extra or {})}
        if stored.manifest is not None:
            meta["manifest"] = [list(entry) for entry in stored.manifest]
        artifact = Artifact(name or path.name, kind, stored.sha256, stored.size, stored.path, time.time(), meta)
        self.flush()
        self.store.add_artifact(self.id, artifact)
        return artifact

    def log_predictions(self, split: str, y_true: Any, y_prob: Any = None, *, logits: Any = None,
                        classes: Any = None, ids: Any = None, texts: Any = None, targets: Any = None,
                        pred: Any = None, checkpoint: str | None = None, task: str | None = None) -> str:
        """Validate and store one split's predictions (Parquet, docs/formats.md); return their sha256.

        ``checkpoint`` is the sha256 returned by `log_checkpoint` for the weights that made them;
        ``task`` names the task on a multi-task run (documents then show ``<split>/<task>``).
        """
        self._check_open()
        table = table_from_arrays(y_true, y_prob, logits=logits, classes=classes, ids=ids, texts=texts,
                                  targets=targets, pred=pred, source=f"run {self.id} {split}")
        self.flush()
        art = store_predictions(self.store, self.id, split, table, checkpoint, task)
        self.evaluations[prediction_key(art.meta)] = evaluate_and_keep(
            self.store, self.id, prediction_key(art.meta), art.sha256, table, self.settings)
        return art.sha256

    def evaluation(self, split: str, task: str | None = None) -> Evaluation:
        """The stored evaluation of the predictions last logged for ``split`` (and ``task``), computed once with
        the run's `settings`: the numbers every document of this run shows."""
        key = split if task is None else f"{split}/{task}"
        if key not in self.evaluations:
            raise InputError(f"run {self.id} has logged no predictions for {key!r} (it has: "
                             f"{sorted(self.evaluations) or 'none'}); call log_predictions first.")
        return self.evaluations[key]

    def log_generations(self, split: str, rows: Any) -> str:
        """Validate and store one split's sampled generations (a list of dicts with prompt_id, sample and
        optionally passed, quality, system; or a GenerationTable) as Parquet; return their sha256."""
        from runcard.generation.stored import store_generations
        from runcard.generation.table import table_from_rows

        self._check_open()
        table = table_from_rows(rows, source=f"run {self.id} {split} generations")
        self.flush()
        return store_generations(self.store, self.id, split, table).sha256


#: The runs this process started, in order (`runcard run` says what an interrupt left in the store).
STARTED: list[str] = []


def start_run(project: str, name: str | None = None, *, config: Mapping[str, Any] | None = None,
              tags: Mapping[str, Any] | None = None, store: str | Store | None = None,
              evaluation: EvalSettings | Mapping[str, Any] | None = None,
              batch_size: int = BATCH_SIZE, flush_interval: float = FLUSH_INTERVAL,
              heartbeat_interval: float = HEARTBEAT_INTERVAL) -> ActiveRun:
    """Create a run in the store and return it, recording this process as its owner.

    ``evaluation``: how its predictions are evaluated (`EvalSettings`, or a mapping of its fields such as
    ``{"bins": 10, "n_boot": 2000}``); default: the config's ``evaluation`` table, else the documented
    defaults. The settings are recorded with the run; every document reads the evaluation made with them.
    """
    if not isinstance(project, str) or not project:
        raise InputError(f"project {project!r}: use a non-empty string.")
    opened = open_store(store)
    run_id = new_run_id(opened)
    stored_config = jsonable(dict(config or {}))
    if evaluation is None:
        settings = settings_from_config(stored_config)
    elif isinstance(evaluation, EvalSettings):
        settings = evaluation
    else:
        settings = settings_from_mapping(evaluation, "start_run(evaluation=...)")
    new = NewRun(
        id=run_id, project=project, name=name or run_id, config=stored_config,
        tags={str(k): str(v) for k, v in (tags or {}).items()}, created_at=time.time(),
        host=hostname(), pid=os.getpid(), proc_start=process_identity(os.getpid()),
        eval_settings=settings.to_dict(),
    )
    opened.create_run(new)
    STARTED.append(run_id)
    return ActiveRun(opened, new, batch_size=batch_size, flush_interval=flush_interval,
                     heartbeat_interval=heartbeat_interval)
