"""The multi-task encoder recipe: config, joint stratification, and short end-to-end runs on a tiny
random-initialised BERT built from a config object (no download)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from runcard.errors import InputError
from runcard.recipes import load_config, run_config
from runcard.recipes.multitask_encoder.data import load_multitask
from runcard.runs import get_run
from runcard.store import ArtifactError, open_store
from tests.report.cards import assert_recipe_card_is_the_stored_card

STANCE = ["AGAINST", "FAVOR", "NONE"]
SENTIMENT = ["NEGATIVE", "POSITIVE", "NEITHER"]
WORDS = {"AGAINST": "never wrong bad", "FAVOR": "support great yes", "NONE": "weather lunch bus",
         "NEGATIVE": "angry sad awful", "POSITIVE": "happy love joy", "NEITHER": "table chair door"}


def write_data(folder: Path, n: int, seed: int, name: str) -> Path:
    """Tweets whose words carry both labels; NEITHER rare (about 8 %)."""
    rng = np.random.default_rng(seed)
    path = folder / name
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "tweet", "stance", "sentiment"])
        for i in range(n):
            st = STANCE[rng.choice(3, p=[0.5, 0.25, 0.25])]
            se = SENTIMENT[rng.choice(3, p=[0.6, 0.32, 0.08])]
            w.writerow([f"{name}-{i}", f"{WORDS[st]} {WORDS[se]} item {i}", st, se])
    return path


def write_config(folder: Path, encoder: Path, extra: str = "", *, train: str = "epochs = 2") -> Path:
    write_data(folder, 240, 0, "train.csv")
    write_data(folder, 90, 1, "test.csv")
    path = folder / "exp.toml"
    path.write_text(f"""
[experiment]
project = "mt"
name = "tiny"
recipe = "multitask_encoder"

[data]
paths = ["train.csv", "test.csv"]
text = ["tweet"]
id = "id"

[data.tasks.stance]
column = "stance"
classes = {STANCE!r}

[data.tasks.sentiment]
column = "sentiment"
classes = {SENTIMENT!r}

[split]
sizes = {{ train = 180, val = 60 }}
from_file = {{ test = "test.csv" }}

[encoder]
path = "{encoder}"
max_length = 16
pooling = "mean_last_k"
last_k = 2

[head]
depth = 2
hidden = 16

[train]
{train}
lr = 1e-3
batch_size = 16
threads = 1

[targets."test/macro_f1"]
target = 0.75

[report]
out_dir = "{folder / 'cards'}"
{extra}
""")
    return path


def test_joint_stratification_keeps_every_combination_share(tmp_path: Path) -> None:
    write_data(tmp_path, 600, 3, "pool.csv")
    write_data(tmp_path, 50, 4, "official_test.csv")
    (tmp_path / "c.toml").write_text(f"""
[experiment]
project = "p"
name = "n"
recipe = "multitask_encoder"
[data]
paths = ["pool.csv", "official_test.csv"]
text = ["tweet"]
[data.tasks.stance]
column = "stance"
classes = {STANCE!r}
[data.tasks.sentiment]
column = "sentiment"
classes = {SENTIMENT!r}
[split]
sizes = {{ train = 400, val = 200 }}
from_file = {{ test = "official_test.csv" }}
[train]
epochs = 1
lr = 1e-4
""")
    config, base = load_config(tmp_path / "c.toml")
    data = load_multitask(config.data, config.split, base)
    assert {k: len(v) for k, v in data.splits.items()} == {"train": 400, "val": 200, "test": 50}
    assert all(data.origin[i].startswith("official_test.csv:") for i in data.splits["test"])
    pool = np.concatenate([data.splits["train"], data.splits["val"]])
    joint = data.labels["stance"] * 3 + data.labels["sentiment"]
    for cell in np.unique(joint[pool]):
        total = int(np.sum(joint[pool] == cell))
        in_val = int(np.sum(joint[data.splits["val"]] == cell))
        # largest remainders: each cell's val count is within one row of its exact share (then totals fixed)
        assert abs(in_val - total * 200 / 600) <= 1.5
    assert sorted(np.concatenate(list(data.splits.values())).tolist()) == list(range(650))


def test_config_errors_name_the_key(tmp_path: Path, tiny_encoder: Path) -> None:
    path = write_config(tmp_path, tiny_encoder, '[sampler]\ntask = "sentiment"\nmultipliers = { NOPE = 2.0 }')
    with pytest.raises(InputError, match=r"sampler.*NOPE"):
        load_config(path)
    path.write_text(path.read_text().replace("[sampler]", "[samplr]"))
    with pytest.raises(InputError, match="unknown key 'samplr'"):
        load_config(path)


def test_a_label_outside_the_classes_names_its_row(tmp_path: Path, tiny_encoder: Path) -> None:
    path = write_config(tmp_path, tiny_encoder)
    text = (tmp_path / "train.csv").read_text().replace(",NEITHER", ",MIXED", 1)
    (tmp_path / "train.csv").write_text(text)
    config, base = load_config(path)
    with pytest.raises(InputError, match=r"train.csv:\d+: task 'sentiment' has label 'MIXED'"):
        load_multitask(config.data, config.split, base)


IMBALANCE = """
[loss.stance]
kind = "focal"
gamma = 2.0
label_smoothing = 0.1
class_weights = { method = "effective", beta = 0.99, boosts = { NONE = 1.2 }, cap = 3.0 }

[loss.sentiment]
kind = "focal"
gamma = 2.5
label_smoothing = 0.08
weight = 1.3
class_weights = { method = "inverse", cap = 4.0 }

[sampler]
task = "sentiment"
multipliers = { NEITHER = 2.0 }

[rdrop]
alpha = 0.6
after_epoch = 1
"""


@pytest.fixture(scope="module")
def imbalance_run(tmp_path_factory: pytest.TempPathFactory, tiny_encoder: Path) -> tuple[Any, Any]:
    """One short run with every piece of the toolkit switched on."""
    folder = tmp_path_factory.mktemp("imbalance")
    path = write_config(folder, tiny_encoder, IMBALANCE,
                        train="epochs = 2\naccumulation = 2\nlayer_decay = 0.9\nhead_lr_multiplier = 3.0\n"
                              "warmup_ratio = 0.2\ngrad_clip = 0.5")
    store = open_store(f"sqlite:///{folder / 'runs.db'}")
    return run_config(path, store, quiet=True), store


def test_end_to_end_on_a_tiny_random_bert(imbalance_run: tuple[Any, Any]) -> None:
    result, store = imbalance_run
    run = get_run(result.run_id, store)
    assert run.status == "finished"
    assert set(run.stages) >= {"data", "tokenize", "train", "evaluate", "calibrate"}
    # every split of every task, predicted with the checkpoint that is in the store
    checkpoint = next(a for a in run.artifacts if a.kind == "checkpoint")
    preds = [a for a in run.artifacts if a.kind == "predictions"]
    assert sorted((a.meta["split"], a.meta["task"]) for a in preds) == sorted(
        (s, t) for s in ("train", "val", "test") for t in ("stance", "sentiment"))
    assert {a.meta["checkpoint"] for a in preds} == {checkpoint.sha256}
    # R-Drop ran after its warm-up epoch and is logged as a loss term
    assert [s for s, _ in run.history("loss_terms/rdrop")] == [2]
    assert len(run.history("val/sentiment/macro_f1")) == 2
    # the logged test macro-F1 is the mean over tasks of what the stored predictions give
    from sklearn.metrics import f1_score

    per_task = []
    for task in ("stance", "sentiment"):
        table = run.predictions(f"test/{task}")
        per_task.append(f1_score(table.y_true, table.probs.argmax(1), average="macro", labels=[0, 1, 2]))
    assert run.evaluated["test/macro_f1"] == pytest.approx(np.mean(per_task))
    card = result.card_markdown.read_text()
    for heading in ("## Task stance: calibration and decision rules", "## Cross-task breakdown (test)",
                    "## Targets", "test/sentiment (90 rows)", "F1 per class under each rule"):
        assert heading in card
    assert_recipe_card_is_the_stored_card(store, result.card_markdown, result.card_html, run.id)


def test_the_multitask_card_loads_cleanly_in_chromium(imbalance_run: tuple[Any, Any]) -> None:
    from tests.report.test_documents import render_in_chromium

    result, _ = imbalance_run
    assert result.card_html is not None
    dom, console = render_in_chromium(result.card_html)
    assert console == []
    for section in ('id="task-stance"', 'id="task-sentiment"', 'id="cross-task"', 'id="targets"',
                    'id="results-test/sentiment"'):
        assert section in dom


def test_a_missing_checkpoint_stops_the_run(tmp_path: Path, tiny_encoder: Path, monkeypatch: Any) -> None:
    import runcard.recipes.multitask_encoder.recipe as recipe

    real = recipe.save_checkpoint

    def save_then_lose(run: Any, *args: Any) -> str:
        sha = real(run, *args)
        stored = next(a for a in run.store.get_run(run.id).artifacts if a.kind == "checkpoint")
        for file in sorted(Path(run.store.artifacts.root, stored.path).rglob("heads.pt")):
            file.unlink()
        return sha

    monkeypatch.setattr(recipe, "save_checkpoint", save_then_lose)
    path = write_config(tmp_path, tiny_encoder, train="epochs = 1")
    store = open_store(f"sqlite:///{tmp_path / 'runs.db'}")
    with pytest.raises(ArtifactError, match=r"run [0-9a-f]+ checkpoint 'multitask_encoder'.*refusing to use it"):
        run_config(path, store, quiet=True)
    (run,) = store.list_runs()
    assert run.status == "failed"
    assert not [a for a in run.artifacts if a.kind == "predictions"]  # nothing evaluated from other weights


def test_ctrl_c_leaves_a_failed_run_with_what_was_logged(tmp_path: Path, tiny_encoder: Path, monkeypatch: Any) -> None:
    import runcard.recipes.multitask_encoder.recipe as recipe

    def interrupted(*args: Any) -> dict[str, float]:
        raise KeyboardInterrupt

    monkeypatch.setattr(recipe, "_validate", interrupted)
    path = write_config(tmp_path, tiny_encoder, train="epochs = 2")
    store = open_store(f"sqlite:///{tmp_path / 'runs.db'}")
    with pytest.raises(KeyboardInterrupt):
        run_config(path, store, quiet=True)
    (run,) = store.list_runs()
    assert run.status == "failed" and "KeyboardInterrupt" in (run.error or "")
    assert run.history("loss_terms/stance/raw")  # the first epoch's losses were kept
    assert "data" in run.stages


def test_cli_ctrl_c_before_any_run_exits_130_and_says_nothing_was_recorded(tmp_path: Path, monkeypatch: Any) -> None:
    from typer.testing import CliRunner

    from runcard.cli import run_cmd
    from runcard.cli.app import app

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(run_cmd, "run_config", interrupted)
    result = CliRunner().invoke(app, ["run", str(tmp_path / "x.toml"), "--store", f"sqlite:///{tmp_path}/r.db"])
    assert result.exit_code == 130
    # interrupted before run_config created a run: the store holds none, and the message says so
    assert "nothing was recorded" in result.output and "marked failed" not in result.output


def test_quick_is_refused_for_a_recipe_without_it(tmp_path: Path) -> None:
    examples = Path(__file__).resolve().parents[2] / "examples"
    with pytest.raises(InputError, match="--quick is for the multitask_encoder recipe"):
        run_config(examples / "agnews_actions.toml", open_store(f"sqlite:///{tmp_path}/r.db"), quick=True)
