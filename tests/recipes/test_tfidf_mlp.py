"""The TF-IDF + MLP recipe end to end on a few hundred rows, and the ceiling of hashed labels."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from runcard import get_run
from runcard.metrics.classification import indistinguishable_ceiling, summary_scores
from runcard.recipes import run_config
from runcard.store import open_store
from tests.cli.test_cli import RUNCARD
from tests.report.cards import assert_recipe_card_is_the_stored_card

ROOT = Path(__file__).resolve().parents[2]
SMALL = {
    "data.pool.per_class": {"LocalPatch": 100, "TargetedRegenerate": 100, "RefineDecomposition": 100,
                            "ContractUpdate": 50, "WholeRepoRegenerate": 50},
    "split.sizes": {"train": 250, "val": 75, "test": 75},
    "features.max_features": 300,
    "train.epochs": 3,
}


def test_ceiling_of_an_indistinguishable_pair() -> None:
    # 3 classes, 1 and 2 indistinguishable: rows of 1 and 2 predicted into the pair split 50/50.
    cm = np.array([[80, 10, 10], [5, 30, 15], [5, 20, 25]])
    ceiling = indistinguishable_ceiling(cm, [[1, 2]])
    # true 1: 45 rows land in the pair, true shares of the pair are 50/50 -> 22.5 each
    np.testing.assert_allclose(ceiling[1], [5, 22.5, 22.5])
    np.testing.assert_allclose(ceiling[0], [80, 10, 10])
    assert ceiling.sum() == cm.sum()
    assert float(summary_scores(ceiling)["accuracy"]) == pytest.approx((80 + 22.5 + 22.5) / 200)


@pytest.fixture
def store_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("RUNCARD_ARTIFACTS", str(tmp_path / "artifacts"))
    monkeypatch.setenv("RUNCARD_JOURNAL", str(tmp_path / "journal"))
    monkeypatch.chdir(tmp_path)
    return f"sqlite:///{tmp_path / 'runcard.db'}"


def test_end_to_end_on_a_few_hundred_rows(store_url: str, tmp_path: Path) -> None:
    store = open_store(store_url)
    result = run_config(ROOT / "examples" / "agnews_actions.toml", store, overrides=SMALL, quiet=True)
    run = get_run(result.run_id, store)
    assert run.status == "finished"
    assert set(run.stages) == {"data", "audit", "features", "train", "checkpoint", "evaluate", "calibrate"}
    assert [s for s, _ in run.history("train/loss")] == [1, 2, 3] and len(run.history("val/loss")) == 3
    assert run.config["model"]["hidden"] == [64] and run.config["features"]["max_features"] == 300
    checkpoint = run.artifact(kind="checkpoint")
    for split in ("train", "val", "test"):
        art = next(a for a in run.artifacts if a.kind == "predictions" and a.meta["split"] == split)
        assert art.meta["checkpoint"] == checkpoint.sha256
    assert run.predictions("test").n == 75 and run.summary["model/n_parameters"] == 300 * 64 + 64 + 64 * 5 + 5
    for name in ("regeneration_scope", "files_touched", "pass_at_budget"):
        assert f"derived/test/{name}" in run.summary and f"derived/test_calibrated/{name}" in run.summary
    test = run.predictions("test")
    scope = test.probs[:, 1] + 2 * test.probs[:, 4]
    assert run.summary["derived/test/regeneration_scope"] == pytest.approx(scope.mean())
    assert result.metrics["test/accuracy_after"] == run.evaluated["test/accuracy"]  # temperature scaling keeps argmax
    assert result.metrics["test/ece"] == run.evaluated["test/ece"]  # reported from the stored evaluation
    card = result.card_markdown.read_text()
    for heading in ("## Findings", "## Data", "## Config", "## Model", "## Training", "## Results", "### val",
                    "### test", "## Calibration", "## Labels made by construction", "## Derived metrics",
                    "## Provenance"):
        assert heading in card, heading
    assert checkpoint.sha256[:16] in card and result.card_html.read_text().startswith("<!doctype html>")
    audit = json.loads(store.artifacts.path(run.artifact("audit.json").path).read_text())
    assert audit["distribution"]["test"] == {"LocalPatch": 19, "TargetedRegenerate": 19, "RefineDecomposition": 19,
                                             "ContractUpdate": 9, "WholeRepoRegenerate": 9}


def test_the_same_config_gives_the_same_numbers(store_url: str) -> None:
    store = open_store(store_url)
    first = run_config(ROOT / "examples" / "agnews_actions.toml", store, overrides=SMALL, quiet=True)
    second = run_config(ROOT / "examples" / "agnews_actions.toml", store, overrides=SMALL, quiet=True)
    keys = [k for k in first.metrics if not k.startswith("calibration/argmax")]
    assert {k: first.metrics[k] for k in keys} == {k: second.metrics[k] for k in keys}
    a, b = get_run(first.run_id, store), get_run(second.run_id, store)
    np.testing.assert_array_equal(a.predictions("test").probs, b.predictions("test").probs)


def test_runcard_run_cli(store_url: str, tmp_path: Path) -> None:
    config = tmp_path / "small.toml"
    text = (ROOT / "examples" / "agnews_actions.toml").read_text()
    text = text.replace("../data/ag_news/", str(ROOT / "data" / "ag_news") + "/")
    text = text.replace("LocalPatch = 2250", "LocalPatch = 100").replace("TargetedRegenerate = 2250", "TargetedRegenerate = 100")
    text = text.replace("RefineDecomposition = 2250", "RefineDecomposition = 100").replace("ContractUpdate = 1125", "ContractUpdate = 50")
    text = text.replace("WholeRepoRegenerate = 1125", "WholeRepoRegenerate = 50")
    text = text.replace("sizes = { train = 5000, val = 2000, test = 2000 }", "sizes = { train = 250, val = 75, test = 75 }")
    config.write_text(text)
    result = subprocess.run([RUNCARD, "run", config, "--store", store_url, "--json", "-q"], capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert Path(payload["card"]).is_file() and payload["metrics"]["test/accuracy"] > 0.3
    assert_recipe_card_is_the_stored_card(open_store(store_url), Path(payload["card"]), Path(payload["card_html"]),
                                          payload["run"], cli_store=store_url)
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("[train]", "[train]\nmomentum = 0.9"))
    result = subprocess.run([RUNCARD, "run", bad, "--store", store_url], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "unknown key 'train.momentum'" in result.stderr
