"""The multitask_encoder recipe: several classification tasks over one BERT-family encoder, with the imbalance
toolkit, end to end and tracked.

``config.py`` is its config, ``data.py`` reads, splits and audits the data, ``recipe.py`` is the experiment.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from runcard.recipes.encoders import ENCODER_PACKAGES
from runcard.recipes.multitask_encoder.config import MultiTaskConfig
from runcard.recipes.preflight_checks import Check, data_file_checks, encoder_checks
from runcard.recipes.spec import Recipe

if TYPE_CHECKING:
    from runcard.store import Store


def recipe_checks(config: MultiTaskConfig, base: Path, store: Store | None) -> list[Check]:
    """Each data file (the ones ``split.from_file`` reads named as such), then the encoder."""
    from_file = {entry: split for split, entry in config.split.from_file.items()}
    return (data_file_checks(config.data.paths, base, from_file=from_file)
            + encoder_checks(config.encoder.path, base, random_init=config.encoder.random_init))


RECIPE = Recipe("multitask_encoder", MultiTaskConfig, "runcard.recipes.multitask_encoder.recipe:run_multitask",
                packages=ENCODER_PACKAGES, quick=True, checks=recipe_checks)
