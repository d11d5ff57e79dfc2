"""The sweep file: parsing, every rejection (naming the key), and the points grid and random draw."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import numpy as np
import pytest

from runcard.errors import InputError
from runcard.sweep import Choices, Range, Sweep, grid_points, load_sweep, parse_sweep, random_points

EXAMPLE = """
[sweep]
config = "chaosnli_softlabel.toml"
method = "random"
trials = 12
workers = 2
seeds = [0, 1]
seed = 0
objective = "val/kl"
direction = "minimize"
sort = "test/kl"
group_by = "loss.entropy_reg"
name = "reg-sweep"

[space]
"loss.entropy_reg" = [0.0, 0.05, 0.1]
"train.lr" = { low = 1e-4, high = 1e-2, log = true }
"head.depth" = { choices = [1, 2] }
"""


def parse(text: str, base: Path = Path("/work/sweeps")) -> Sweep:
    return parse_sweep(tomllib.loads(text), "sweep.toml", base)


def test_the_documented_example_parses() -> None:
    sweep = parse_sweep(tomllib.loads(EXAMPLE), "sweeps/reg.toml", Path("/work/sweeps"))
    s = sweep.settings
    assert (s.method, s.trials, s.workers, s.seeds, s.objective, s.direction) == ("random", 12, 2, [0, 1], "val/kl",
                                                                                   "minimize")
    assert (s.sort, s.group_by, sweep.name) == ("test/kl", "loss.entropy_reg", "reg-sweep")
    assert sweep.config_path == Path("/work/sweeps/chaosnli_softlabel.toml")
    assert sweep.space["loss.entropy_reg"] == Choices(choices=[0.0, 0.05, 0.1])
    assert sweep.space["head.depth"] == Choices(choices=[1, 2])
    lr = sweep.space["train.lr"]
    assert isinstance(lr, Range) and lr.log and not lr.integer
    assert (sweep.n_points, sweep.n_trials) == (6, 12)  # trials counts points x seeds


def test_defaults_and_the_name_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "lr-grid.toml"
    path.write_text('[sweep]\nconfig = "base.toml"\n[space]\n"train.lr" = [0.1, 0.01]\n"model.hidden" = [[8], [16]]\n')
    sweep = load_sweep(path)
    assert (sweep.name, sweep.settings.method, sweep.settings.workers, sweep.settings.seeds) == ("lr-grid", "grid", 1,
                                                                                               [0])
    assert sweep.config_path == tmp_path / "base.toml" and sweep.n_trials == 4


@pytest.mark.parametrize(("text", "expected"), [
    ('[sweep]\nconfig = "a.toml"\ntrails = 3\n[space]\n"x.y" = [1]', "unknown key 'sweep.trails'"),
    ('[sweep]\nconfig = "a.toml"\n[space]\n"x.y" = [1]\n[extra]\na = 1', "unknown key 'extra'"),
    ('[sweep]\nconfig = "a.toml"\nmethod = "random"\ntrials = 2\n[space]\n"train.lr" = { low = 1, high = 2, lg = 1 }',
     "space.'train.lr': unknown key 'lg'"),
    ('[sweep]\nconfig = "a.toml"\nmethod = "bayes"\n[space]\n"x.y" = [1]', "sweep.method"),
    ('[sweep]\n[space]\n"x.y" = [1]', "missing key 'sweep.config'"),
    ('[sweep]\nconfig = "a.toml"\n[space]', "space"),
])
def test_unknown_and_missing_keys_are_named(text: str, expected: str) -> None:
    with pytest.raises(InputError, match=r"sweep\.toml") as info:
        parse(text)
    assert expected in str(info.value)


def test_a_range_in_a_grid_is_an_error() -> None:
    with pytest.raises(InputError, match=r"space\.'train\.lr' is a range.*random"):
        parse('[sweep]\nconfig = "a.toml"\n[space]\n"model.dropout" = [0.1]\n"train.lr" = { low = 0.1, high = 1.0 }')


def test_a_grid_larger_than_the_budget_is_an_error() -> None:
    text = '[sweep]\nconfig = "a.toml"\ntrials = 4\nseeds = [0, 1]\n[space]\n"train.lr" = [1, 2, 3]'
    with pytest.raises(InputError, match=r"3 points x 2 seeds = 6 trials, more than trials = 4"):
        parse(text)
    assert parse(text.replace("trials = 4", "trials = 6")).n_trials == 6


@pytest.mark.parametrize(("text", "expected"), [
    ('method = "random"', "trials is missing"),
    ('method = "tpe"\ntrials = 4', "objective is missing"),
    ('method = "random"\ntrials = 3\nseeds = [0, 1]', "not a multiple of the 2 seeds"),
    ("seeds = [1, 1]", "distinct"),
])
def test_settings_that_cannot_work_are_errors(text: str, expected: str) -> None:
    with pytest.raises(InputError, match=expected):
        parse(f'[sweep]\nconfig = "a.toml"\n{text}\n[space]\n"train.lr" = {{ choices = [0.1, 0.2] }}')


@pytest.mark.parametrize(("entry", "expected"), [
    ('"experiment.seed" = [1, 2]', "list seeds in \\[sweep\\] seeds"),
    ('"experiment.tags.sweep" = ["a"]', "cannot be swept"),
    ('"train..lr" = [1]', "dotted config key"),
    ('"train.lr" = { low = 2, high = 1 }', "low \\(2\\) must be below high \\(1\\)"),
    ('"train.lr" = { low = 0.0, high = 1.0, log = true }', "log range needs low > 0"),
    ('"train.lr" = { choices = [] }', "space.'train.lr'"),
    ('"train.lr" = 0.1', "give a list of values"),
])
def test_bad_space_entries_are_errors(entry: str, expected: str) -> None:
    with pytest.raises(InputError, match=expected):
        parse(f'[sweep]\nconfig = "a.toml"\nmethod = "random"\ntrials = 2\n[space]\n{entry}')


def test_unreadable_files_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such sweep file"):
        load_sweep(tmp_path / "missing.toml")
    (tmp_path / "bad.toml").write_text("[sweep\n")
    with pytest.raises(InputError, match="not valid TOML"):
        load_sweep(tmp_path / "bad.toml")


def test_grid_points_are_the_product_first_key_slowest() -> None:
    space = {"a": Choices(choices=[1, 2]), "b": Choices(choices=["x", "y", "z"]), "c": Choices(choices=[[8, 8]])}
    points = grid_points(space)
    assert points == [{"a": a, "b": b, "c": [8, 8]} for a in (1, 2) for b in ("x", "y", "z")]
    points[0]["c"].append(1)
    assert points[1]["c"] == [8, 8]  # each point owns its values
    with pytest.raises(InputError, match="range"):
        grid_points({"a": Range(low=0.0, high=1.0)})


def test_random_points_are_reproducible_for_a_seed() -> None:
    space = {"lr": Range(low=1e-4, high=1e-2, log=True), "depth": Choices(choices=[1, 2, 3]),
             "width": Range(low=8, high=64)}
    assert random_points(space, 20, seed=3) == random_points(space, 20, seed=3)
    assert random_points(space, 20, seed=3) != random_points(space, 20, seed=4)
    first = random_points(space, 5, seed=3)
    assert random_points(space, 20, seed=3)[:5] == first  # more trials extend the same sequence


def test_log_ranges_are_log_uniform_within_bounds() -> None:
    points = random_points({"lr": Range(low=1e-4, high=1e-2, log=True)}, 4000, seed=0)
    values = np.array([p["lr"] for p in points])
    assert values.min() >= 1e-4 and values.max() <= 1e-2 and all(isinstance(v, float) for v in values)
    logs = np.log10(values)
    # log-uniform: log10 is uniform on [-4, -2]; each half of that interval holds about half the draws
    assert abs(logs.mean() - (-3.0)) < 0.05
    assert abs((logs < -3).mean() - 0.5) < 0.03
    linear = np.array([p["lr"] for p in random_points({"lr": Range(low=1e-4, high=1e-2)}, 4000, seed=0)])
    assert abs((linear < 5.05e-3).mean() - 0.5) < 0.03  # uniform: half below the midpoint


def test_integer_ranges_draw_integers_including_both_ends() -> None:
    values = [p["n"] for p in random_points({"n": Range(low=1, high=4)}, 400, seed=1)]
    assert all(type(v) is int for v in values) and set(values) == {1, 2, 3, 4}
    logs = [p["n"] for p in random_points({"n": Range(low=1, high=1000, log=True)}, 2000, seed=1)]
    assert all(type(v) is int and 1 <= v <= 1000 for v in logs)
    assert abs(np.mean([math.log10(v) for v in logs]) - 1.5) < 0.15  # log-uniform over 1..1000
    floats = [p["x"] for p in random_points({"x": Range(low=1, high=2.5)}, 50, seed=1)]
    assert all(type(v) is float for v in floats)  # a float bound gives floats
