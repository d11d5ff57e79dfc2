"""Reference experiments driven by a typed TOML config: `runcard run CONFIG`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runcard.recipes.config import RecipeConfig, load_config
from runcard.store import Store


def run_config(path: str | Path, store: Store, *, overrides: dict[str, Any] | None = None, quiet: bool = False) -> Any:
    """Validate a config and run its recipe into ``store``; returns the recipe's result."""
    config, base = load_config(path, overrides)
    from runcard.recipes.progress import Reporter
    from runcard.recipes.tfidf_mlp import run_recipe

    return run_recipe(config, base, store, reporter=Reporter(quiet=quiet))


__all__ = ["RecipeConfig", "load_config", "run_config"]
