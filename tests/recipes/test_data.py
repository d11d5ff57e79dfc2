"""Data for recipes: sources, label mapping with hash parity, pools, stratified splits."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from runcard.data.labels import map_labels, text_parity
from runcard.data.sources import read_file
from runcard.data.splits import first_per_class, stratified_split
from runcard.errors import InputError
from runcard.recipes.config import load_config
from runcard.recipes.tfidf_mlp.data import audit, load_dataset

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "examples" / "agnews_actions.toml"


def test_hash_parity_is_the_sha256_parity_of_the_utf8_text() -> None:
    for text in ["", "Fears for T N pension", "naïve café ☕", "x" * 1000]:
        expected = int(hashlib.sha256(text.encode("utf-8")).hexdigest(), 16) % 2
        assert text_parity(text) == expected


def test_label_mapping() -> None:
    texts = ["a", "b", "c", "d", "e"]
    labels = map_labels(["1", 2, "4", "4", "3"], texts, {"1": "World", "2": "Sports", "3": "Business"},
                        {"4": ("Even", "Odd")})
    assert labels[:2] == ["World", "Sports"] and labels[4] == "Business"
    assert labels[2] == ("Even", "Odd")[text_parity("c")] and labels[3] == ("Even", "Odd")[text_parity("d")]
    with pytest.raises(InputError, match="row 2 has label '9'"):
        map_labels(["1", "9"], ["a", "b"], {"1": "World"}, {})


def test_pool_takes_the_first_rows_of_each_class() -> None:
    labels = ["a", "b", "a", "c", "a", "b"]
    assert first_per_class(labels, {"a": 2, "b": 1}).tolist() == [0, 1, 2]
    with pytest.raises(InputError, match="b: 2 of 3"):
        first_per_class(labels, {"b": 3})


def test_stratified_split_is_exact_deterministic_and_joint() -> None:
    rng = np.random.default_rng(0)
    y = rng.choice(["a", "b", "c"], size=900, p=[0.5, 0.3, 0.2]).tolist()
    g = rng.choice(["x", "y"], size=900).tolist()
    sizes = {"train": 600, "val": 150, "test": 150}
    first = stratified_split([y, g], sizes, seed=4)
    again = stratified_split([y, g], sizes, seed=4)
    other = stratified_split([y, g], sizes, seed=5)
    assert {k: len(v) for k, v in first.items()} == sizes
    assert all(np.array_equal(first[k], again[k]) for k in sizes)
    assert not np.array_equal(first["test"], other["test"])
    assert sorted(np.concatenate(list(first.values())).tolist()) == list(range(900))
    for key in set(zip(y, g)):
        total = sum(1 for p in zip(y, g) if p == key)
        in_test = sum(1 for i in first["test"] if (y[i], g[i]) == key)
        assert abs(in_test - total * 150 / 900) <= 1.5  # each stratum's share, to rounding
    with pytest.raises(InputError, match="add up to 10 but the pool has 900"):
        stratified_split([y], {"train": 5, "val": 3, "test": 2}, seed=0)


def test_the_documented_pool_and_split_counts() -> None:
    config, base = load_config(CONFIG)
    dataset = load_dataset(config.data, config.split, base)
    counts = dataset.distribution()
    assert list(counts["train"].values()) == [1250, 1250, 1250, 625, 625]
    assert list(counts["val"].values()) == [500, 500, 500, 250, 250]
    assert list(counts["test"].values()) == [500, 500, 500, 250, 250]
    # the pool: test.csv rows first, then train_known.csv, first rows of each action
    assert dataset.origin[0].startswith("../data/ag_news/test.csv:")
    assert Counter(dataset.labels) == {"LocalPatch": 2250, "TargetedRegenerate": 2250, "RefineDecomposition": 2250,
                                       "ContractUpdate": 1125, "WholeRepoRegenerate": 1125}
    sci = [t for t, label in zip(dataset.texts, dataset.labels) if label in ("ContractUpdate", "WholeRepoRegenerate")]
    labels = [label for label in dataset.labels if label in ("ContractUpdate", "WholeRepoRegenerate")]
    assert all(("ContractUpdate", "WholeRepoRegenerate")[text_parity(t)] == label for t, label in zip(sci, labels))
    again = load_dataset(config.data, config.split, base)
    assert all(np.array_equal(dataset.splits[k], again.splits[k]) for k in dataset.splits)
    kinds = {f.kind for f in audit(dataset)}
    assert kinds <= {"leakage"}  # AG News carries a few near-duplicate stories; nothing else is wrong


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_local_files_of_any_format(tmp_path: Path, suffix: str) -> None:
    rows = {"text": ["good movie", "bad plot", "fine"], "label": ["pos", "neg", "pos"]}
    path = tmp_path / f"data{suffix}"
    if suffix == ".csv":
        path.write_text("text,label\n" + "\n".join(f"{t},{lab}" for t, lab in zip(rows["text"], rows["label"])) + "\n")
    elif suffix == ".parquet":
        pq.write_table(pa.table(rows), path)
    else:
        path.write_text("\n".join(json.dumps({"text": t, "label": lab}) for t, lab in zip(rows["text"], rows["label"])))
    assert read_file(path) == rows


def test_ag_news_layout_is_headerless() -> None:
    columns = read_file(ROOT / "data" / "ag_news" / "train_known.csv", "ag_news")
    assert list(columns) == ["class_index", "title", "description"] and len(columns["title"]) == 2505
    assert columns["title"][0] == "Wall St. Bears Claw Back Into the Black (Reuters)"
