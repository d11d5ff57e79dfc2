"""Card, comparison and summary documents: content, JSON, targets, and HTML in a real browser."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from runcard import start_run
from runcard.report.card import build_card
from runcard.report.html import card_html
from runcard.runs import get_run
from runcard.store import open_store
from tests.conftest import random_probs
from tests.report.browser import render, require_chromium
from tests.report.test_acceptance import env, run  # noqa: F401 - fixture and helper

CLASSES = ["neg", "neu", "pos"]


def log_run(rng: np.random.Generator, tmp_path: Path, name: str, quality: float, epochs: int = 8) -> str:
    labels = np.random.default_rng(99)  # the same examples (and labels) for every run
    y_val, y_test = labels.integers(0, 3, 400), labels.integers(0, 3, 600)

    def predict(y: np.ndarray) -> np.ndarray:
        p = random_probs(rng, len(y), 3, sharpness=1.0)
        good = rng.random(len(y)) < quality
        p[good] = np.eye(3)[y[good]] * 0.7 + 0.1
        return p / p.sum(1, keepdims=True)

    weights = tmp_path / f"{name}.bin"
    weights.write_bytes(name.encode() * 10)
    with start_run(project="docs", name=name, config={"lr": 0.001, "quality": quality, "model": {"n_parameters": 96389}}) as r:
        with r.stage("train"):
            for e in range(epochs):
                r.log_metrics({"train/loss": 1.0 / (e + 1), "val/loss": 0.8 + 0.02 * (e - 4) ** 2}, step=e)
        sha = r.log_checkpoint(weights)
        ids_val, ids_test = [f"v{i}" for i in range(400)], [f"t{i}" for i in range(600)]
        r.log_predictions("val", y_val, predict(y_val), classes=CLASSES, ids=ids_val, checkpoint=sha,
                          texts=[f"val text <{i}>" for i in range(400)])
        r.log_predictions("test", y_test, predict(y_test), classes=CLASSES, ids=ids_test, checkpoint=sha,
                          texts=[f"test text {i}" for i in range(599)] + ["val text <3>"])
    return r.id


def test_card_holds_every_section_with_provenance(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    run_id = log_run(np.random.default_rng(1), tmp_path, "first", 0.7)
    doc = json.loads(run(env, "card", run_id, "--json").stdout)
    assert set(doc) >= {"findings", "data", "config", "model", "training", "evaluation", "calibration", "provenance"}
    assert doc["data"]["splits"]["test"]["n"] == 600 and doc["model"]["parameters"] == 96389
    assert doc["evaluation"]["test"]["provenance"]["checkpoint"] == doc["model"]["checkpoints"][0]["sha256"]
    assert doc["calibration"]["fitted_on"] == "val" and doc["calibration"]["applied_to"] == "test"
    kinds = {f["kind"] for f in doc["findings"]}
    assert "overfitting" in kinds and "leakage" in kinds  # val loss turns up at epoch 4; one text shared
    md = run(env, "card", run_id).stdout
    for heading in ("## Findings", "## Data", "## Config", "## Model", "## Training", "## Results", "### test",
                    "## Calibration", "## Provenance"):
        assert heading in md
    assert "96,389" in md and "[0." in md  # parameter count and confidence intervals


def test_compare_runs_with_paired_tests_and_targets(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    rng = np.random.default_rng(2)
    a, b = log_run(rng, tmp_path, "a", 0.6), log_run(rng, tmp_path, "b", 0.62)
    targets = tmp_path / "targets.toml"
    targets.write_text('["test/macro_f1"]\nminimum = 0.5\ntarget = 0.9\nstretch = 0.95\n')
    doc = json.loads(run(env, "compare", a, b, "--targets", targets, "--json").stdout)
    assert [r["id"] for r in doc["runs"]] == [a, b]
    assert doc["config_diff"] == [{"key": "quality", "values": [0.6, 0.62]}]
    paired = next(p for p in doc["paired"] if p["split"] == "test")
    assert paired["paired"] and paired["paired_by"] == "id"
    row = next(m for m in doc["metrics"] if m["metric"] == "test/accuracy")
    assert row["changes"][0]["absolute"] == pytest.approx(row["values"][1] - row["values"][0])
    kinds = [f["kind"] for f in doc["findings"]]
    assert set(kinds) <= {"not_significant", "ceiling_effect"}  # its own findings; the runs' stay on their cards
    assert all(r["findings"]["warning"] >= 1 for r in doc["runs"])  # each run misses its target: a warning of its own
    [target] = doc["targets"]
    macro = next(m["values"] for m in doc["metrics"] if m["metric"] == "test/macro_f1")
    assert target["metric"] == "test/macro_f1" and target["values"] == macro
    html = run(env, "compare", a, b, "--html").stdout
    assert html.startswith("<!doctype html>") and "Paired tests" in html
    bad = tmp_path / "bad.toml"
    bad.write_text('["test/macro_f1"]\ntarget = "high"\n')
    result = run(env, "compare", a, b, "--targets", bad)
    assert result.returncode == 2 and "target = 'high' is not a number" in result.stderr


def render_in_chromium(path: Path) -> tuple[str, list[str]]:
    """The DOM after load, and every console message, from headless Chromium."""
    return render(require_chromium(), path)


def test_the_browser_harness_sees_console_errors(tmp_path: Path) -> None:
    page = tmp_path / "broken.html"
    page.write_text("<!doctype html><html><body><script>undefinedFunction()</script></body></html>")
    _, console = render_in_chromium(page)
    assert any("undefinedFunction" in line for line in console)


def test_html_card_loads_cleanly_in_chromium(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    run_id = log_run(np.random.default_rng(3), tmp_path, "html <b>&'\"", 0.7)
    out = tmp_path / "card.html"
    assert run(env, "card", run_id, "--html", "--out", out).returncode == 0
    text = out.read_text()
    assert "<script src" not in text and "http://" not in text.replace("http://www.w3.org/2000/svg", "")  # inline only
    assert "html &lt;b&gt;&amp;" in text and "<b>&" not in text  # the run name is escaped
    dom, console = render_in_chromium(out)
    assert console == []
    for section in ('id="findings"', 'id="data"', 'id="training"', 'id="results"', 'id="calibration"',
                    'id="decision"', 'id="provenance"', "<svg"):
        assert section in dom
    assert dom.count("<svg") >= 5  # curves, heatmaps, per-class bars, reliability diagrams


def test_html_summary_and_comparison_load_cleanly(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    from tests.report.test_acceptance import make_sweep

    sweep = make_sweep(tmp_path / "sweep")
    out = tmp_path / "summary.html"
    assert run(env, "summary", sweep, "--sort", "test/kl", "--html", "--out", out).returncode == 0
    dom, console = render_in_chromium(out)
    assert console == [] and 'id="leaderboard"' in dom and 'id="takeaways"' in dom and 'id="set-apart"' in dom


def test_card_html_escapes_hostile_strings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNCARD_ARTIFACTS", str(tmp_path / "a"))
    monkeypatch.setenv("RUNCARD_JOURNAL", str(tmp_path / "j"))
    store = open_store(f"sqlite:///{tmp_path / 'r.db'}")
    with start_run(project="<script>alert(1)</script>", config={"<img src=x>": "</td>"}, store=store) as r:
        r.log_metric("<b>loss</b>", 1.0)
    html = card_html(build_card(store, get_run(r.id, store)))
    assert "<script>alert" not in html and "<img src=x>" not in html and "&lt;script&gt;" in html


def test_compare_json_names_the_runs_and_keeps_their_scores(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    a = log_run(np.random.default_rng(5), tmp_path, "a", 0.6)
    b = log_run(np.random.default_rng(6), tmp_path, "b", 0.7)
    doc = json.loads(run(env, "compare", a, b, "--json").stdout)
    test = next(p for p in doc["paired"] if p["split"] == "test")
    assert (test["a"], test["b"]) == (a, b)
    assert set(test["scores"]) == {"a", "b"} and "macro_f1" in test["scores"]["b"]
    f1 = test["per_class_f1"]
    assert set(f1) == set(CLASSES)
    assert all(v["ci95"][0] <= v["b_minus_a"] <= v["ci95"][1] for v in f1.values())
    md = run(env, "compare", a, b).stdout
    assert f"| test | {a} | {b} | accuracy |" in md and "F1 per class, paired" in md
