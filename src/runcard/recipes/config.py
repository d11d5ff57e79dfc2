"""Reading and validating a recipe config: TOML (or a config stored with a run), dotted overrides, then the
config model of the recipe ``experiment.recipe`` names (`runcard.recipes.registry`). Unknown keys are errors
that name the key.

Relative paths in a config are relative to the config file's folder.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, cast

from pydantic import ValidationError

from runcard.data.toml import read_toml
from runcard.errors import InputError
from runcard.recipes.base_config import RunConfig
from runcard.recipes.registry import get_recipe


def _where(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    return ".".join(parts) if parts else "(top level)"


def load_config(path: str | Path, overrides: dict[str, Any] | None = None) -> tuple[RunConfig, Path]:
    """Read and validate a recipe config (the model `experiment.recipe` names); errors name the file,
    the key and the problem."""
    path = Path(path)
    raw = read_toml(path, "config file")
    return validate_config(raw, str(path), overrides), path.resolve().parent


def apply_overrides(raw: dict[str, Any], overrides: dict[str, Any] | None) -> dict[str, Any]:
    """``{"train.lr": 0.01}`` written into a nested config dict (a copy; tables are created as needed)."""
    out = copy.deepcopy(raw)
    for dotted, value in (overrides or {}).items():
        node = out
        *parents, leaf = dotted.split(".")
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise InputError(f"override {dotted!r}: {part!r} is a value, not a table.")
            node = child
        node[leaf] = value
    return out


def _legacy_bins(raw: dict[str, Any], path: str) -> dict[str, Any]:
    """Configs written before ``[evaluation]`` existed set the bins as ``calibration.bins``: read it as
    ``evaluation.bins`` (one setting, one place); both given and different is an error."""
    calibration = raw.get("calibration")
    if not isinstance(calibration, dict) or "bins" not in calibration:
        return raw
    raw = copy.deepcopy(raw)
    bins = raw["calibration"].pop("bins")
    evaluation = raw.setdefault("evaluation", {})
    if not isinstance(evaluation, dict):
        return raw
    if "bins" in evaluation and evaluation["bins"] != bins:
        raise InputError(f"{path}: calibration.bins = {bins!r} and evaluation.bins = {evaluation['bins']!r}; the bins "
                         "are an evaluation setting now: keep evaluation.bins only.")
    evaluation["bins"] = bins
    return raw


def validate_config(raw: dict[str, Any], source: str, overrides: dict[str, Any] | None = None) -> RunConfig:
    """Validate a config dict (a file's content, or a config stored with a run) for the recipe
    `experiment.recipe` names, after applying dotted ``overrides``."""
    path = source
    raw = _legacy_bins(apply_overrides(raw, overrides), path)
    recipe = raw.get("experiment", {}).get("recipe") if isinstance(raw.get("experiment"), dict) else None
    model = get_recipe(recipe, path).config
    try:
        config = cast(RunConfig, model.model_validate(raw))
    except ValidationError as exc:
        first = exc.errors()[0]
        if first["type"] == "extra_forbidden":
            message = f"unknown key {_where(first['loc'])!r}; check its spelling against docs/recipes.md"
        elif first["type"] == "missing":
            message = f"missing key {_where(first['loc'])!r}"
        else:
            message = f"{_where(first['loc'])}: {first['msg']}"
        more = f" (and {len(exc.errors()) - 1} more problems)" if len(exc.errors()) > 1 else ""
        raise InputError(f"{path}: {message}{more}.") from None
    return config
