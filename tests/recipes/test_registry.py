"""runcard.recipes.registry: every recipe in one place, each record agreeing with its config and its run function,
and reading the registry (config validation, preflight, sweeps) never imports the training libraries."""

from __future__ import annotations

import inspect
import subprocess
import sys
import typing
from pathlib import Path

import pytest

from runcard.errors import InputError
from runcard.recipes.config import validate_config
from runcard.recipes.registry import DEFAULT_RECIPE, RECIPES, get_recipe, with_objectives, with_quick


def test_every_record_names_the_recipe_its_config_accepts() -> None:
    assert list(RECIPES) == ["tfidf_mlp", "multitask_encoder", "softlabel_encoder", "polychromic"]
    for name, recipe in RECIPES.items():
        assert recipe.name == name
        experiment = recipe.config.model_fields["experiment"].annotation
        assert typing.get_args(experiment.model_fields["recipe"].annotation) == (name,)  # type: ignore[union-attr]


def test_every_entry_point_takes_config_base_store_and_reporter() -> None:
    for recipe in RECIPES.values():
        parameters = inspect.signature(recipe.run_function()).parameters
        assert list(parameters)[:3] == ["config", "base", "store"] and "reporter" in parameters
        assert ("quick" in parameters) == recipe.quick, recipe.name


def test_objectives_and_quick_come_from_the_records() -> None:
    assert [r.name for r in with_objectives()] == ["polychromic"]
    assert RECIPES["polychromic"].objectives == ("polychromic", "documented")
    assert [r.name for r in with_quick()] == ["multitask_encoder"]


def test_an_unknown_recipe_is_named_with_the_choices() -> None:
    with pytest.raises(InputError, match=r'exp.toml: experiment.recipe = \'bert\' is not a recipe; use "tfidf_mlp", '
                                         r'"multitask_encoder", "softlabel_encoder" or "polychromic"'):
        validate_config({"experiment": {"project": "p", "name": "n", "recipe": "bert"}}, "exp.toml")
    assert get_recipe(None, "exp.toml").name == DEFAULT_RECIPE


def test_reading_the_registry_imports_no_training_library() -> None:
    code = ("import sys, runcard.recipes.registry, runcard.recipes.preflight; heavy = ('torch', 'transformers', "
            "'sklearn', 'tokenizers', 'sacrebleu'); print(sorted(m for m in heavy if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_new_recipe_is_its_package_and_one_registry_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`tests/recipes/toy_recipe` is a whole recipe (config model, checks, run function); the one line below is all
    the registration it gets, and config validation, preflight and `run_config` all find it."""
    from runcard.recipes import registry, run_config
    from runcard.store import open_store
    from tests.recipes import toy_recipe

    monkeypatch.setitem(registry.RECIPES, "toy", toy_recipe.RECIPE)  # the one registry line
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "toy.toml"
    config.write_text('[experiment]\nproject = "toys"\nname = "first"\nrecipe = "toy"\n\n[data]\nrows = 300\n',
                      encoding="utf-8")
    store = open_store(f"sqlite:///{tmp_path / 'runs.db'}")
    result = run_config(config, store, quiet=True)
    from runcard.runs import list_runs

    [run] = list_runs("toys", store)
    assert run.id == result.run_id and run.status == "finished" and run.config["data"]["rows"] == 300
    assert result.run_id in result.card_markdown.read_text(encoding="utf-8")
    assert result.verdict  # the card's Result block, read from the stored evaluation

    config.write_text('[experiment]\nproject = "toys"\nname = "x"\nrecipe = "toy"\n\n[data]\nrows = 0\n',
                      encoding="utf-8")
    with pytest.raises(InputError, match=r"data\.rows.*no rows to train on"):
        run_config(config, store, quiet=True)  # the recipe's own preflight check, asked through its record
    config.write_text('[experiment]\nproject = "toys"\nname = "x"\nrecipe = "toy"\n\n[data]\nrowz = 3\n',
                      encoding="utf-8")
    with pytest.raises(InputError, match="rowz"):
        run_config(config, store, quiet=True)  # its config model validates, naming the unknown key
