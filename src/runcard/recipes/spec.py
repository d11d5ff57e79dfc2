"""The `Recipe` record: everything runcard must know of a recipe to validate, check and run its configs.

Each recipe's package (``runcard/recipes/<name>/__init__.py``) defines one as ``RECIPE``; `runcard.recipes.registry`
lists them. The run function is named by module and attribute and imported only when a run starts, so reading
the registry (config validation, preflight, `runcard sweep`) never imports torch or transformers.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from runcard.recipes.base_config import RunConfig
from runcard.recipes.preflight_checks import Check

if TYPE_CHECKING:
    from runcard.recipes.progress import Reporter
    from runcard.recipes.results import RecipeResult
    from runcard.store import Store

#: A recipe's own preflight checks: ``(validated config, config folder, store or None) -> checks``. The config is
#: ``Any`` because each recipe's function takes its own config model.
Checks = Callable[[Any, Path, "Store | None"], list[Check]]


def no_checks(config: Any, base: Path, store: Store | None) -> list[Check]:
    """For a recipe that needs nothing beyond the generic checks."""
    return []


@dataclass(frozen=True)
class Recipe:
    """One recipe, as ``experiment.recipe = name`` selects it.

    ``config``: its config model (validated with ``model_validate``). ``entry``: ``"module:function"`` of the run
    function, called as ``function(config, base, store, reporter=...)`` (and ``quick=`` when ``quick``).
    ``packages``: ``(module, install)`` pairs the recipe imports, for preflight's package check. ``objectives``:
    the RL objectives ``rl.objectives`` may list (`runcard run --objective`). ``quick``: it has a ``[quick]``
    setting (`runcard run --quick`). ``checks``: its own preflight checks (data files, encoder ...). ``outputs``:
    dotted config keys of the folders a run writes besides ``report.out_dir``."""

    name: str
    config: type[BaseModel]
    entry: str
    packages: tuple[tuple[str, str], ...] = ()
    objectives: tuple[str, ...] = ()
    quick: bool = False
    checks: Checks = no_checks
    outputs: tuple[str, ...] = ()

    def run_function(self) -> Callable[..., RecipeResult]:
        """The run function ``entry`` names (its module imported now)."""
        module, _, attribute = self.entry.partition(":")
        function: Callable[..., RecipeResult] = getattr(importlib.import_module(module), attribute)
        return function

    def run(self, config: RunConfig, base: Path, store: Store, *, reporter: Reporter, quick: bool = False
            ) -> RecipeResult:
        """Run an already validated ``config`` (relative paths against ``base``) into ``store``."""
        options = {"quick": quick} if self.quick else {}
        return self.run_function()(config, base, store, reporter=reporter, **options)
