"""Every finding rule: a case that must fire and a clean case that must not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.stats import binom

from runcard import evaluate, table_from_arrays
from runcard.findings import (
    KINDS,
    RunView,
    group_findings,
    not_significant,
    run_findings,
    target_gap,
)
from runcard.findings.across_runs import (
    ceiling_effect,
    constant_metric,
    merge_outliers,
    outliers,
    val_test_disagreement,
)
from runcard.findings.budget import apply_budget
from runcard.findings.evaluation import (
    calibration_null,
    confusable_pairs,
    majority_collapse,
    minority_collapse,
    miscalibrated,
    near_perfect,
    zero_support,
)
from runcard.findings.finding import Finding
from runcard.findings.leakage import leakage, normalize_text
from runcard.findings.training import (
    all_zero_series,
    missing_checkpoint,
    overfitting,
    weak_regularizer,
)


def calibrated(rng: np.random.Generator, n: int, k: int, sharp: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """Labels drawn from the model's own probabilities: a perfectly calibrated model."""
    z = rng.normal(size=(n, k)) * sharp
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    y = (p.cumsum(1) < rng.random(n)[:, None]).sum(1)
    return y, p


def onehot_probs(pred: np.ndarray, k: int, confidence: float = 0.9) -> np.ndarray:
    p = np.full((len(pred), k), (1 - confidence) / (k - 1))
    p[np.arange(len(pred)), pred] = confidence
    return p


def judged(findings: list[Finding]) -> list[Finding]:
    """What a document shows of a rule's tests: those the false-alarm budget keeps (alpha 0.05)."""
    return apply_budget(findings)[0]


def test_every_kind_is_documented() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "findings.md").read_text()
    assert len(KINDS) == 19 and all(KINDS.values())
    assert all(f"| `{kind}` |" in docs for kind in KINDS)


def test_zero_support(rng: np.random.Generator) -> None:
    y, p = calibrated(rng, 200, 3)
    assert zero_support(evaluate(y, p, ci=False), "test") == []
    y[y == 2] = 0
    [f] = zero_support(evaluate(y, p, classes=["a", "b", "c"], ci=False), "test")
    assert f.classes == ("c",) and f.severity == "warning"


def test_majority_collapse(rng: np.random.Generator) -> None:
    y = rng.integers(0, 4, 400)
    pred = np.where(rng.random(400) < 0.95, 0, y)
    [f] = judged(majority_collapse(evaluate(y, onehot_probs(pred, 4), ci=False), "test"))
    assert f.evidence["predicted_share"] >= 0.9 and f.classes == ("0",) and f.p_value is None  # a fact
    good = np.where(rng.random(400) < 0.8, y, (y + 1) % 4)
    [test] = majority_collapse(evaluate(y, onehot_probs(good, 4), ci=False), "test")  # tested, far from firing
    assert test.p_value == pytest.approx(1.0) and judged([test]) == []


def test_accuracy_within_noise_of_the_majority_rate(rng: np.random.Generator) -> None:
    y = np.where(rng.random(500) < 0.7, 0, 1)  # majority rate 0.7
    pred = np.where(rng.random(500) < 0.7, y, 1 - y)  # accuracy ~0.7, predictions not collapsed
    [f] = judged(majority_collapse(evaluate(y, onehot_probs(pred, 2), ci=False), "test"))
    # H0: accuracy >= majority + 0.2 x (1 - majority), one-sided binomial, written out with scipy
    correct, majority = round(f.evidence["accuracy"] * 500), f.evidence["majority_rate"]
    assert f.evidence["null_accuracy"] == pytest.approx(majority + 0.2 * (1 - majority))
    assert f.p_value == pytest.approx(binom.cdf(correct, 500, majority + 0.2 * (1 - majority)))
    assert "barely beats" in f.title and f.evidence["budget"]["threshold"] == 0.05


def test_minority_collapse(rng: np.random.Generator) -> None:
    y = rng.integers(0, 3, 600)
    pred = y.copy()
    minority = np.flatnonzero(y == 2)
    pred[minority[: int(len(minority) * 0.95)]] = 0  # class 2 almost always missed
    candidates = minority_collapse(evaluate(y, onehot_probs(pred, 3), ci=True, n_boot=200), "test")
    assert len(candidates) == 3  # one test per class with examples
    [f] = judged(candidates)
    assert f.classes == ("2",) and f.evidence["support"] == len(minority) and f.evidence["f1_ci95"] is not None
    assert f.evidence["budget"]["tests_of_rule"] == 3 and f.p_value < 0.05 / 3
    assert judged(minority_collapse(evaluate(y, onehot_probs(y, 3), ci=True, n_boot=200), "test")) == []


def test_confusable_pair(rng: np.random.Generator) -> None:
    y = rng.integers(0, 3, 900)
    pred = y.copy()
    pair = np.isin(y, [1, 2])
    pred[pair] = rng.integers(1, 3, pair.sum())  # 1 vs 2 decided by a coin
    [f] = judged(confusable_pairs(evaluate(y, onehot_probs(pred, 3), ci=False), "test"))
    assert f.classes == ("1", "2") and abs(f.evidence["kappa"]) < 0.1
    n, correct = f.evidence["rows_in_pair"], round(f.evidence["pair_accuracy"] * f.evidence["rows_in_pair"])
    chance = f.evidence["chance_accuracy"]
    assert f.p_value == pytest.approx(binom.cdf(correct, n, chance + 0.2 * (1 - chance)))
    good = np.where(rng.random(900) < 0.85, y, (y + 1) % 3)
    assert judged(confusable_pairs(evaluate(y, onehot_probs(good, 3), ci=False), "test")) == []


def test_near_perfect_accuracy(rng: np.random.Generator) -> None:
    y = rng.integers(0, 4, 300)
    [f] = judged(near_perfect(evaluate(y, onehot_probs(y, 4), ci=False), "test"))
    assert f.kind == "leakage" and f.p_value == pytest.approx(0.98**300)  # P(300 of 300 | accuracy 0.98)
    pred = np.where(rng.random(300) < 0.9, y, (y + 1) % 4)
    assert judged(near_perfect(evaluate(y, onehot_probs(pred, 4), ci=False), "test")) == []


def test_calibration_null_matches_relabelling_the_same_predictions() -> None:
    """The null (binomial per bin) against the exact experiment: fixed probabilities, labels redrawn
    from them 400 times. Medians and 90th percentiles agree; the null is not narrower."""
    rng = np.random.default_rng(3)
    _, p = calibrated(rng, 500, 4)
    eces = []
    for _ in range(400):
        y = (p.cumsum(1) < rng.random(500)[:, None]).sum(1)
        eces.append(evaluate(y, p, ci=False).ece)
    null = calibration_null(evaluate(y, p, ci=False))
    assert np.median(null) == pytest.approx(np.median(eces), rel=0.12)
    assert np.percentile(null, 90) == pytest.approx(np.percentile(eces, 90), rel=0.12)
    assert np.percentile(null, 95) >= 0.95 * np.percentile(eces, 95)


def test_miscalibrated_fires_on_overconfidence_and_spares_calibrated_models() -> None:
    rng = np.random.default_rng(11)
    false_alarms = sum(bool(judged(miscalibrated(evaluate(*calibrated(rng, 500, 4), ci=False), "test")))
                       for _ in range(100))
    assert false_alarms <= 10  # a test at 5 %: about 5 in 100
    y, p = calibrated(rng, 2000, 4)
    sharp = p**3 / (p**3).sum(1, keepdims=True)  # same ranking, overconfident
    [f] = judged(miscalibrated(evaluate(y, sharp, ci=False), "test",
                               calibration={"temperature": 2.9, "ece_after": 0.01}))
    assert "overconfident" in f.title and f.evidence["ece"] > f.evidence["null_p95_ece"]
    assert "T = 2.900" in f.advice


def test_leakage_across_splits() -> None:
    texts = {"train": ["The cat sat.", "Dogs bark", "unique a"], "test": ["the CAT   sat", "unique b"]}
    [f] = leakage(texts)
    assert f.evidence["shared_texts"] == 1 and f.splits == ("train", "test") and f.severity == "error"
    assert leakage({"train": ["a b"], "test": ["c d"]}) == []
    assert normalize_text("  Hello,   WORLD!! ") == "hello world"


def test_overfitting() -> None:
    train = [(e, 1.0 / (e + 1)) for e in range(10)]
    val = [(e, v) for e, v in enumerate([0.9, 0.7, 0.6, 0.55, 0.5, 0.52, 0.56, 0.6, 0.65, 0.7])]
    [f] = overfitting({"train/loss": train, "val/loss": val})
    assert f.evidence["best_step"] == 4 and f.evidence["evaluations_after_best"] == 5
    assert overfitting({"train/loss": train, "val/loss": [(e, 1.0 / (e + 2)) for e in range(10)]}) == []


def test_weak_regularizer() -> None:
    series = {"loss_terms/quality": [(s, 2.0) for s in range(5)], "loss_terms/diversity": [(s, 0.05) for s in range(5)]}
    [f] = weak_regularizer(series)
    assert f.evidence["term"] == "diversity" and f.evidence["mean_share"] == pytest.approx(0.05 / 2.05)
    series["loss_terms/diversity"] = [(s, 0.6) for s in range(5)]
    assert weak_regularizer(series) == []


def test_all_zero_series() -> None:
    [f] = all_zero_series({"val/distinct_2": [(0, 0.0), (1, float("nan"))], "train/loss": [(0, 1.0)]})
    assert f.metrics == ("val/distinct_2",) and f.severity == "error"
    assert all_zero_series({"epoch": [(0, 0.0)], "val/acc": [(0, 0.0), (1, 0.2)]}) == []


def test_missing_checkpoint() -> None:
    view = RunView(id="r1", name="r", prediction_checkpoints={"test": "ab" * 32}, known_checkpoints=frozenset({"cd" * 32}))
    [f] = missing_checkpoint(view)
    assert f.severity == "error" and "not in the store" in f.title
    trained = RunView(id="r1", name="r", prediction_checkpoints={"val": None}, trained=True)
    [g] = missing_checkpoint(trained)
    assert "without naming a checkpoint" in g.title
    ok = RunView(id="r1", name="r", prediction_checkpoints={"test": "cd" * 32}, known_checkpoints=frozenset({"cd" * 32}))
    assert missing_checkpoint(ok) == []


def views(values: dict[str, list[float]], configs: list[dict] | None = None) -> list[RunView]:
    n = len(next(iter(values.values())))
    configs = configs or [{"lr": 10.0**-i} for i in range(n)]
    return [RunView(id=f"r{i}", name=f"run{i}", config=configs[i], summary={k: v[i] for k, v in values.items()})
            for i in range(n)]


def test_constant_metric() -> None:
    [f] = constant_metric(views({"test/top1": [0.3484, 0.34841, 0.3484], "test/kl": [0.4, 0.5, 0.6]}))
    assert f.metrics == ("test/top1",) and f.evidence["config_keys_that_differ"] == ["lr"]
    same = [{"lr": 0.1}] * 3
    assert constant_metric(views({"test/top1": [0.3484] * 3}, same)) == []  # configs do not differ
    assert constant_metric(views({"test/top1": [0.3484, 0.35, 0.36]})) == []


def test_ceiling_effect() -> None:
    [f] = ceiling_effect(views({"pass@10": [0.998, 0.996]}))
    assert f.metrics == ("pass@10",)
    assert ceiling_effect(views({"pass@10": [0.998, 0.90]})) == []


def test_outlier_run() -> None:
    [f] = merge_outliers(judged(outliers(views({"val/loss": [0.50, 0.52, 0.49, 20.0, 0.51]}))))
    assert f.runs == ("r3",) and f.evidence["deviations"][0]["factor"] > 10
    assert judged(outliers(views({"val/loss": [0.50, 0.52, 0.49, 0.9, 0.51]}))) == []


def test_val_test_disagreement() -> None:
    fired = val_test_disagreement(views({"val/loss": [0.1, 0.2, 0.3, 0.4], "test/loss": [0.9, 0.2, 0.3, 0.4]}),
                                  "val/loss", "test/loss")
    assert fired[0].evidence["chosen_by_validation"] == "r0" and fired[0].evidence["test_rank"] == 4
    agree = views({"val/loss": [0.1, 0.2, 0.3, 0.4], "test/loss": [0.15, 0.2, 0.3, 0.4]})
    assert val_test_disagreement(agree, "val/loss", "test/loss") == []


def test_not_significant_and_target_gap() -> None:
    [f] = not_significant("accuracy", 0.016, (-0.004, 0.036))
    assert f.evidence["ci95"] == [-0.004, 0.036]
    assert not_significant("accuracy", 0.03, (0.01, 0.05)) == []
    [g] = target_gap("test/macro_f1", 0.585, {"minimum": 0.6, "target": 0.75, "stretch": 0.8})
    assert g.severity == "error" and g.evidence["tiers"]["target"]["share_reached"] == pytest.approx(0.585 / 0.75)
    assert target_gap("test/macro_f1", 0.9, {"target": 0.75}) == []
    [h] = target_gap("test/loss", 0.5, {"target": 0.4})
    assert h.evidence["direction"] == "lower"


def test_entry_points_sort_errors_first(rng: np.random.Generator) -> None:
    y = rng.integers(0, 3, 300)
    probs = onehot_probs(np.zeros(300, int), 3)
    test = table_from_arrays(y, probs, texts=["X, y"] + [f"t{i}" for i in range(299)])
    val = table_from_arrays(y[:2], probs[:2], texts=["x y", "v"])
    view = RunView(id="r1", name="r", evaluations={"test": evaluate(y, probs, ci=False),
                                                   "val": evaluate(y[:2], probs[:2], ci=False)},
                   tables={"val": val, "test": test}, prediction_checkpoints={"test": None}, trained=True)
    found = run_findings(view, targets={"test/accuracy": {"target": 0.9}})
    kinds = [f.kind for f in found]
    assert {"majority_collapse", "missing_checkpoint", "leakage", "target_gap"} <= set(kinds)
    severities = [f.severity for f in found]
    assert severities == sorted(severities, key=["error", "warning", "info"].index)
    sweep = views({"val/loss": [0.1, 0.2, 0.3, 0.4], "test/loss": [0.9, 0.2, 0.3, 0.4], "test/top1": [0.35] * 4})
    assert {f.kind for f in group_findings(sweep)} == {"val_test_disagreement", "constant_metric"}
    assert all(isinstance(f.to_dict()["evidence"], dict) for f in found)
