"""The false-alarm budget, proved by simulation.

Clean runs (labels drawn from the model's own predicted distribution, so calibrated by construction; balanced
classes; unique texts; a logged checkpoint; falling losses) of many shapes raise a warning or an error on at
most 5 % of documents: run cards (2-50 classes, 200-20,000 rows, with and without a validation split, soft
labels, two tasks), comparisons of two equally good systems, summaries of sweeps of one setting over seeds.
The count is checked against the binomial bound: the test fails only if the observed rate is above 5 % at the
1 % level, so it does not flake. Each rule's failure scenario is still caught; the measured power of each is
asserted and written in docs/findings.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from scipy.stats import binom

from runcard import table_from_arrays
from runcard.eval_settings import EvalSettings
from runcard.evaluate import evaluate_table
from runcard.findings import RunView, judge_group, judge_run
from runcard.report.comparison import comparison_doc
from runcard.report.views import LoadedRun
from runcard.table import PredictionTable

SETTINGS = EvalSettings()
SHA = "c" * 64
SERIOUS = ("warning", "error")


def allowed_alarms(documents: int, level: float = 0.05) -> int:
    """The most alarms a rate of ``level`` explains at the 1 % level (one-sided binomial)."""
    return int(binom.ppf(0.99, documents, level))


def model(rng: np.random.Generator, n: int, k: int, sharpness: float) -> np.ndarray:
    """Softmax of Gaussian logits: a model's probabilities."""
    z = rng.normal(size=(n, k)) * sharpness
    p = np.exp(z - z.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


def draw(rng: np.random.Generator, p: np.ndarray) -> np.ndarray:
    """Labels drawn from each row's distribution: the model is calibrated by construction."""
    return (p.cumsum(axis=1) < rng.random(len(p))[:, None]).sum(axis=1).clip(0, p.shape[1] - 1)


def table(y: np.ndarray, p: np.ndarray, split: str, *, soft: np.ndarray | None = None) -> PredictionTable:
    classes = [f"c{i}" for i in range(p.shape[1])]
    return table_from_arrays(y, p, classes=classes, ids=[f"{split}-{i}" for i in range(len(y))],
                             texts=[f"{split} text {i}" for i in range(len(y))], targets=soft)


def sharpness_for(k: int) -> float:
    """Logit scale giving a useful model (accuracy well above chance) for ``k`` classes."""
    return {2: 1.5, 3: 2.0, 4: 2.2, 5: 2.5, 10: 3.0, 50: 4.0}[k]


def clean_view(rng: np.random.Generator, k: int, n: int, *, val: bool = True, soft: bool = False, tasks: int = 1,
               run: str = "r") -> RunView:
    """A clean run: for each task, test (and val) predictions whose labels follow the model's probabilities."""
    tables: dict[str, PredictionTable] = {}
    for t in range(tasks):
        for split in (["val"] if val else []) + ["test"]:
            rows = n if split == "test" else max(200, n // 2)
            p = model(rng, rows, k, sharpness_for(k))
            target = None
            if soft:  # humans spread around the model's belief; the majority label is the target's argmax
                target = np.array([rng.dirichlet(20 * row + 0.05) for row in p])
                y = target.argmax(axis=1)
            else:
                y = draw(rng, p)
            key = split if tasks == 1 else f"{split}/task{t}"
            tables[key] = table(y, p, split, soft=target)
    evaluations = {key: evaluate_table(t, settings=SETTINGS) for key, t in tables.items()}
    series = {"train/loss": [(e, 1.0 / (e + 1)) for e in range(6)], "val/loss": [(e, 1.2 / (e + 1.5)) for e in range(6)]}
    return RunView(id=run, name=run, config={"lr": 1e-3}, series=series, evaluations=evaluations, tables=tables,
                   prediction_checkpoints=dict.fromkeys(tables, SHA), known_checkpoints=frozenset({SHA}), trained=True)


CARD_SHAPES = [(k, n) for k in (2, 3, 5, 10, 50) for n in (200, 1000, 5000, 20_000) if n >= 10 * k]
CARD_VARIANTS: list[dict[str, Any]] = [{}, {"val": False}, {"soft": True}, {"tasks": 2}]


def alarms(found: list[Any]) -> bool:
    return any(f.severity in SERIOUS for f in found)


def test_clean_run_cards_raise_at_most_5_percent_false_alarms() -> None:
    rng = np.random.default_rng(2026)
    raised, documents, kinds = 0, 0, []
    for k, n in CARD_SHAPES:
        for variant in CARD_VARIANTS:
            if n == 20_000 and variant.get("tasks"):
                continue  # the largest shape once per kind is enough for the time budget
            found, _ = judge_run(clean_view(rng, k, n, **variant))
            documents += 1
            if alarms(found):
                raised += 1
                kinds += [f.kind for f in found if f.severity in SERIOUS]
    assert documents >= 65
    assert raised <= allowed_alarms(documents), (raised, documents, kinds)


def subject(view: RunView) -> LoadedRun:
    return LoadedRun(view.id, view.name, view, SETTINGS, view.tables, dict(view.evaluations))


def paired_views(rng: np.random.Generator, k: int, n: int, gap: float = 0.0) -> tuple[RunView, RunView]:
    """Two systems on the same labelled examples; B is better by about ``gap`` of accuracy (0: equally good)."""
    truth = model(rng, n, k, sharpness_for(k))
    y = draw(rng, truth)
    views = []
    for name in ("A", "B"):
        p = model(rng, n, k, 1.0) * 0.4 + truth * 0.6
        if name == "B" and gap:
            fix = rng.random(n) < gap * 2.5
            p[fix] = np.eye(k)[y[fix]] * 0.9 + 0.1 / k
        tables = {"test": table(y, p / p.sum(1, keepdims=True), "test")}
        views.append(RunView(id=name, name=name, evaluations={"test": evaluate_table(tables["test"], settings=SETTINGS)},
                             tables=tables))
    return views[0], views[1]


def test_comparisons_of_equally_good_systems_claim_no_difference_and_raise_no_alarm() -> None:
    rng = np.random.default_rng(7)
    documents, raised = 0, 0
    for k in (2, 3, 5, 10):
        for n in (200, 1000, 5000):
            for _ in range(3):
                a, b = paired_views(rng, k, n)
                doc = comparison_doc([subject(a), subject(b)], SETTINGS, targets=None, splits=None, source="sim")
                claims = [v for v in doc["verdict"] if v["verdict"] in ("better", "worse")]
                claims += [c for p in doc["paired"] for c in p["per_class_f1"].values() if c["significant"]]
                documents += 1
                raised += bool(claims) or any(f["severity"] in SERIOUS for f in doc["findings"])
    assert raised <= allowed_alarms(documents), (raised, documents)


def sweep(rng: np.random.Generator, runs: int, k: int, n: int) -> list[RunView]:
    """Runs of one setting that differ only in their seed, scored on the same labelled examples."""
    views = []
    truth = model(rng, n, k, sharpness_for(k))
    y = {"val": draw(rng, truth[: n // 2]), "test": draw(rng, truth)}
    for seed in range(runs):
        tables = {}
        for split, rows in (("val", truth[: n // 2]), ("test", truth)):
            p = model(rng, len(rows), k, 1.0) * 0.3 + rows * 0.7
            tables[split] = table(y[split], p / p.sum(1, keepdims=True), split)
        evaluations = {s: evaluate_table(t, settings=SETTINGS) for s, t in tables.items()}
        views.append(RunView(id=f"s{seed}", name=f"seed{seed}", config={"train": {"lr": 1e-3}, "experiment": {"seed": seed}},
                             summary={"val/loss": 0.9 + rng.normal(0, 0.01)}, evaluations=evaluations, tables=tables))
    return views


def test_sweeps_of_one_setting_over_seeds_raise_at_most_5_percent_false_alarms() -> None:
    rng = np.random.default_rng(11)
    documents, raised = 0, 0
    for k, n in ((3, 500), (5, 1000), (10, 2000), (2, 5000)):
        for _ in range(6):
            found, _ = judge_group(sweep(rng, 6, k, n))
            documents += 1
            raised += alarms(found)
    assert raised <= allowed_alarms(documents), (raised, documents)


def power(scenario: Callable[[np.random.Generator], bool], replicates: int = 20, seed: int = 0) -> float:
    rng = np.random.default_rng(seed)
    return sum(scenario(rng) for _ in range(replicates)) / replicates


def _kinds(view: RunView) -> set[str]:
    return {f.kind for f in judge_run(view)[0] if f.severity in SERIOUS}


def overconfident(rng: np.random.Generator) -> bool:
    view = clean_view(rng, 4 if False else 5, 2000)
    tables = {}
    for key, t in view.tables.items():
        sharp = t.probs**3 / (t.probs**3).sum(1, keepdims=True)  # same ranking, overconfident
        tables[key] = table(t.y_true, sharp, key)
    return "miscalibrated" in _kinds(_with(view, tables))


def _with(view: RunView, tables: dict[str, PredictionTable]) -> RunView:
    evaluations = {key: evaluate_table(t, settings=SETTINGS) for key, t in tables.items()}
    return RunView(id=view.id, name=view.name, series=view.series, evaluations=evaluations, tables=tables,
                   prediction_checkpoints=view.prediction_checkpoints, known_checkpoints=view.known_checkpoints,
                   trained=True)


def collapsed_minority(rng: np.random.Generator) -> bool:
    view = clean_view(rng, 5, 1000)
    tables = {}
    for key, t in view.tables.items():
        p = t.probs.copy()
        lost = (t.y_true == 4) & (rng.random(t.n) < 0.95)  # class 4 almost always predicted as class 0
        p[lost] = np.eye(5)[0] * 0.8 + 0.04
        tables[key] = table(t.y_true, p, key)
    return "minority_collapse" in _kinds(_with(view, tables))


def hashed_pair(rng: np.random.Generator) -> bool:
    view = clean_view(rng, 5, 2000)
    tables = {}
    for key, t in view.tables.items():
        y = t.y_true.copy()
        pair = np.isin(y, [3, 4])
        y[pair] = rng.choice([3, 4], pair.sum())  # the label inside the pair is a coin the text does not carry
        tables[key] = table(y, t.probs, key)
    return "confusable_pair" in _kinds(_with(view, tables))


def barely_above_majority(rng: np.random.Generator) -> bool:
    n = 2000
    y = np.where(rng.random(n) < 0.7, 0, 1)
    pred = np.where(rng.random(n) < 0.72, y, 1 - y)
    p = np.where(np.eye(2)[pred] == 1, 0.75, 0.25)
    tables = {"test": table(y, p, "test")}
    view = clean_view(rng, 2, 200)
    return "majority_collapse" in _kinds(_with(view, tables))


def near_perfect(rng: np.random.Generator) -> bool:
    view = clean_view(rng, 5, 1000)
    tables = {}
    for key, t in view.tables.items():
        p = np.eye(5)[t.y_true] * 0.95 + 0.01
        wrong = rng.random(t.n) < 0.002
        p[wrong] = np.roll(p[wrong], 1, axis=1)
        tables[key] = table(t.y_true, p, key)
    return "leakage" in _kinds(_with(view, tables))


def val_test_disagree(rng: np.random.Generator) -> bool:
    views = sweep(rng, 6, 5, 2000)
    best_val = views[0]  # made a little better on validation and clearly worse on test
    tables = dict(best_val.tables)
    for split, share, shift in (("val", 0.08, 0), ("test", 0.15, 1)):
        t = tables[split]
        moved = rng.random(t.n) < share
        p = t.probs.copy()
        p[moved] = np.roll(np.eye(5)[t.y_true[moved]], shift, axis=1) * 0.6 + 0.08
        tables[split] = table(t.y_true, p, split)
    evaluations = {s: evaluate_table(x, settings=SETTINGS) for s, x in tables.items()}
    views[0] = RunView(id="s0", name="seed0", config=best_val.config, summary=best_val.summary,
                       evaluations=evaluations, tables=tables)
    return "val_test_disagreement" in {f.kind for f in judge_group(views)[0] if f.severity in SERIOUS}


def diverged(rng: np.random.Generator) -> bool:
    views = sweep(rng, 6, 3, 500)
    views[2] = RunView(id="s2", name="seed2", config=views[2].config, summary={"val/loss": 36.0},
                       evaluations=views[2].evaluations, tables=views[2].tables)
    return "outlier_run" in {f.kind for f in judge_group(views)[0]}


def better_by_five_points(rng: np.random.Generator) -> bool:
    a, b = paired_views(rng, 3, 2000, gap=0.05)
    doc = comparison_doc([subject(a), subject(b)], SETTINGS, targets=None, splits=None, source="sim")
    return any(v["verdict"] == "better" and v["metric"] == "accuracy" for v in doc["verdict"])


#: Each rule's failure scenario, at the sizes tested, and the power it must reach (docs/findings.md states them).
SCENARIOS = {
    "miscalibrated (probabilities cubed, 5 classes, 2,000 test rows)": (overconfident, 0.95),
    "minority_collapse (95 % of one class of 5 lost to another, 1,000 rows)": (collapsed_minority, 0.95),
    "confusable_pair (a pair of 5 classes labelled by a coin, 2,000 rows)": (hashed_pair, 0.95),
    "majority_collapse (accuracy 0.72 against a majority rate of 0.70, 2,000 rows)": (barely_above_majority, 0.95),
    "leakage by accuracy (0.998 on 1,000 rows of 5 classes)": (near_perfect, 0.95),
    "val_test_disagreement (the best run on val is the worst on test by 10 points, 6 runs, 2,000 rows)":
        (val_test_disagree, 0.95),
    "outlier_run (one of 6 runs with a 40x validation loss)": (diverged, 0.95),
    "better (B right on 5 points more accuracy, 3 classes, 2,000 paired rows)": (better_by_five_points, 0.8),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_each_rule_still_catches_what_it_exists_for(name: str) -> None:
    scenario, required = SCENARIOS[name]
    measured = power(scenario, replicates=10 if "val_test" in name or "better" in name else 20)
    assert measured >= required, (name, measured)
    assert math.isfinite(measured)
