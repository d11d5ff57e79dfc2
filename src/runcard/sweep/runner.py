"""Run a sweep: draw points (grid, random, or Optuna TPE by ask/tell), run each once per seed in parallel
workers, and return what every trial became.

Each trial is ``run_config(base, store, overrides={**point, "experiment.seed": s, "experiment.name":
"<name>-t007", "experiment.tags.sweep": <id>, "experiment.tags.trial": "7"})`` in a worker, so every run
of a sweep carries its sweep id and can be summarised with ``runcard summary --sweep ID``. A failed trial is
recorded and the sweep goes on. Ctrl-C stops submitting, cancels what has not started, interrupts what runs
(those runs end failed), and raises `SweepInterrupted` (a KeyboardInterrupt) carrying what finished.
"""

from __future__ import annotations

import math
import os
import statistics
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from runcard.data.toml import read_toml
from runcard.errors import InputError
from runcard.sweep.pools import LocalPool, Pool, RayPool
from runcard.sweep.space import (
    Choices,
    Param,
    Sweep,
    corner_points,
    grid_points,
    load_sweep,
    random_points,
)
from runcard.sweep.trial import TrialOutcome, TrialSpec


@dataclass(frozen=True)
class TrialRecord:
    """One trial of a sweep: its point and seed, its run and status (as stored), objective and run time."""

    trial: int
    point: dict[str, Any]
    seed: int
    run_id: str | None
    status: str  # its run's stored status (finished, failed, crashed); without a run: failed or interrupted
    objective: float | None
    elapsed: float
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: a non-finite objective (a diverged run) is null."""
        out = asdict(self)
        if self.objective is not None and not math.isfinite(self.objective):
            out["objective"] = None
        return out


@dataclass(frozen=True)
class SweepResult:
    """What a sweep did. ``trials`` lists the trials it started, in trial order; ``planned`` how many it meant to."""

    sweep_id: str
    name: str
    method: str
    project: str
    objective: str | None
    direction: str
    planned: int
    trials: tuple[TrialRecord, ...]
    elapsed: float
    interrupted: bool = False

    @property
    def run_ids(self) -> list[str]:
        return [t.run_id for t in self.trials if t.run_id is not None]

    def best(self) -> TrialRecord | None:
        """The finished trial with the best objective (None without an objective or a finished trial)."""
        scored = [t for t in self.trials
                  if t.status == "finished" and t.objective is not None and math.isfinite(t.objective)]
        if not scored:
            return None
        pick = min if self.direction == "minimize" else max
        return pick(scored, key=lambda t: t.objective or 0.0)

    def to_dict(self) -> dict[str, Any]:
        best = self.best()
        return {"id": self.sweep_id, "name": self.name, "method": self.method, "project": self.project,
                "objective": self.objective, "direction": self.direction, "planned": self.planned,
                "elapsed": self.elapsed, "interrupted": self.interrupted,
                "best": None if best is None else best.trial, "trials": [t.to_dict() for t in self.trials]}


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a sweep; ``result`` holds every trial as it ended (nothing of it is left running)."""

    def __init__(self, result: SweepResult) -> None:
        super().__init__(f"sweep {result.sweep_id} interrupted")
        self.result = result


def new_sweep_id() -> str:
    """8 hex characters, new for every sweep."""
    return uuid.uuid4().hex[:8]


@dataclass
class _Job:
    trial: int
    point_no: int
    point: dict[str, Any]
    seed: int


class _Points:
    """Grid or random: every point drawn up front."""

    def __init__(self, points: list[dict[str, Any]]) -> None:
        self._points = deque(points)

    def ask(self) -> dict[str, Any] | None:
        return self._points.popleft() if self._points else None

    def tell(self, point_no: int, values: list[float | None]) -> None:
        """Random and grid points do not learn."""

    def abandon(self) -> None:
        """Nothing pending to close."""


class _Tpe:
    """Optuna's TPE sampler, asked for a point whenever a worker is free and told each point's objective (the mean
    over its seeds; failed if any seed failed)."""

    def __init__(self, sweep: Sweep, n_points: int, storage: str | None, study_name: str) -> None:
        try:
            import optuna
        except ImportError:
            raise InputError("method \"tpe\" needs Optuna: pip install 'runcard[sweep]' (optuna>=3.5).") from None
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self._optuna, self._space, self._left = optuna, sweep.space, n_points
        self._study = optuna.create_study(study_name=study_name, storage=storage, direction=sweep.settings.direction,
                                          sampler=optuna.samplers.TPESampler(seed=sweep.settings.seed))
        self._asked: dict[int, Any] = {}  # point number (in asking order) -> its Optuna trial, until told
        self._count = 0

    def _suggest(self, trial: Any, key: str, param: Param) -> Any:
        if isinstance(param, Choices):
            plain = all(c is None or isinstance(c, (bool, int, float, str)) for c in param.choices)
            if plain:
                return trial.suggest_categorical(key, param.choices)
            return param.choices[trial.suggest_categorical(key, list(range(len(param.choices))))]
        if param.integer:
            return trial.suggest_int(key, int(param.low), int(param.high), log=param.log)
        return trial.suggest_float(key, float(param.low), float(param.high), log=param.log)

    def ask(self) -> dict[str, Any] | None:
        if self._left == 0:
            return None
        self._left -= 1
        trial = self._study.ask()
        self._asked[self._count] = trial
        self._count += 1
        return {key: self._suggest(trial, key, param) for key, param in self._space.items()}

    def tell(self, point_no: int, values: list[float | None]) -> None:
        trial = self._asked.pop(point_no)
        if any(v is None for v in values):
            self._study.tell(trial, state=self._optuna.trial.TrialState.FAIL)
        else:
            self._study.tell(trial, statistics.fmean(v for v in values if v is not None))

    def abandon(self) -> None:
        for trial in self._asked.values():
            self._study.tell(trial, state=self._optuna.trial.TrialState.FAIL)
        self._asked.clear()


def resolve_store_url(url: str | None) -> str:
    """The store URL every worker opens: the one in effect, with a SQLite path made absolute."""
    from runcard.store import absolute_url, open_store, store_url

    chosen = store_url(url)
    open_store(chosen)  # a bad URL is an InputError here; the database is created or migrated once, up front
    return absolute_url(chosen)


def _check_points(sweep: Sweep, points: list[dict[str, Any]], url: str) -> str:
    """Validate the base config with each point, and preflight it once (with the first point: data, encoder,
    output folders, disk, the store at ``url``), before any worker starts; return its project."""
    from runcard.recipes.config import validate_config
    from runcard.recipes.preflight import failure_message, preflight

    raw = read_toml(sweep.config_path, "config file",
                    f" ({sweep.source}: [sweep] config = {sweep.settings.config!r} is relative to the sweep file)")
    configs = [validate_config(raw, f"{sweep.config_path} with the [space] values of {sweep.source}", point)
               for point in points]
    if configs:
        message = failure_message(preflight(configs[0], sweep.config_path.resolve().parent, url, probe_cuda=False),
                                  str(sweep.config_path))
        if message is not None:
            raise InputError(f"{message}\nNo trial was started.")
    return configs[-1].experiment.project if configs else ""


@dataclass
class _State:
    """The driver's book-keeping while a sweep runs."""

    jobs: deque[_Job] = field(default_factory=deque)
    running: dict[Any, _Job] = field(default_factory=dict)
    outcomes: dict[int, tuple[_Job, TrialOutcome]] = field(default_factory=dict)
    values: dict[int, list[float | None]] = field(default_factory=dict)
    points: int = 0


def _pool(workers: int, ray_address: str | None) -> Pool:
    return RayPool(ray_address) if ray_address else LocalPool(workers)


def run_sweep(sweep: Sweep | str | Path, store: str | None = None, *, workers: int | None = None,
              ray_address: str | None = None, optuna_storage: str | None = None,
              on_trial: Callable[[TrialRecord, int], None] | None = None, sweep_id: str | None = None) -> SweepResult:
    """Run every trial of ``sweep`` (a `Sweep` or a sweep TOML path) into the store at URL ``store``.

    ``workers`` overrides ``[sweep] workers``; ``ray_address`` runs trials as Ray tasks instead of local
    processes; ``optuna_storage`` keeps the TPE study in that Optuna storage (e.g. the team's PostgreSQL).
    ``on_trial(record, planned)`` is called in the driver as each trial ends (progress lines). ``sweep_id``
    defaults to a new one (`new_sweep_id`)."""
    sweep = sweep if isinstance(sweep, Sweep) else load_sweep(sweep)
    s = sweep.settings
    workers = workers or s.workers
    if workers < 1:
        raise InputError(f"workers = {workers}: give at least 1.")
    sweep_id = sweep_id or new_sweep_id()
    url = resolve_store_url(store)
    if s.method == "tpe":
        project = _check_points(sweep, corner_points(sweep.space), url)
        planner: _Points | _Tpe = _Tpe(sweep, sweep.n_points, optuna_storage, f"runcard-{sweep.name}-{sweep_id}")
    else:
        points = grid_points(sweep.space) if s.method == "grid" else random_points(sweep.space, sweep.n_points, s.seed)
        project = _check_points(sweep, points, url)
        planner = _Points(points)
    base = TrialSpec(0, str(sweep.config_path), url, {}, s.objective, os.getcwd(),
                     {k: v for k, v in os.environ.items() if k.startswith("RUNCARD_")})
    state, started = _State(), time.monotonic()
    pool = _pool(workers, ray_address)
    try:
        _drive(sweep, sweep_id, base, planner, pool, state, workers, on_trial)
    except BaseException as exc:
        _shut(pool, state)
        planner.abandon()
        result = _result(sweep, sweep_id, project, url, state, time.monotonic() - started, interrupted=True)
        if isinstance(exc, KeyboardInterrupt):
            raise SweepInterrupted(result) from None
        raise
    pool.close()
    return _result(sweep, sweep_id, project, url, state, time.monotonic() - started)


def _drive(sweep: Sweep, sweep_id: str, base: TrialSpec, planner: _Points | _Tpe, pool: Pool, state: _State,
           workers: int, on_trial: Callable[[TrialRecord, int], None] | None) -> None:
    seeds = sweep.settings.seeds
    while True:
        while len(state.running) < workers:
            if not state.jobs:
                point = planner.ask()
                if point is None:
                    break
                state.jobs.extend(_Job(state.points * len(seeds) + j + 1, state.points, point, seed)
                                  for j, seed in enumerate(seeds))
                state.points += 1
            job = state.jobs.popleft()
            overrides = {**job.point, "experiment.seed": job.seed, "experiment.name": f"{sweep.name}-t{job.trial:03d}",
                         "experiment.tags.sweep": sweep_id, "experiment.tags.trial": str(job.trial)}
            spec = TrialSpec(job.trial, base.config, base.store, overrides, base.objective, base.workdir, base.env)
            state.running[pool.submit(spec)] = job
        if not state.running:
            return
        for handle in pool.wait(list(state.running)):
            job = state.running.pop(handle)
            outcome = pool.outcome(handle, job.trial)
            state.outcomes[job.trial] = (job, outcome)
            _check_objective(sweep, outcome)
            values = state.values.setdefault(job.point_no, [])
            values.append(outcome.objective if outcome.status == "finished" else None)
            if len(values) == len(seeds):
                planner.tell(job.point_no, values)
            if on_trial is not None:
                on_trial(_record(job, outcome), sweep.n_trials)


def _check_objective(sweep: Sweep, outcome: TrialOutcome) -> None:
    if sweep.settings.objective and outcome.status == "finished" and outcome.objective is None:
        raise InputError(f"{sweep.source}: [sweep] objective = {sweep.settings.objective!r}: run {outcome.run_id} "
                         f"has no such metric; it has {list(outcome.metrics)[:30]}. The sweep was stopped.")


def _shut(pool: Pool, state: _State) -> None:
    """Cancel what has not started, interrupt what runs, collect what ended meanwhile, close the pool."""
    try:
        ended = set(pool.stop(list(state.running)))
        for handle, job in list(state.running.items()):
            outcome = (pool.outcome(handle, job.trial) if handle in ended
                       else TrialOutcome(job.trial, None, "crashed", None, 0.0, "did not end when interrupted"))
            if outcome.status != "cancelled":
                state.outcomes[job.trial] = (job, outcome)
    finally:
        pool.close()


def _record(job: _Job, outcome: TrialOutcome, run: Any = None) -> TrialRecord:
    status = run.status if run is not None else outcome.status
    return TrialRecord(job.trial, job.point, job.seed, run.id if run is not None else outcome.run_id, status,
                       outcome.objective, round(outcome.elapsed, 3), outcome.error)


def _result(sweep: Sweep, sweep_id: str, project: str, url: str, state: _State, elapsed: float, *,
            interrupted: bool = False) -> SweepResult:
    """Trial records with their runs' stored statuses. Reading the runs back also marks any run whose worker
    died mid-write as crashed (the store's liveness check), so none is left ``running``."""
    from runcard.runs import list_runs
    from runcard.store import open_store

    runs = {r.tags.get("trial"): r for r in list_runs(project, open_store(url)) if r.tags.get("sweep") == sweep_id}
    records = [_record(job, outcome, runs.get(str(trial))) for trial, (job, outcome) in sorted(state.outcomes.items())]
    return SweepResult(sweep_id, sweep.name, sweep.settings.method, project, sweep.settings.objective,
                       sweep.settings.direction, sweep.n_trials, tuple(records), round(elapsed, 3), interrupted)
