"""The acceptance cases of the reports issue, with data generated in the test."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from runcard import get_run, start_run
from runcard.report.card import build_card
from runcard.store import open_store
from tests.cli.test_cli import RUNCARD

VARIANTS = ["baseline", "entropy_reg", "max_suppress", "temp_0.5", "focal_g2", "entropy+focal"]


def make_sweep(root: Path) -> Path:
    """A typical overnight sweep: regularisation variants over 2 seeds, identical top-1/top-3
    everywhere (the model always predicts the majority class), one diverged run with losses 40x."""
    rng = np.random.default_rng(0)
    for i, variant in enumerate(VARIANTS):
        for seed in (0, 1):
            folder = root / f"{variant}-s{seed}"
            folder.mkdir(parents=True)
            kl = 0.40 + 0.01 * i + rng.normal(0, 0.002)
            val_loss = 0.90 + 0.02 * ((i * 7) % 5) + rng.normal(0, 0.005)
            if variant == "temp_0.5" and seed == 0:
                kl, val_loss = kl * 40, val_loss * 40  # the diverged run
            (folder / "config.json").write_text(json.dumps({"regulariser": variant, "seed": seed, "lr": 2e-5}))
            (folder / "metrics.json").write_text(json.dumps({
                "test": {"kl": kl, "top1": 0.3484, "top3": 0.9791},
                "val": {"loss": val_loss},
                "history": {"train_loss": [1.2, 0.9, 0.8 + 0.001 * i]},
            }))
    return root


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("RUNCARD_STORE", f"sqlite:///{tmp_path / 'store' / 'runcard.db'}")
    monkeypatch.delenv("RUNCARD_ARTIFACTS", raising=False)
    monkeypatch.delenv("RUNCARD_JOURNAL", raising=False)
    return dict(os.environ)


def run(env: dict[str, str], *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([RUNCARD, *map(str, args)], capture_output=True, text=True, timeout=300, env=env)


def test_sweep_summary_sorts_sets_the_outlier_apart_and_raises_findings(tmp_path: Path, env: dict[str, str]) -> None:
    sweep = make_sweep(tmp_path / "overnight")
    result = run(env, "summary", sweep, "--sort", "test/kl", "--group-by", "regulariser", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    board = doc["leaderboard"]
    values = [row["test/kl"] for row in board]
    assert values == sorted(values) and len(board) == 11  # lower KL is better; 12 runs minus the outlier
    assert [r["name"] for r in doc["set_apart"]] == ["temp_0.5-s0"]
    kinds = {f["kind"] for f in doc["findings"]}
    assert {"constant_metric", "outlier_run"} <= kinds
    constant = {f["evidence"]["metric"] for f in doc["findings"] if f["kind"] == "constant_metric"}
    assert {"test/top1", "test/top3"} <= constant
    outlier = next(f for f in doc["findings"] if f["kind"] == "outlier_run")
    assert outlier["evidence"]["deviations"][0]["factor"] == pytest.approx(40, rel=0.1)
    assert board[0]["name"].startswith("baseline") and doc["takeaways"][0].startswith("Best on test/kl: baseline")
    groups = {g["value"]: g for g in doc["groups"]}
    assert groups["baseline"]["n"] == 2 and groups["temp_0.5"]["n"] == 1  # its outlier seed is set apart
    kl = [r["test/kl"] for r in board if r["group"] == "entropy_reg"]
    assert groups["entropy_reg"]["stats"]["test/kl"]["mean"] == pytest.approx(np.mean(kl))
    assert groups["entropy_reg"]["stats"]["test/kl"]["std"] == pytest.approx(np.std(kl, ddof=1))
    assert any(t.startswith("Plateau: test/top1 is 0.3484") for t in doc["takeaways"])
    text = run(env, "summary", sweep, "--sort", "test/kl").stdout
    assert "## Leaderboard" in text and "## Set apart (outliers)" in text and "temp_0.5-s0" in text


def test_predictions_against_a_missing_checkpoint_are_an_error(env: dict[str, str], tmp_path: Path) -> None:
    y = np.array([0, 1, 1, 0] * 25)
    probs = np.where(y[:, None] == np.arange(2), 0.8, 0.2)
    with start_run(project="cal") as r:
        with r.stage("train"):
            r.log_metric("train/loss", 0.5, step=0)
        r.log_predictions("val", y, probs, checkpoint="f" * 64)  # weights file was never logged
    store = open_store()
    doc = build_card(store, get_run(r.id, store))
    [finding] = [f for f in doc["findings"] if f["kind"] == "missing_checkpoint"]
    assert finding["severity"] == "error" and doc["findings"][0]["kind"] == "missing_checkpoint"
    assert finding["evidence"]["checkpoint"] == "f" * 64
    card = run(env, "card", r.id)
    assert card.returncode == 0 and "ERROR `missing_checkpoint`" in card.stdout
