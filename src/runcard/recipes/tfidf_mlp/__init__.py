"""The tfidf_mlp recipe: TF-IDF features -> MLP (or logistic regression), end to end and tracked.

``config.py`` is its config, ``data.py`` reads, splits and audits the data, ``recipe.py`` is the experiment.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from runcard.recipes.preflight_checks import Check, check_package, data_file_checks
from runcard.recipes.spec import Recipe
from runcard.recipes.tfidf_mlp.config import TfidfConfig

if TYPE_CHECKING:
    from runcard.store import Store


def recipe_checks(config: TfidfConfig, base: Path, store: Store | None) -> list[Check]:
    """Each local data file; a Hugging Face dataset is read from the local cache at run time (not checked here),
    and needs `datasets`."""
    data = config.data
    if data.hf_dataset:
        return [check_package("datasets", "data.hf_dataset", "pip install datasets"),
                Check("data", "data.hf_dataset", data.hf_dataset, True, "read from the local Hugging Face cache at run "
                      "time (not checked here)", info=True)]
    return data_file_checks(data.paths, base, layout=data.layout)


RECIPE = Recipe(
    "tfidf_mlp", TfidfConfig, "runcard.recipes.tfidf_mlp.recipe:run_recipe",
    packages=(("torch", "pip install -e '.[train]'"), ("sklearn", "pip install -e '.[train]' (scikit-learn)")),
    checks=recipe_checks)
