"""Reference experiments driven by a typed TOML config: `runcard run CONFIG`, and `runcard run --from RUN`."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from runcard.errors import InputError
from runcard.recipes.config import RecipeConfig, load_config, validate_config
from runcard.store import Store

#: Recipes whose configs list RL objectives (``rl.objectives``), which `runcard run --objective` narrows to one.
OBJECTIVE_RECIPES = {"polychromic": ("polychromic", "documented")}


def run_config(path: str | Path, store: Store, *, overrides: dict[str, Any] | None = None, quiet: bool = False,
               quick: bool = False, objective: str | None = None) -> Any:
    """Validate a config and run its recipe into ``store``; returns the recipe's result.

    ``quick`` runs the config's small quick setting (recipes that have one: multitask_encoder). ``objective``
    runs only that objective's arms (recipes of `OBJECTIVE_RECIPES`: ``rl.objectives = [objective]``)."""
    if objective is not None:
        overrides = {**(overrides or {}), **objective_override(path, objective)}
    config, base = load_config(path, overrides)
    _preflight(config, base, store, source=str(path))
    from runcard.recipes.progress import Reporter

    return _run_validated(config, base, store, Reporter(quiet=quiet), quick, source=str(path))


def objective_override(path: str | Path, objective: str) -> dict[str, Any]:
    """``{"rl.objectives": [objective]}`` for a config whose recipe has objectives; `InputError` naming the
    config and the choices otherwise."""
    config, _ = load_config(path)
    recipe = config.experiment.recipe
    choices = OBJECTIVE_RECIPES.get(recipe)
    if choices is None:
        raise InputError(f"{path}: --objective is for recipes with RL objectives "
                         f"({', '.join(sorted(OBJECTIVE_RECIPES))}); this config is {recipe!r}. Drop --objective.")
    if objective not in choices:
        raise InputError(f"--objective {objective!r} is not an objective of the {recipe} recipe; use "
                         + " or ".join(repr(c) for c in choices) + ".")
    return {"rl.objectives": [objective]}


def rerun(run_id: str, store: Store, *, quiet: bool = False) -> Any:
    """Run a stored run's recipe config again, alone: same config and seed (so the same numbers), a new run
    tagged ``rerun_of=<id>``. Relative paths resolve against the run's ``config_dir`` tag. The config's
    ``sweep`` and ``trial`` tags are dropped, so a sweep's summary still counts each of its trials once."""
    from runcard.recipes.progress import Reporter
    from runcard.runs import get_run

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


def _preflight(config: Any, base: Path, store: Store, *, source: str) -> None:
    """Check the resources ``config`` needs (`runcard.preflight`); raise `InputError` listing every failed check,
    before anything is recorded in ``store``."""
    from runcard.preflight import failure_message, preflight

    message = failure_message(preflight(config, base, store, probe_cuda=False), source)
    if message is not None:
        raise InputError(f"{message}\nNo run was started (`runcard preflight CONFIG` shows every check).")


def _run_validated(config: Any, base: Path, store: Store, reporter: Any, quick: bool, *, source: str = "config") -> Any:
    """Run an already validated ``config`` (relative paths against ``base``) with the recipe it names."""
    if config.experiment.recipe == "multitask_encoder":
        from runcard.recipes.multitask_encoder import run_multitask

        return run_multitask(config, base, store, reporter=reporter, quick=quick)
    if quick:
        raise InputError(f"{source}: --quick is for the multitask_encoder recipe; this config is "
                         f"{config.experiment.recipe!r}, which already runs in a few minutes.")
    if config.experiment.recipe == "softlabel_encoder":
        from runcard.recipes.softlabel_encoder import run_softlabel

        return run_softlabel(config, base, store, reporter=reporter)
    if config.experiment.recipe == "polychromic":
        from runcard.recipes.polychromic import run_polychromic

        return run_polychromic(config, base, store, reporter=reporter)
    from runcard.recipes.tfidf_mlp import run_recipe

    return run_recipe(config, base, store, reporter=reporter)


__all__ = ["RecipeConfig", "load_config", "rerun", "run_config"]
