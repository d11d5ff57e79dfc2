"""Every document tells one truth: one stored evaluation read everywhere, exact config values, ties that claim
nothing, plateaus found once outliers are set apart, findings said once and judged against noise."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from runcard import start_run, table_from_arrays, write_predictions
from runcard.eval_settings import EvalSettings
from runcard.evaluate import evaluate
from runcard.findings import RunView
from runcard.findings.leakage import leakage_in_predictions
from runcard.report.summary import build_summary
from runcard.store import open_store, schema
from tests.conftest import random_probs
from tests.report.test_acceptance import env, run  # noqa: F401 - fixture and helper

CLASSES = ["neg", "neu", "pos"]
#: Finding kinds a comparison raises itself; a run's own kinds (leakage, confusable_pair, ...) stay on its card.
COMPARISON_KINDS = {"not_significant", "ceiling_effect", "constant_metric", "outlier_run", "val_test_disagreement",
                    "all_zero_metric"}


def ece_written_out(y: np.ndarray, probs: np.ndarray, bins: int) -> float:
    """Top-label ECE with equal-width bins (i/B, (i+1)/B], the textbook formula, row by row."""
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == y
    total = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        rows = (conf > lo) & (conf <= hi) if b else (conf >= lo) & (conf <= hi)
        if rows.any():
            total += rows.sum() * abs(correct[rows].mean() - conf[rows].mean())
    return total / len(y)


def log(name: str, quality: float, *, config: dict[str, object], seed: int, texts: bool = True,
        checkpoint: bool = True, tmp: Path | None = None) -> tuple[str, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """A tracked run with val and test predictions (the same examples for every run), evaluated with 10 bins."""
    labels = np.random.default_rng(99)
    y = {"val": labels.integers(0, 3, 400), "test": labels.integers(0, 3, 600)}
    rng = np.random.default_rng(seed)
    out = {}
    with start_run(project="truth", name=name, config=config, evaluation={"bins": 10}) as r:
        sha = None
        if checkpoint and tmp is not None:
            weights = tmp / f"{name}.bin"
            weights.write_bytes(name.encode())
            sha = r.log_checkpoint(weights)
        for split, yy in y.items():
            p = random_probs(rng, len(yy), 3)
            good = rng.random(len(yy)) < quality
            p[good] = np.eye(3)[yy[good]] * 0.7 + 0.1
            p /= p.sum(1, keepdims=True)
            out[split] = (yy, p)
            r.log_predictions(split, yy, p, classes=CLASSES, ids=[f"{split}{i}" for i in range(len(yy))],
                              texts=[f"{split} text {i}" for i in range(len(yy))] if texts else None, checkpoint=sha)
    return r.id, out


def test_every_document_reads_the_one_stored_evaluation(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    a, preds = log("a", 0.6, config={"q": 0.6}, seed=1, tmp=tmp_path)
    b, _ = log("b", 0.65, config={"q": 0.65}, seed=2, tmp=tmp_path)
    expected = ece_written_out(*preds["test"], bins=10)
    card = json.loads(run(env, "card", a, "--json").stdout)
    assert card["evaluation"]["test"]["ece"] == pytest.approx(expected, abs=1e-12)
    assert card["result"]["entries"][0]["calibration"]["ece"] == card["evaluation"]["test"]["ece"]
    compare = json.loads(run(env, "compare", a, b, "--json").stdout)
    [row] = [m for m in compare["metrics"] if m["metric"] == "test/ece"]
    summary = json.loads(run(env, "summary", "--project", "truth", "--json").stdout)
    [line] = [r for r in summary["leaderboard"] if r["id"] == a]
    shown = json.loads(run(env, "show", a, "--json").stdout)
    listed = next(r for r in json.loads(run(env, "runs", "--json").stdout) if r["id"] == a)
    values = {row["values"][0], line["test/ece"], shown["evaluated"]["test/ece"], listed["evaluated"]["test/ece"]}
    assert values == {card["evaluation"]["test"]["ece"]}  # the same float in every document
    assert shown["eval_settings"]["bins"] == 10 and "test/ece" in summary["columns"]


def test_other_settings_recompute_say_so_and_store_nothing(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    a, preds = log("a", 0.6, config={}, seed=1, tmp=tmp_path)
    result = run(env, "card", a, "--bins", "20", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["evaluation"]["test"]["ece"] == pytest.approx(ece_written_out(*preds["test"], bins=20), abs=1e-12)
    assert doc["settings"]["recomputed"] == {"bins": {"run": 10, "card": 20}}
    assert any(line.startswith("Recomputed for this card with bins 20") for line in doc["result"]["lines"])
    assert "Recomputed for this card" in run(env, "card", a, "--bins", "20").stdout
    shown = json.loads(run(env, "show", a, "--json").stdout)
    assert shown["evaluated"]["test/ece"] == pytest.approx(ece_written_out(*preds["test"], bins=10), abs=1e-12)
    store = open_store()
    with store.engine.connect() as conn:  # type: ignore[attr-defined]
        kept = {row.settings for row in conn.execute(schema.records.select())}
    assert kept == {EvalSettings(bins=10).key}


def test_config_values_are_printed_as_written(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    a, _ = log("a", 0.6, config={"optim": {"alpha": 1e-05, "lr": 0.0001, "steps": 3}}, seed=1, tmp=tmp_path)
    b, _ = log("b", 0.6, config={"optim": {"alpha": 0.3, "lr": 0.0001, "steps": 3}}, seed=2, tmp=tmp_path)
    card_md, card_html = run(env, "card", a).stdout, run(env, "card", a, "--html").stdout
    assert "| alpha | 1e-05 |" in card_md and "| lr | 0.0001 |" in card_md and "| steps | 3 |" in card_md
    assert "<td>alpha</td><td>1e-05</td>" in card_html and "<td>lr</td><td>0.0001</td>" in card_html
    compare_md = run(env, "compare", a, b).stdout
    assert "| optim.alpha | 1e-05 | 0.3 |" in compare_md
    assert "<td>1e-05</td><td>0.3</td>" in run(env, "compare", a, b, "--html").stdout
    doc = json.loads(run(env, "compare", a, b, "--json").stdout)
    assert doc["config_diff"] == [{"key": "optim.alpha", "values": [1e-05, 0.3]}]
    groups = json.loads(run(env, "summary", "--project", "truth", "--group-by", "optim.alpha", "--json").stdout)
    assert {g["value"] for g in groups["groups"]} == {"1e-05", "0.3"}


def views(values: dict[str, list[float]], configs: list[dict[str, object]]) -> list[RunView]:
    return [RunView(id=f"r{i}", name=f"run{i}", config=configs[i], summary={k: v[i] for k, v in values.items()})
            for i in range(len(configs))]


def test_ties_make_no_ranking_claim() -> None:
    configs = [{"reg": name} for name in ("a", "b", "c", "d", "e", "f", "g")]
    kl = [0.40, 0.41, 0.42, 0.43, 0.44, 0.45, 0.46]
    doc = build_summary(views({"test/kl": kl, "test/top1": [0.3484] * 7,
                               "derived/test/pass": [0.9999999999999987, *[0.9999999999999996] * 6]}, configs),
                        source="sweep", sort="test/kl")
    assert not [t for t in doc["takeaways"] if t.startswith("Trade-off")]  # equal numbers trade nothing off
    assert "Did not move: test/top1 is 0.3484 in all 7 runs." in doc["takeaways"]
    tied = build_summary(views({"test/kl": [0.4, 0.4, 0.5]}, configs[:3]), source="sweep", sort="test/kl")
    assert tied["takeaways"][0].startswith("Tied at the top on test/kl (0.4000")


def test_a_plateau_is_found_once_the_diverged_run_is_set_apart() -> None:
    configs = [{"reg": f"v{i}"} for i in range(8)]
    kl = [0.40 + 0.01 * i for i in range(7)] + [16.0]
    top1 = [0.3484] * 7 + [0.01]
    doc = build_summary(views({"test/kl": kl, "test/top1": top1, "val/loss": [0.9] * 7 + [40.0]}, configs),
                        source="sweep", sort="test/kl")
    [constant] = [f for f in doc["findings"] if f["kind"] == "constant_metric" and f["evidence"]["metric"] == "test/top1"]
    assert constant["evidence"]["run_ids"] == [f"r{i}" for i in range(7)] and constant["evidence"]["set_apart"] == ["r7"]
    assert "1 outlier run(s) set apart" in constant["title"]
    assert "Did not move: test/top1 is 0.3484 in all 7 runs (outliers set apart: 1)." in doc["takeaways"]
    assert [r["id"] for r in doc["set_apart"]] == ["r7"]


def test_eval_with_val_raises_leakage_between_the_files(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    paths = {}
    for split, n in (("val", 300), ("test", 400)):
        y = rng.integers(0, 3, n)
        texts = [f"{split} review number {i}" for i in range(n)]
        if split == "test":
            texts[:40] = [f"Val review number {i}!" for i in range(40)]  # the same texts, case and punctuation aside
        paths[split] = write_predictions(table_from_arrays(y, random_probs(rng, n, 3), classes=CLASSES, texts=texts),
                                         tmp_path / f"{split}.csv")
    result = run({}, "eval", paths["test"], "--val", paths["val"], "--json")
    assert result.returncode == 0, result.stderr
    [leak] = [f for f in json.loads(result.stdout)["findings"] if f["kind"] == "leakage"]
    assert leak["evidence"]["rows_affected"] == 40 and leak["severity"] == "error"  # 10 % of test
    assert leak["evidence"]["matched_by"] == "normalised text" and leak["splits"] == ["val", "test"]
    assert "leakage" in run({}, "eval", paths["test"], "--val", paths["val"]).stdout


def test_leakage_is_judged_by_what_removing_it_does() -> None:
    rng = np.random.default_rng(5)
    n = 2000
    y = rng.integers(0, 4, n)
    pred = np.where(rng.random(n) < 0.5, y, rng.integers(0, 4, n))
    probs = np.full((n, 4), 0.1)
    probs[np.arange(n), pred] = 0.7
    texts = [f"test {i}" for i in range(n)]

    def finding(shared: int, memorised: bool) -> dict[str, object]:
        p = probs.copy()
        if memorised:  # the model knows the shared rows by heart
            p[:shared] = 0.1
            p[np.arange(shared), y[:shared]] = 0.7
        test = table_from_arrays(y, p, texts=texts)
        train = table_from_arrays(y[:shared], p[:shared], texts=texts[:shared])
        evals = {"test": evaluate(y, p), "train": evaluate(y[:shared], p[:shared], ci=False)}
        [f] = leakage_in_predictions({"train": train, "test": test}, evals)
        return f.to_dict()

    one = finding(1, False)
    assert one["severity"] == "info" and one["evidence"]["scores_without_shared_rows"]["test"]["accuracy"]["outside_ci"] is False
    assert finding(200, False)["severity"] == "error"  # 10 % of test, whatever it does to the score
    memorised = finding(150, True)  # 7.5 %: a warning by share, an error because the score moves beyond its CI
    accuracy = memorised["evidence"]["scores_without_shared_rows"]["test"]["accuracy"]
    assert memorised["severity"] == "error" and accuracy["outside_ci"] is True and accuracy["change"] < 0
    assert finding(150, False)["severity"] == "warning"


def test_a_comparison_shows_only_its_own_findings(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    a, _ = log("a", 0.3, config={"q": 0.3}, seed=1)  # no checkpoint: each run has missing_checkpoint of its own
    b, _ = log("b", 0.35, config={"q": 0.35}, seed=2)
    own = json.loads(run(env, "card", a, "--json").stdout)["findings"]
    doc = json.loads(run(env, "compare", a, b, "--json").stdout)
    assert {f["kind"] for f in doc["findings"]} <= COMPARISON_KINDS
    [line] = [r for r in doc["runs"] if r["id"] == a]
    counts = {s: sum(f["severity"] == s for f in own) for s in ("error", "warning", "info")}
    assert line["findings"] == counts and line["card"] == f"runcard card {a}"
    assert all(p["split"] != "train" for p in doc["paired"])
    assert doc["verdict"][0]["metric"] == "macro_f1" and doc["verdict"][0]["split"] == "test"
    md = run(env, "compare", a, b).stdout
    assert md.index("## Verdict") < md.index("## Findings") < md.index("## Paired tests")


def test_compare_of_files_honours_html_and_out(tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    y = rng.integers(0, 3, 500)
    files = [write_predictions(table_from_arrays(y, random_probs(rng, 500, 3), classes=CLASSES,
                                                 ids=[f"x{i}" for i in range(500)]), tmp_path / f"{n}.csv")
             for n in ("a", "b")]
    out = tmp_path / "x.html"
    result = run({}, "compare", *files, "--html", "--out", out)
    assert result.returncode == 0, result.stderr
    html = out.read_text()
    assert html.startswith("<!doctype html>") and 'id="verdict"' in html and "within noise" in html
    doc = json.loads(run({}, "compare", *files, "--json").stdout)
    assert {"n", "a", "b", "difference", "mcnemar", "verdict", "findings"} <= set(doc)  # the keys scripts read
    for args, message in ((("--html", "--json"), "give one"), (("--splits", "val"), "--splits is for runs")):
        refused = run({}, "compare", *files, *args)
        assert refused.returncode == 2 and message in refused.stderr
