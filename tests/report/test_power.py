"""Comparisons know their power: the minimum detectable difference beside every verdict, `underpowered` when
the difference asked about is smaller, Holm's correction on the "better"/"worse" words, `--alpha` everywhere."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from runcard.findings.budget import holm
from tests.report.test_acceptance import env, run  # noqa: F401 - fixture and helper
from tests.report.test_one_truth import log


def test_the_verdict_states_what_the_test_could_see(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    a, _ = log("a", 0.6, config={"q": 0.6}, seed=1, tmp=tmp_path)
    b, _ = log("b", 0.6, config={"q": 0.61}, seed=2, tmp=tmp_path)
    doc = json.loads(run(env, "compare", a, b, "--json").stdout)
    test = next(p for p in doc["paired"] if p["split"] == "test")
    d = test["difference"]["accuracy"]
    only_a, only_b = test["mcnemar"]["only_a_correct"], test["mcnemar"]["only_b_correct"]
    written_out = (1.959963984540054 + 0.8416212335729143) * np.sqrt((only_a + only_b) / test["n"]) / np.sqrt(test["n"])
    assert d["mde"] == pytest.approx(written_out)
    macro = test["difference"]["macro_f1"]
    assert macro["mde"] == pytest.approx((1.959963984540054 + 0.8416212335729143) * macro["se"])
    for verdict in doc["verdict"]:
        assert verdict["mde"] > 0
        if verdict["verdict"] == "within noise":
            assert f"this test could only have seen differences above {verdict['mde']:.4f}" in verdict["sentence"]
    cells = [c for p in doc["paired"] for c in (*[p["difference"][m] for m in ("macro_f1", "accuracy")],
                                                *p["per_class_f1"].values())]
    rejected, _ = holm([c["p_value"] for c in cells], 0.05)
    assert [c["significant"] for c in cells] == rejected.tolist() and doc["settings"]["paired_tests"] == len(cells)
    assert "could only have seen differences above" in run(env, "compare", a, b).stdout


def test_an_effect_smaller_than_the_test_can_see_is_underpowered(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    a, _ = log("a", 0.6, config={}, seed=1, tmp=tmp_path)
    b, _ = log("b", 0.6, config={}, seed=2, tmp=tmp_path)
    doc = json.loads(run(env, "compare", a, b, "--effect", "0.01", "--json").stdout)
    found = [f for f in doc["findings"] if f["kind"] == "underpowered"]
    assert {f["metrics"][0] for f in found} >= {"test/accuracy", "test/macro_f1"}
    assert all(f["evidence"]["minimum_detectable_difference"] > 0.01 for f in found)
    assert not [f for f in json.loads(run(env, "compare", a, b, "--effect", "0.5", "--json").stdout)["findings"]
                if f["kind"] == "underpowered"]


def test_alpha_sets_the_budget_of_every_document(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    a, _ = log("a", 0.6, config={"q": 1}, seed=1, tmp=tmp_path)
    b, _ = log("b", 0.6, config={"q": 2}, seed=2, tmp=tmp_path)
    card = json.loads(run(env, "card", a, "--alpha", "0.01", "--json").stdout)
    assert card["settings"]["budget"]["alpha"] == 0.01 and card["settings"]["budget"]["tests"]["miscalibrated"] == 1
    assert json.loads(run(env, "compare", a, b, "--alpha", "0.01", "--json").stdout)["settings"]["alpha"] == 0.01
    summary = json.loads(run(env, "summary", "--project", "truth", "--alpha", "0.2", "--json").stdout)
    assert summary["budget"]["alpha"] == 0.2
    refused = run(env, "card", a, "--alpha", "0.9")
    assert refused.returncode == 2 and "--alpha" in refused.stderr
