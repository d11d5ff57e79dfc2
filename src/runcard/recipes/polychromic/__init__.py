"""The polychromic recipe: a small GPT-2 pre-trained on tweets, then fine-tuned with set-level RL (the polychromic
objective) against the documented objective it was named after, one run per arm.

The experiment: ``recipe.py`` (the supervised run, then every arm, then the summary), ``arm.py`` (what every run
shares, and one RL arm), ``workers.py`` (arms on several processes), ``closing_summary.py`` (the closing summary) with its
tables in ``closing_tables.py``; its config in ``config.py``. Its pieces: the tweet corpus, topics and prompts
(``corpus.py``), the checker's rules and classifiers (``checker.py``), set scoring and advantages (``sets.py``),
the language model (``lm.py``), pre-training and the RL steps (``train.py``), held-out evaluation
(``held_out.py``). ``sets`` and the checker's rules are pure functions over arrays; ``lm``, ``train`` and
``held_out`` need PyTorch, transformers and tokenizers (imported on first use).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from runcard.recipes.polychromic.config import OBJECTIVES, PolyConfig
from runcard.recipes.preflight_checks import Check, data_file_checks
from runcard.recipes.spec import Recipe

if TYPE_CHECKING:
    from runcard.store import Store


def recipe_checks(config: PolyConfig, base: Path, store: Store | None) -> list[Check]:
    """Each tweet file."""
    return data_file_checks(config.data.paths, base)


RECIPE = Recipe(
    "polychromic", PolyConfig, "runcard.recipes.polychromic.recipe:run_polychromic",
    packages=tuple((module, f"pip install -e '.[polychromic]' ({name})") for module, name in (
        ("torch", "torch"), ("transformers", "transformers"), ("tokenizers", "tokenizers"),
        ("sklearn", "scikit-learn"), ("sacrebleu", "sacrebleu"))),
    objectives=OBJECTIVES, checks=recipe_checks)
