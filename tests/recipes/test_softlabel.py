"""The soft-label recipe: reading label distributions, frozen and fine-tuned runs on a tiny random
BERT, the feature cache, and the card's soft-label sections against scipy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from scipy.spatial.distance import jensenshannon
from scipy.stats import entropy as scipy_entropy

from runcard.errors import InputError
from runcard.recipes import load_config, run_config
from runcard.recipes.softlabel_encoder.data import load_soft
from runcard.report.soft import baselines, entropy_bins
from runcard.runs import get_run
from runcard.store import open_store
from runcard.table import table_from_arrays
from tests.report.cards import assert_recipe_card_is_the_stored_card

CLASSES = ["entailment", "neutral", "contradiction"]


def write_items(path: Path, n: int, seed: int = 0) -> None:
    """ChaosNLI-shaped JSON lines: nested premise/hypothesis, a 3-way distribution of 100 votes."""
    rng = np.random.default_rng(seed)
    words = ["cat", "dog", "sat", "ran", "mat", "park", "not", "never", "maybe", "big"]
    with path.open("w") as fh:
        for i in range(n):
            counts = rng.multinomial(100, rng.dirichlet([2.0, 1.5, 1.0]))
            premise = " ".join(rng.choice(words, size=6))
            record = {"uid": f"u{i}", "label_dist": (counts / 100).tolist(),
                      "example": {"premise": premise, "hypothesis": f"{premise} {words[int(counts.argmax())]}"}}
            fh.write(json.dumps(record) + "\n")


def write_config(folder: Path, encoder: Path, mode: str = "frozen", extra: str = "") -> Path:
    write_items(folder / "items.jsonl", 150)
    path = folder / "soft.toml"
    path.write_text(f"""
[experiment]
project = "soft"
name = "tiny-{mode}"
recipe = "softlabel_encoder"

[data]
paths = ["items.jsonl"]
text = ["example.premise", "example.hypothesis"]
target = "label_dist"
classes = {CLASSES!r}
id = "uid"

[split]
sizes = {{ train = 90, val = 30, test = 30 }}

[encoder]
path = "{encoder}"
mode = "{mode}"
max_length = 32
cache_dir = "{folder / 'cache'}"

[loss]
entropy_reg = 0.1
label_smoothing = 0.05

[train]
epochs = 3
lr = 1e-3
batch_size = 16
threads = 1

[[references]]
name = "published model"
kl = 0.7
js_distance = 0.3
accuracy = 0.55

[report]
out_dir = "{folder / 'cards'}"
{extra}
""")
    return path


def test_reading_nested_fields_and_stratifying_on_the_majority(tmp_path: Path, tiny_encoder: Path) -> None:
    config, base = load_config(write_config(tmp_path, tiny_encoder))
    data = load_soft(config.data, config.split, base)
    assert data.targets.shape == (150, 3) and data.second is not None
    assert data.first[0] in data.second[0]
    counts = np.bincount(data.majority, minlength=3)
    for split, size in (("train", 90), ("val", 30), ("test", 30)):
        share = np.bincount(data.majority[data.splits[split]], minlength=3)
        assert np.all(np.abs(share - counts * size / 150) <= 1.5)


def test_a_row_that_is_not_a_distribution_is_named(tmp_path: Path, tiny_encoder: Path) -> None:
    path = write_config(tmp_path, tiny_encoder)
    lines = (tmp_path / "items.jsonl").read_text().splitlines()
    bad = json.loads(lines[7])
    bad["label_dist"] = [0.5, 0.6, 0.1]
    lines[7] = json.dumps(bad)
    (tmp_path / "items.jsonl").write_text("\n".join(lines) + "\n")
    config, base = load_config(path)
    with pytest.raises(InputError, match=r"items.jsonl:8: 'label_dist' = \[0.5, 0.6, 0.1\] is not a distribution"):
        load_soft(config.data, config.split, base)


@pytest.mark.parametrize("mode", ["frozen", "finetune"])
def test_end_to_end_on_a_tiny_random_bert(tmp_path: Path, tiny_encoder: Path, mode: str) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'runs.db'}")
    result = run_config(write_config(tmp_path, tiny_encoder, mode), store, quiet=True)
    run = get_run(result.run_id, store)
    assert run.status == "finished" and run.tags["mode"] == mode
    table = run.predictions("test")
    assert table.targets is not None and table.n == 30
    kl = np.mean([scipy_entropy(t, p) for t, p in zip(table.targets, table.probs)])
    assert run.evaluated["test/kl"] == pytest.approx(kl, rel=1e-9)
    js = np.mean([jensenshannon(t, p) for t, p in zip(table.targets, table.probs)])
    assert run.evaluated["test/js_distance"] == pytest.approx(js, rel=1e-9)
    assert run.history("loss_terms/entropy")  # the regulariser is logged as its own loss term
    card = result.card_markdown.read_text()
    assert "## Soft labels: against the human distribution" in card and "published model" in card
    assert "By human agreement on test" in card
    assert_recipe_card_is_the_stored_card(store, result.card_markdown, result.card_html, run.id)


def test_frozen_features_are_computed_once(tmp_path: Path, tiny_encoder: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'runs.db'}")
    path = write_config(tmp_path, tiny_encoder)
    first = run_config(path, store, quiet=True)
    (cached,) = (tmp_path / "cache").glob("*.npy")
    stamp = cached.stat().st_mtime_ns
    second = run_config(path, store, quiet=True)
    assert cached.stat().st_mtime_ns == stamp
    assert get_run(first.run_id, store).evaluated["test/kl"] == get_run(second.run_id, store).evaluated["test/kl"]


def _random_table(n: int, seed: int) -> Any:
    rng = np.random.default_rng(seed)
    targets = rng.dirichlet([1.0, 1.0, 1.0], size=n)
    probs = rng.dirichlet([2.0, 2.0, 2.0], size=n)
    return table_from_arrays(targets.argmax(1), probs, targets=targets)


def test_entropy_bins_against_scipy() -> None:
    table = _random_table(90, 0)
    bins = entropy_bins(table)
    h = np.array([scipy_entropy(t) for t in table.targets])
    assert [b["n"] for b in bins] == [30, 30, 30]
    low = np.argsort(h)[:30]  # the most agreed-on third
    assert bins[0]["bin"] == "high agreement"
    assert bins[0]["human_entropy"] == pytest.approx(h[low].mean())
    assert bins[0]["kl"] == pytest.approx(np.mean([scipy_entropy(table.targets[i], table.probs[i]) for i in low]))
    assert bins[0]["js_distance"] == pytest.approx(np.mean([jensenshannon(table.targets[i], table.probs[i])
                                                           for i in low]))


def test_uniform_and_prior_baselines_against_scipy() -> None:
    test, train = _random_table(40, 1), _random_table(60, 2)
    uniform, prior = baselines(test, train)
    u = np.full(3, 1 / 3)
    assert uniform["kl"] == pytest.approx(np.mean([scipy_entropy(t, u) for t in test.targets]))
    assert uniform["js_distance"] == pytest.approx(np.mean([jensenshannon(t, u) for t in test.targets]))
    mean = train.targets.mean(axis=0)
    assert prior["kl"] == pytest.approx(np.mean([scipy_entropy(t, mean) for t in test.targets]))
    assert prior["accuracy"] == pytest.approx(np.mean(test.targets.argmax(1) == mean.argmax()))
