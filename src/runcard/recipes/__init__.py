"""Reference experiments driven by a typed TOML config: `runcard run CONFIG`, and `runcard run --from RUN`.

Each recipe is a package here (``tfidf_mlp``, ``multitask_encoder``, ``softlabel_encoder``, ``polychromic``) with
its config, data, experiment and a `Recipe` record that `runcard.recipes.registry` lists; what they share is one
module each (``base_config``, ``encoders``, ``progress``, ``results``, ``preflight``). This module validates a
config, preflights it and runs the recipe it names.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runcard.errors import InputError
from runcard.recipes import preflight
from runcard.recipes.base_config import RunConfig
from runcard.recipes.config import load_config, validate_config
from runcard.recipes.progress import Reporter
from runcard.recipes.registry import get_recipe, with_objectives, with_quick
from runcard.recipes.tfidf_mlp.config import TfidfConfig as RecipeConfig
from runcard.runs import get_run
from runcard.store import Store

if TYPE_CHECKING:
    from runcard.recipes.results import RecipeResult


def run_config(path: str | Path, store: Store, *, overrides: dict[str, Any] | None = None, quiet: bool = False,
               quick: bool = False, objective: str | None = None) -> RecipeResult:
    """Validate a config and run its recipe into ``store``; returns the recipe's result.

    ``quick`` runs the config's small quick setting (recipes that have one: `Recipe.quick`). ``objective`` runs
    only that objective's arms (recipes with `Recipe.objectives`: ``rl.objectives = [objective]``)."""
    if objective is not None:
        overrides = {**(overrides or {}), **objective_override(path, objective)}
    config, base = load_config(path, overrides)
    _preflight(config, base, store, source=str(path))
    return _run_validated(config, base, store, Reporter(quiet=quiet), quick, source=str(path))


def objective_override(path: str | Path, objective: str) -> dict[str, Any]:
    """``{"rl.objectives": [objective]}`` for a config whose recipe has objectives; `InputError` naming the
    config and the choices otherwise."""
    config, _ = load_config(path)
    recipe = get_recipe(config.experiment.recipe, str(path))
    if not recipe.objectives:
        raise InputError(f"{path}: --objective is for recipes with RL objectives "
                         f"({', '.join(sorted(r.name for r in with_objectives()))}); this config is {recipe.name!r}. "
                         "Drop --objective.")
    if objective not in recipe.objectives:
        raise InputError(f"--objective {objective!r} is not an objective of the {recipe.name} recipe; use "
                         + " or ".join(repr(c) for c in recipe.objectives) + ".")
    return {"rl.objectives": [objective]}


def rerun(run_id: str, store: Store, *, quiet: bool = False) -> RecipeResult:
    """Run a stored run's recipe config again, alone: same config and seed (so the same numbers), a new run
    tagged ``rerun_of=<id>``. Relative paths resolve against the run's ``config_dir`` tag. The config's
    ``sweep`` and ``trial`` tags are dropped, so a sweep's summary still counts each of its trials once."""
    run = get_run(run_id, store)
    if "config_dir" not in run.tags:
        raise InputError(f"run {run.id} was not made by `runcard run` (it has no config_dir tag), so it has no "
                         "recipe config to re-run; run the code that made it again.")
    raw = copy.deepcopy(run.config)
    experiment = raw.get("experiment")
    if isinstance(experiment, dict) and isinstance(experiment.get("tags"), dict):
        experiment["tags"] = {k: v for k, v in experiment["tags"].items() if k not in ("sweep", "trial")}
    config = validate_config(raw, f"run {run.id}", {"experiment.tags.rerun_of": run.id})
    _preflight(config, Path(run.tags["config_dir"]), store, source=f"run {run.id}")
    return _run_validated(config, Path(run.tags["config_dir"]), store, Reporter(quiet=quiet),
                          run.tags.get("quick") == "true", source=f"run {run.id}")


def _preflight(config: RunConfig, base: Path, store: Store, *, source: str) -> None:
    """Check the resources ``config`` needs (`runcard.recipes.preflight`); raise `InputError` listing every failed
    check, before anything is recorded in ``store``."""
    message = preflight.failure_message(preflight.preflight(config, base, store, probe_cuda=False), source)
    if message is not None:
        raise InputError(f"{message}\nNo run was started (`runcard preflight CONFIG` shows every check).")


def _run_validated(config: RunConfig, base: Path, store: Store, reporter: Reporter, quick: bool, *,
                   source: str = "config") -> RecipeResult:
    """Run an already validated ``config`` (relative paths against ``base``) with the recipe it names."""
    recipe = get_recipe(config.experiment.recipe, source)
    if quick and not recipe.quick:
        names = [r.name for r in with_quick()]
        raise InputError(f"{source}: --quick is for the {' and '.join(names)} recipe{'s' if len(names) > 1 else ''}; "
                         f"this config is {recipe.name!r}, which already runs in a few minutes.")
    return recipe.run(config, base, store, reporter=reporter, quick=quick)


__all__ = ["RecipeConfig", "load_config", "rerun", "run_config"]
