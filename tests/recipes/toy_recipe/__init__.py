"""A recipe made only for the test that adding one takes its package and one registry line: its config model,
its `Recipe` record and, in ``recipe.py``, its run function (which logs a prediction file and writes the card)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from runcard.recipes.base_config import EvaluationConfig, ExperimentBase, ReportConfig, Strict
from runcard.recipes.preflight_checks import Check
from runcard.recipes.spec import Recipe
from runcard.store import Store


class ToyExperiment(ExperimentBase):
    recipe: Literal["toy"] = "toy"


class ToyData(Strict):
    rows: int = 200


class ToyConfig(Strict):
    experiment: ToyExperiment
    data: ToyData = ToyData()
    evaluation: EvaluationConfig = EvaluationConfig()
    report: ReportConfig = ReportConfig()


def toy_checks(config: ToyConfig, base: Path, store: Store | None) -> list[Check]:
    """One check of its own, failing for an empty data set, so the test sees preflight ask the recipe."""
    ok = config.data.rows > 0
    return [Check("data", "data.rows", str(config.data.rows), ok, "" if ok else "no rows to train on")]


RECIPE = Recipe("toy", ToyConfig, "tests.recipes.toy_recipe.recipe:run_toy", checks=toy_checks)
