"""Decision rules: logit adjustment tuned for macro-F1 on validation only, scored on test."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from sklearn.metrics import f1_score

from runcard.decision import GRID, decision_rules, fit_logit_adjustment, macro_f1
from runcard.table import table_from_arrays


def _imbalanced(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Labels with a rare class whose scores are biased down: argmax under-predicts it."""
    rng = np.random.default_rng(seed)
    y = rng.choice(3, size=n, p=[0.6, 0.32, 0.08])
    logits = rng.normal(size=(n, 3)) + 1.5 * np.eye(3)[y]
    logits[:, 2] -= 2.5
    return y, logits


def _log_softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max(axis=1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=1, keepdims=True))


def test_macro_f1_matches_sklearn() -> None:
    y, logits = _imbalanced(300, 0)
    pred = logits.argmax(1)
    assert macro_f1(y, pred, 3) == pytest.approx(f1_score(y, pred, average="macro", labels=[0, 1, 2]))


def test_adjustment_raises_validation_macro_f1_and_reports_it_exactly() -> None:
    y, logits = _imbalanced(600, 1)
    fit = fit_logit_adjustment(_log_softmax(logits), y)
    assert fit.offsets[0] == 0.0
    assert fit.offsets[2] > 0  # the under-predicted rare class is pushed up
    after = (_log_softmax(logits) + fit.offsets).argmax(1)
    assert fit.val_macro_f1_after == pytest.approx(f1_score(y, after, average="macro"))
    assert fit.val_macro_f1_before == pytest.approx(f1_score(y, logits.argmax(1), average="macro"))
    assert fit.val_macro_f1_after > fit.val_macro_f1_before + 0.02


def test_two_classes_coordinate_ascent_equals_exhaustive_grid_search() -> None:
    rng = np.random.default_rng(3)
    y = rng.choice(2, size=200, p=[0.85, 0.15])
    logits = rng.normal(size=(200, 2)) + np.eye(2)[y] - np.array([0.0, 1.0])
    scores = _log_softmax(logits)
    fit = fit_logit_adjustment(scores, y)
    best = max(f1_score(y, (scores + np.array([0.0, g])).argmax(1), average="macro") for g in GRID)
    assert fit.val_macro_f1_after == pytest.approx(best)


def test_three_classes_never_worse_than_any_single_grid_point_on_one_class() -> None:
    y, logits = _imbalanced(400, 5)
    scores = _log_softmax(logits)
    fit = fit_logit_adjustment(scores, y)
    for c, g in itertools.product((1, 2), GRID):
        offsets = np.zeros(3)
        offsets[c] = g
        assert fit.val_macro_f1_after >= f1_score(y, (scores + offsets).argmax(1), average="macro") - 1e-12


def test_decision_rules_never_look_at_test_labels_or_scores() -> None:
    yv, lv = _imbalanced(500, 7)
    yt, lt = _imbalanced(700, 8)
    classes = ["a", "b", "rare"]
    val = table_from_arrays(yv, logits=lv, classes=classes)
    test = table_from_arrays(yt, logits=lt, classes=classes)
    rng = np.random.default_rng(0)
    other_test = table_from_arrays(rng.permutation(yt), logits=rng.normal(size=lt.shape), classes=classes)
    a = decision_rules(val, test, n_boot=200)
    b = decision_rules(val, other_test, n_boot=200)
    assert a["logit_adjustment"]["offsets"] == b["logit_adjustment"]["offsets"]
    assert a["temperature"] == b["temperature"]
    # what the test row says is computed on test, exactly
    rules = {r["rule"]: r for r in a["rules"]}
    offsets = np.array(a["logit_adjustment"]["offsets"])
    adjusted = (np.log(test.probs) + offsets).argmax(1)
    assert rules["logit_adjustment"]["macro_f1"] == pytest.approx(f1_score(yt, adjusted, average="macro"))
    assert rules["argmax"]["macro_f1"] == pytest.approx(f1_score(yt, lt.argmax(1), average="macro"))
    assert rules["temperature"]["macro_f1"] == pytest.approx(rules["argmax"]["macro_f1"])  # argmax unchanged
    delta = rules["logit_adjustment"]["vs_argmax"]["macro_f1"]
    assert delta["b_minus_a"] == pytest.approx(rules["logit_adjustment"]["macro_f1"] - rules["argmax"]["macro_f1"])
    assert delta["ci95"][0] <= delta["b_minus_a"] <= delta["ci95"][1]
    assert rules["logit_adjustment"]["changed_rows"] == int(np.count_nonzero(adjusted != lt.argmax(1)))
