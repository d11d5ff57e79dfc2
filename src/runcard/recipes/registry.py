"""Every recipe `runcard run` knows, by the name a config's ``experiment.recipe`` gives.

`runcard run`, `runcard run --from`, `runcard sweep`, config validation and preflight all read `RECIPES`. A new
recipe is a package ``runcard/recipes/<name>/`` whose ``__init__.py`` defines its `Recipe` record as ``RECIPE``,
plus its entry in `RECIPES` below. Importing this module imports each recipe's config model and preflight checks,
never its run code (nor torch or transformers).
"""

from __future__ import annotations

from runcard.errors import InputError
from runcard.recipes import multitask_encoder, polychromic, softlabel_encoder, tfidf_mlp
from runcard.recipes.spec import Recipe

#: name -> recipe, in the order documents list them.
RECIPES: dict[str, Recipe] = {r.name: r for r in (
    tfidf_mlp.RECIPE, multitask_encoder.RECIPE, softlabel_encoder.RECIPE, polychromic.RECIPE)}

#: The recipe of a config without ``experiment.recipe`` (configs written when it was the only one).
DEFAULT_RECIPE = "tfidf_mlp"


def _choices(names: list[str]) -> str:
    quoted = [f'"{n}"' for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def get_recipe(name: object, source: str) -> Recipe:
    """The recipe ``name`` (None: `DEFAULT_RECIPE`); `InputError` naming ``source`` and the recipes otherwise."""
    name = DEFAULT_RECIPE if name is None else name
    recipe = RECIPES.get(name) if isinstance(name, str) else None
    if recipe is None:
        raise InputError(f"{source}: experiment.recipe = {name!r} is not a recipe; use {_choices(list(RECIPES))} "
                         "(docs/recipes.md).")
    return recipe


def with_objectives() -> list[Recipe]:
    """The recipes whose configs list RL objectives (``rl.objectives``), which `runcard run --objective` narrows."""
    return [r for r in RECIPES.values() if r.objectives]


def with_quick() -> list[Recipe]:
    """The recipes with a ``[quick]`` setting (`runcard run --quick`)."""
    return [r for r in RECIPES.values() if r.quick]
