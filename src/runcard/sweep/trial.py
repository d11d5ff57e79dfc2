"""One sweep trial as it runs in a worker (a local process or a Ray task): the recipe, then its objective.

`run_trial` never raises for a run that failed: the run is marked failed in the store by the recipe's
`start_run` block, and the outcome says so, so the sweep goes on. Ctrl-C in the worker ends the run the same
way (status ``interrupted`` in the outcome, ``failed`` in the store).
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TrialSpec:
    """Everything a worker needs, picklable: the base config, the store URL and the trial's overrides."""

    trial: int
    config: str  # absolute path of the base recipe config
    store: str  # store URL, with SQLite paths absolute
    overrides: dict[str, Any]
    objective: str | None = None
    workdir: str | None = None  # the driver's working directory (cards are written relative to it)
    env: dict[str, str] = field(default_factory=dict)  # the driver's RUNCARD_* variables


@dataclass(frozen=True)
class TrialOutcome:
    """What a worker reports back. ``status``: finished, failed or interrupted (the driver adds cancelled and
    crashed for trials that never started or never ended)."""

    trial: int
    run_id: str | None
    status: str
    objective: float | None
    elapsed: float
    error: str | None = None
    metrics: tuple[str, ...] = ()  # the run's metric names, when the objective was not among them


def read_objective(store: Any, run_id: str, key: str) -> tuple[float | None, tuple[str, ...]]:
    """``key`` of a finished run as its documents show it: the score computed from its stored predictions
    (the selected checkpoint's) when there is one, else its logged summary value (for a per-epoch series,
    the last epoch's). Returns ``(value or None, the metric names it has when None)``."""
    from runcard.report.views import load_run
    from runcard.runs import get_run

    metrics = load_run(store, get_run(run_id, store), series=False).view.metrics()
    if key in metrics:
        return float(metrics[key]), ()
    return None, tuple(sorted(metrics))


def _enter(spec: TrialSpec) -> None:
    os.environ.update(spec.env)
    if spec.workdir and os.path.isdir(spec.workdir):
        os.chdir(spec.workdir)


@contextlib.contextmanager
def _interruptible() -> Any:
    """In a local pool worker (which ignores SIGINT while idle), let SIGINT raise KeyboardInterrupt during a run."""
    ours = threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    if ours:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        if ours:
            signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_trial(spec: TrialSpec) -> TrialOutcome:
    """Run one trial: ``run_config(spec.config, spec.store, overrides=spec.overrides, quiet=True)``; then read its
    objective. The recipe's console output is captured (a sweep's stderr carries one line per trial)."""
    from runcard.recipes import run_config
    from runcard.store import open_store

    start = time.monotonic()
    _enter(spec)
    run_id: str | None = None
    try:
        with _interruptible(), contextlib.redirect_stderr(io.StringIO()):
            store = open_store(spec.store)
            result = run_config(spec.config, store, overrides=spec.overrides, quiet=True)
            run_id = result.run_id
            value, known = read_objective(store, run_id, spec.objective) if spec.objective else (None, ())
    except KeyboardInterrupt:
        return TrialOutcome(spec.trial, run_id, "interrupted", None, time.monotonic() - start, "interrupted")
    except Exception as exc:  # noqa: BLE001 -- a failed trial is reported, and the sweep goes on
        return TrialOutcome(spec.trial, run_id, "failed", None, time.monotonic() - start,
                            f"{type(exc).__name__}: {exc}")
    return TrialOutcome(spec.trial, run_id, "finished", value, time.monotonic() - start, None, known)


def ignore_sigint() -> None:
    """Pool worker initializer: an idle worker ignores Ctrl-C (the driver decides what to stop)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
