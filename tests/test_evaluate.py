"""`runcard.evaluate`: the documented JSON, agreement with scikit-learn, warnings, bad input."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from hypothesis import given
from sklearn import metrics as skm

from runcard import InputError, evaluate
from tests.conftest import prediction_cases, random_probs

REQUIRED_KEYS = {
    "n", "classes", "accuracy", "balanced_accuracy", "macro_f1", "micro_f1", "weighted_f1", "per_class",
    "confusion_matrix", "top_k_accuracy", "nll", "brier", "ece", "mce", "adaptive_ece", "ci95", "warnings",
}


@given(prediction_cases())
def test_to_dict_matches_sklearn_and_is_json(case: tuple[np.ndarray, np.ndarray]) -> None:
    codes, probs = case
    k = probs.shape[1]
    d = evaluate(codes, probs, n_boot=50).to_dict()
    assert set(d) >= REQUIRED_KEYS
    json.dumps(d, allow_nan=False)  # strict JSON: no NaN anywhere
    pred = probs.argmax(axis=1)
    labels = np.arange(k)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert d["accuracy"] == pytest.approx(skm.accuracy_score(codes, pred))
        assert d["macro_f1"] == pytest.approx(skm.f1_score(codes, pred, labels=labels, average="macro", zero_division=0))
        assert d["nll"] == pytest.approx(skm.log_loss(codes, probs, labels=labels))
        report = skm.classification_report(codes, pred, labels=labels, output_dict=True, zero_division=0)
    for i in range(k):
        assert d["per_class"][str(i)]["f1"] == pytest.approx(report[str(i)]["f1-score"])
        assert d["per_class"][str(i)]["support"] == report[str(i)]["support"]
    assert d["confusion_matrix"] == skm.confusion_matrix(codes, pred, labels=labels).tolist()
    assert set(d["top_k_accuracy"]) == {str(t) for t in (2, 3) if t < k}
    lo, hi = d["ci95"]["accuracy"]
    assert lo <= d["accuracy"] <= hi or d["n"] == 1


def test_string_labels_follow_the_classes_order(rng: np.random.Generator) -> None:
    classes = ["neg", "neu", "pos"]
    probs = random_probs(rng, 200, 3)
    names = np.array(classes)[rng.integers(0, 3, 200)]
    d = evaluate(names, probs, classes=classes, ci=False).to_dict()
    assert d["classes"] == classes
    pred = np.array(classes)[probs.argmax(axis=1)]
    expected = skm.confusion_matrix(names, pred, labels=classes).tolist()
    assert d["confusion_matrix"] == expected
    assert set(d["per_class"]) == set(classes)
    assert d["ci95"] is None


def test_single_row() -> None:
    d = evaluate([1], [[0.2, 0.8]]).to_dict()
    assert d["accuracy"] == 1.0 and d["n"] == 1
    assert d["ci95"]["accuracy"] == [1.0, 1.0]
    warned = {(w["code"], w.get("class")) for w in d["warnings"]}
    assert ("undefined_f1", 0) in warned  # class 0 is neither true nor predicted
    assert ("undefined_mcc", None) in warned


def test_undefined_scores_are_zero_and_warned() -> None:
    probs = np.array([[0.9, 0.05, 0.05], [0.8, 0.1, 0.1], [0.2, 0.7, 0.1]])
    d = evaluate(["a", "b", "b"], probs, classes=["a", "b", "c"], ci=False).to_dict()
    assert d["per_class"]["c"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0, "predicted": 0}
    warned = {(w["code"], w.get("class")) for w in d["warnings"]}
    assert ("undefined_f1", "c") in warned
    # macro averages include the absent class, as scikit-learn with labels= does
    expected = skm.f1_score([0, 1, 1], [0, 0, 1], labels=[0, 1, 2], average="macro", zero_division=0)
    assert d["macro_f1"] == pytest.approx(expected)


def test_soft_targets_add_divergences(rng: np.random.Generator) -> None:
    target = rng.dirichlet(np.ones(4), size=100)
    probs = rng.dirichlet(np.ones(4), size=100)
    d = evaluate(target.argmax(axis=1), probs, y_target=target, ci=False).to_dict()
    assert {"kl", "js", "js_divergence", "js_distance", "target_top1", "target_top3"} <= set(d)
    assert d["js"] == d["js_divergence"]
    assert d["target_top1"] == pytest.approx(np.mean(target.argmax(1) == probs.argmax(1)))


def test_settings_sign_every_number() -> None:
    d = evaluate([0, 1], [[0.6, 0.4], [0.3, 0.7]], bins=7, n_boot=20, seed=3).to_dict()
    assert d["settings"]["bins"] == 7
    assert d["settings"]["ci"]["n_boot"] == 20 and d["settings"]["ci"]["seed"] == 3
    assert "bins=7" in d["settings"]["signature"]
    assert len(d["reliability"]) == 7


def test_ci_is_reproducible_and_depends_on_the_seed(rng: np.random.Generator) -> None:
    probs = random_probs(rng, 300, 4)
    codes = rng.integers(0, 4, 300)
    a = evaluate(codes, probs, seed=1).ci95
    assert a == evaluate(codes, probs, seed=1).ci95
    assert a != evaluate(codes, probs, seed=2).ci95


@pytest.mark.parametrize(
    ("y_true", "y_prob", "kwargs", "message"),
    [
        ([0, 1], [[0.5, np.nan], [0.5, 0.5]], {}, r"row 0, column 1: probability is NaN"),
        ([0, 1], [[0.5, 0.5], [np.inf, 0.5]], {}, r"row 1, column 0: probability is inf"),
        ([0, 1], [[1.2, -0.2], [0.5, 0.5]], {}, r"row 0, column 1: probability -0.2 is negative"),
        ([0, 1], [[0.5, 0.5], [0.7, 0.7]], {}, r"row 1: probabilities sum to 1.4"),
        ([0, 2], [[0.5, 0.5], [0.5, 0.5]], {}, r"row 1: label 2 is not a class code"),
        (["a", "b"], [[0.5, 0.5], [0.5, 0.5]], {}, r"pass classes="),
        (["a", "z"], [[0.5, 0.5], [0.5, 0.5]], {"classes": ["a", "b"]}, r"row 1: label 'z' is not among"),
        ([0], [[0.5, 0.5], [0.5, 0.5]], {}, r"1 labels but y_prob has 2 rows"),
        ([0], [0.5, 0.5], {}, r"expected a 2-D array"),
        ([0, 1], [[0.5, 0.5], [0.5, 0.5]], {"bins": 0}, r"bins: expected a whole number"),
    ],
)
def test_bad_input_names_the_problem(y_true: object, y_prob: object, kwargs: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        evaluate(y_true, y_prob, **kwargs)


def test_renormalize_opts_in() -> None:
    d = evaluate([0, 1], [[1.0, 1.0], [1.0, 3.0]], renormalize=True, ci=False).to_dict()
    assert d["nll"] == pytest.approx(-(np.log(0.5) + np.log(0.75)) / 2)
