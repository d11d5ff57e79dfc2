"""The sweep file (`[sweep]` settings + `[space]` of config keys) as a typed value, and the points it draws.

Parsing is strict like recipe configs: an unknown key is an error that names it. Drawing points is pure:
``grid_points`` enumerates every combination of choices, ``random_points`` samples with a seeded numpy
Generator (log-uniform on ``log = true`` ranges; integer bounds draw integers).
"""

from __future__ import annotations

import copy
import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)

from runcard.data.toml import read_toml
from runcard.errors import InputError

#: Config keys a sweep sets itself on every trial; the space may not set them.
RESERVED = ("experiment.seed", "experiment.name", "experiment.project", "experiment.recipe", "experiment.tags")
METHODS = ("grid", "random", "tpe")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Choices(_Strict):
    """A finite set of values (any TOML value: numbers, strings, lists, tables); every method takes it."""

    choices: list[Any] = Field(min_length=1)


class Range(_Strict):
    """``low <= x <= high``, uniform or (``log``) log-uniform; integer bounds give integers. random/tpe only."""

    low: StrictInt | float
    high: StrictInt | float
    log: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if self.log and self.low <= 0:
            raise ValueError(f"a log range needs low > 0 (found {self.low})")
        return self

    @property
    def integer(self) -> bool:
        return isinstance(self.low, int) and isinstance(self.high, int)


Param = Choices | Range


class SweepSettings(_Strict):
    """The ``[sweep]`` table."""

    config: str = Field(min_length=1)
    method: Literal["grid", "random", "tpe"] = "grid"
    trials: int | None = Field(default=None, gt=0)
    workers: int = Field(default=1, gt=0)
    seeds: list[int] = Field(default=[0], min_length=1)
    seed: int = Field(default=0, ge=0)
    objective: str | None = None
    direction: Literal["minimize", "maximize"] = "minimize"
    sort: str | None = None
    group_by: str | None = None
    name: str | None = Field(default=None, min_length=1)

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, seeds: list[int]) -> list[int]:
        if any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
            raise ValueError(f"seeds must be distinct integers >= 0 (found {seeds})")
        return seeds


class _SweepFile(_Strict):
    sweep: SweepSettings
    space: dict[str, Any] = Field(min_length=1)


@dataclass(frozen=True)
class Sweep:
    """A validated sweep: its settings, its space (config key -> `Choices` or `Range`) and where things are."""

    settings: SweepSettings
    space: dict[str, Param]
    config_path: Path  # the base recipe config, absolute
    name: str
    source: str  # the sweep file, for messages

    @property
    def n_points(self) -> int:
        """Points drawn: every grid point, else ``trials / len(seeds)``."""
        if self.settings.method == "grid":
            return math.prod(len(p.choices) for p in self.space.values() if isinstance(p, Choices))
        return (self.settings.trials or 0) // len(self.settings.seeds)

    @property
    def n_trials(self) -> int:
        """Runs the sweep makes: points x seeds."""
        return self.n_points * len(self.settings.seeds)


def _where(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(top level)"


def _message(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = _where(tuple(first["loc"]))
    if first["type"] == "extra_forbidden":
        return f"unknown key {where!r}; check its spelling against docs/sweeps.md"
    if first["type"] == "missing":
        return f"missing key {where!r}"
    return f"{where}: {first['msg']}"


def parse_param(key: str, value: Any, source: str) -> Param:
    """One ``[space]`` entry: a list (choices), ``{choices = [...]}``, or ``{low, high, log}`` (a range)."""
    if isinstance(value, list):
        value = {"choices": value}
    if not isinstance(value, dict):
        raise InputError(f"{source}: space.{key!r} = {value!r}: give a list of values, {{ choices = [...] }} or "
                         "{ low = ..., high = ..., log = false }.")
    model: type[Param] = Choices if "choices" in value else Range
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        what = (f"unknown key {_where(first['loc'])!r} (a choice takes `choices`; a range `low`, `high`, `log`)"
                if first["type"] == "extra_forbidden" else _message(exc))
        raise InputError(f"{source}: space.{key!r}: {what}.") from None


def _check_key(key: str, source: str) -> None:
    if not key or any(not part for part in key.split(".")):
        raise InputError(f"{source}: space key {key!r}: write a dotted config key such as \"train.lr\".")
    if any(key == r or key.startswith(r + ".") for r in RESERVED):
        hint = "list seeds in [sweep] seeds" if key == "experiment.seed" else "the sweep sets it on every trial"
        raise InputError(f"{source}: space key {key!r} cannot be swept: {hint}.")


def parse_sweep(raw: dict[str, Any], source: str, base_dir: Path) -> Sweep:
    """Validate a sweep file's content (``base_dir``: the folder its relative config path is read from)."""
    try:
        parsed = _SweepFile.model_validate(raw)
    except ValidationError as exc:
        raise InputError(f"{source}: {_message(exc)}.") from None
    space: dict[str, Param] = {}
    for key, value in parsed.space.items():
        _check_key(key, source)
        space[key] = parse_param(key, value, source)
    s = parsed.sweep
    if s.method == "grid":
        ranges = [k for k, p in space.items() if isinstance(p, Range)]
        if ranges:
            raise InputError(f"{source}: space.{ranges[0]!r} is a range, which a grid cannot enumerate; give a list "
                             "of values, or set [sweep] method = \"random\" or \"tpe\".")
    elif s.trials is None:
        raise InputError(f"{source}: [sweep] trials is missing; method {s.method!r} draws that many runs.")
    if s.method == "tpe" and s.objective is None:
        raise InputError(f"{source}: [sweep] objective is missing; tpe needs the metric to optimise "
                         "(e.g. objective = \"val/loss\").")
    if s.trials is not None and s.trials % len(s.seeds):
        raise InputError(f"{source}: [sweep] trials = {s.trials} is not a multiple of the {len(s.seeds)} seeds; "
                         "each point runs once per seed.")
    config_path = Path(s.config) if Path(s.config).is_absolute() else base_dir / s.config
    sweep = Sweep(s, space, config_path.resolve(), s.name or Path(source).stem, source)
    if s.method == "grid" and s.trials is not None and sweep.n_trials > s.trials:
        raise InputError(f"{source}: the grid has {sweep.n_points} points x {len(s.seeds)} seeds = {sweep.n_trials} "
                         f"trials, more than trials = {s.trials}; raise trials, drop values, or use method = "
                         "\"random\" to draw a subset.")
    return sweep


def load_sweep(path: str | Path) -> Sweep:
    """Read and validate a sweep TOML file; relative paths in it are relative to its folder."""
    path = Path(path)
    raw = read_toml(path, "sweep file")
    return parse_sweep(raw, str(path), path.resolve().parent)


def grid_points(space: dict[str, Param]) -> list[dict[str, Any]]:
    """Every combination of the choices, the first key varying slowest."""
    for key, param in space.items():
        if isinstance(param, Range):
            raise InputError(f"space.{key!r} is a range; a grid needs a list of values.")
    lists = [p.choices for p in space.values() if isinstance(p, Choices)]
    return [dict(zip(space, copy.deepcopy(combo), strict=True)) for combo in itertools.product(*lists)]


def draw(param: Param, rng: np.random.Generator) -> Any:
    """One value of ``param``: a uniform choice, or a (log-)uniform value of a range (integers stay integers)."""
    if isinstance(param, Choices):
        return copy.deepcopy(param.choices[int(rng.integers(len(param.choices)))])
    low, high = float(param.low), float(param.high)
    if param.integer:
        if not param.log:
            return int(rng.integers(int(param.low), int(param.high) + 1))
        whole = math.floor(math.exp(rng.uniform(math.log(low), math.log(high + 1))))
        return int(min(max(whole, param.low), param.high))
    value = math.exp(rng.uniform(math.log(low), math.log(high))) if param.log else rng.uniform(low, high)
    return float(min(max(value, low), high))  # exp(log(x)) may step a ulp outside


def random_points(space: dict[str, Param], n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` points drawn independently with ``numpy.random.default_rng(seed)``: the same seed, the same points."""
    rng = np.random.default_rng(seed)
    return [{key: draw(param, rng) for key, param in space.items()} for _ in range(n)]


def corner_points(space: dict[str, Param]) -> list[dict[str, Any]]:
    """Two points at the edges of the space (first choice / low, last choice / high): a cheap check of the keys
    and value types against the recipe config before any trial starts."""
    def edge(param: Param, last: bool) -> Any:
        if isinstance(param, Choices):
            return copy.deepcopy(param.choices[-1 if last else 0])
        return param.high if last else param.low

    return [{k: edge(p, last) for k, p in space.items()} for last in (False, True)]


__all__ = ["METHODS", "Choices", "Param", "Range", "Sweep", "SweepSettings", "corner_points", "draw", "grid_points",
           "load_sweep", "parse_param", "parse_sweep", "random_points"]
