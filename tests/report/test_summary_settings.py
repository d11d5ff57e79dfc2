"""Summary of a sweep: runs of one setting over several seeds grouped (mean ± std), and whether the
top-1 decisions moved at all."""

from __future__ import annotations

import statistics

import pytest

from runcard.findings import RunView
from runcard.report.summary import build_summary, setting_labels


def view(i: int, reg: float, seed: int, kl: float, acc: float) -> RunView:
    config = {"experiment": {"name": f"t{i}", "seed": seed, "tags": {"trial": str(i)}}, "loss": {"entropy_reg": reg}}
    return RunView(id=f"r{i}", name=f"t{i}", config=config, summary={"test/kl": kl, "test/accuracy": acc,
                                                                       "val/loss": 1.0 + kl})


def test_group_by_config_pools_the_seeds_of_one_setting() -> None:
    views = [view(0, 0.0, 0, 0.30, 0.49), view(1, 0.0, 1, 0.32, 0.49), view(2, 0.1, 0, 0.28, 0.49),
             view(3, 0.1, 1, 0.29, 0.49)]
    labels = setting_labels(views)
    assert labels["r0"] == labels["r1"] == "loss.entropy_reg=0.0"
    doc = build_summary(views, source="test", sort="test/kl", group_by="config")
    groups = {g["value"]: g for g in doc["groups"]}
    stats = groups["loss.entropy_reg=0.1"]["stats"]["test/kl"]
    assert stats["n"] == 2
    assert stats["mean"] == pytest.approx(statistics.fmean([0.28, 0.29]))
    assert stats["std"] == pytest.approx(statistics.stdev([0.28, 0.29]))
    assert doc["groups"][0]["value"] == "loss.entropy_reg=0.1"  # lower KL first
    assert "Did not move: test/accuracy is 0.4900 in all 4 runs." in doc["takeaways"]


def test_movement_is_reported_when_top1_changes() -> None:
    views = [view(0, 0.0, 0, 0.30, 0.45), view(1, 0.1, 0, 0.32, 0.52), view(2, 0.2, 0, 0.31, 0.50)]
    doc = build_summary(views, source="test", sort="test/kl")
    assert "Moved: test/accuracy ranges from 0.4500 to 0.5200 across 3 runs (3 distinct values)." in doc["takeaways"]


def test_the_trade_off_between_validation_loss_and_test_kl_is_named() -> None:
    views = [view(0, 0.0, 0, 0.28, 0.45), view(1, 0.1, 0, 0.30, 0.52), view(2, 0.2, 0, 0.31, 0.50)]
    views[0] = RunView(id="r0", name="t0", config=views[0].config,
                       summary={"test/kl": 0.28, "test/accuracy": 0.45, "val/loss": 2.0})  # best KL, worst val loss
    doc = build_summary(views, source="test", sort="test/kl")
    line = next(t for t in doc["takeaways"] if t.startswith("Trade-off") and "val/loss" in t)
    assert "ranks 3 of 3 on val/loss" in line
