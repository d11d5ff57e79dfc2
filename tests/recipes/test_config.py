"""Recipe config validation: unknown keys, missing keys, bad values and bad expressions are errors
that name the key."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from runcard.derived import evaluate, validate
from runcard.errors import InputError
from runcard.recipes.config import load_config

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    original = (ROOT / "examples" / "agnews_actions.toml").read_text()
    path = tmp_path / "c.toml"
    path.write_text(original + "\n" + text if text.startswith("[") else text)
    return path


def test_both_example_configs_are_valid() -> None:
    for name in ("agnews_actions.toml", "agnews_actions_logreg.toml"):
        config, base = load_config(ROOT / "examples" / name)
        assert base == ROOT / "examples" and config.data.labels.classes[3] == "ContractUpdate"
    mlp, _ = load_config(ROOT / "examples" / "agnews_actions.toml")
    assert mlp.model.hidden == [64] and mlp.train.lr == 1e-3 and mlp.features.max_features == 1500


@pytest.mark.parametrize(("edit", "message"), [
    ({"train.learning_rate": 0.1}, "unknown key 'train.learning_rate'"),
    ({"train.lr": -1}, "train.lr: Input should be greater than 0"),
    ({"model.dropout": 1.5}, "model.dropout"),
    ({"split.sizes": {"train": 10, "val": 5}}, "split.sizes"),
    ({"data.labels.map": {"1": "Nope"}}, "Nope"),
    ({"experiment.recipe": "bert"}, "experiment.recipe"),
])
def test_bad_configs_name_the_key(edit: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_config(ROOT / "examples" / "agnews_actions.toml", overrides=edit)


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such config file"):
        load_config(tmp_path / "none.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[train\nlr = 1")
    with pytest.raises(InputError, match="not valid TOML"):
        load_config(bad)
    missing = tmp_path / "missing.toml"
    missing.write_text('[experiment]\nproject = "p"\nname = "n"\n')
    with pytest.raises(InputError, match="missing key 'data'"):
        load_config(missing)


def test_derived_expressions_against_numpy() -> None:
    classes = ["A", "B", "C"]
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
    out = evaluate({"scope": "P['B'] + 2 * P['C']", "files": "1 + 4.5 * scope",
                    "pass30": "1 - (1 - (0.5 + 0.5 * max_prob)) ** 30", "h": "entropy", "l": "log(P['A'])"},
                   probs, classes)
    np.testing.assert_allclose(out["scope"], probs[:, 1] + 2 * probs[:, 2])
    np.testing.assert_allclose(out["files"], 1 + 4.5 * (probs[:, 1] + 2 * probs[:, 2]))
    np.testing.assert_allclose(out["pass30"], 1 - (1 - (0.5 + 0.5 * probs.max(1))) ** 30)
    np.testing.assert_allclose(out["h"], -(probs * np.log(probs)).sum(1))
    np.testing.assert_allclose(out["l"], np.log(probs[:, 0]))


@pytest.mark.parametrize(("expr", "message"), [
    ("P['Z']", "names no class"), ("foo + 1", "unknown name 'foo'"), ("__import__('os')", "not allowed"),
    ("P['A'].real", "not allowed"), ("1 +", "not a valid expression"), ("[1, 2]", "not allowed"),
])
def test_derived_expressions_refuse_anything_else(expr: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        validate({"x": expr}, ["A", "B"])
