"""The softlabel_encoder recipe: a head over a frozen or fine-tuned encoder trained to match human label
distributions, end to end and tracked.

``config.py`` is its config, ``data.py`` reads and splits the items, ``recipe.py`` is the experiment.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from runcard.recipes.encoders import ENCODER_PACKAGES
from runcard.recipes.preflight_checks import Check, data_file_checks, encoder_checks
from runcard.recipes.softlabel_encoder.config import SoftConfig
from runcard.recipes.spec import Recipe

if TYPE_CHECKING:
    from runcard.store import Store


def recipe_checks(config: SoftConfig, base: Path, store: Store | None) -> list[Check]:
    """Each data file, then the encoder."""
    return data_file_checks(config.data.paths, base) + encoder_checks(config.encoder.path, base)


RECIPE = Recipe("softlabel_encoder", SoftConfig, "runcard.recipes.softlabel_encoder.recipe:run_softlabel",
                packages=ENCODER_PACKAGES, checks=recipe_checks, outputs=("encoder.cache_dir",))
