"""Count-based metrics against scikit-learn, over many random cases, plus invariances."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from sklearn import metrics as skm

from runcard.metrics.classification import (
    confusion_matrix,
    most_confused_pairs,
    per_class_scores,
    summary_scores,
    undefined_scores,
)
from tests.conftest import prediction_cases


def sklearn_reference(codes: np.ndarray, pred: np.ndarray, k: int) -> dict[str, object]:
    """Every count-based score as scikit-learn computes it, over all K labels, zero_division=0."""
    labels = np.arange(k)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # undefined values are checked separately
        p, r, f, s = skm.precision_recall_fscore_support(codes, pred, labels=labels, zero_division=0)
        ref = {
            "confusion": skm.confusion_matrix(codes, pred, labels=labels),
            "precision": p, "recall": r, "f1": f, "support": s,
            "accuracy": skm.accuracy_score(codes, pred),
            "balanced_accuracy": skm.balanced_accuracy_score(codes, pred),
            "cohen_kappa": skm.cohen_kappa_score(codes, pred, labels=labels),
            "mcc": skm.matthews_corrcoef(codes, pred),
        }
        for avg in ("macro", "micro", "weighted"):
            ref[f"{avg}_precision"] = skm.precision_score(codes, pred, labels=labels, average=avg, zero_division=0)
            ref[f"{avg}_recall"] = skm.recall_score(codes, pred, labels=labels, average=avg, zero_division=0)
            ref[f"{avg}_f1"] = skm.f1_score(codes, pred, labels=labels, average=avg, zero_division=0)
    return ref


@given(prediction_cases())
def test_every_count_metric_matches_sklearn(case: tuple[np.ndarray, np.ndarray]) -> None:
    codes, probs = case
    k = probs.shape[1]
    pred = probs.argmax(axis=1)
    cm = confusion_matrix(codes, pred, k)
    ref = sklearn_reference(codes, pred, k)
    np.testing.assert_array_equal(cm, ref["confusion"])
    per = per_class_scores(cm)
    for key in ("precision", "recall", "f1", "support"):
        np.testing.assert_allclose(per[key], ref[key], rtol=0, atol=1e-12, err_msg=key)
    scores = summary_scores(cm)
    for key, value in scores.items():
        expected = ref[key]
        if key == "cohen_kappa" and np.isnan(expected):
            expected = 0.0  # undefined (p_e = 1): runcard reports 0.0 and warns
        assert float(value) == pytest.approx(float(expected), abs=1e-12), key


def test_balanced_accuracy_leaves_out_absent_classes_like_sklearn() -> None:
    codes = np.array([0, 0, 1, 1])
    pred = np.array([0, 2, 1, 1])  # class 2 is predicted but never true
    cm = confusion_matrix(codes, pred, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = skm.balanced_accuracy_score(codes, pred)
    assert summary_scores(cm)["balanced_accuracy"] == pytest.approx(expected)
    assert summary_scores(cm)["balanced_accuracy"] == pytest.approx((0.5 + 1.0) / 2)


def test_batched_matrices_score_like_single_ones(rng: np.random.Generator) -> None:
    cms = rng.integers(0, 20, size=(6, 4, 4))
    batched = summary_scores(cms)
    for i, cm in enumerate(cms):
        single = summary_scores(cm)
        for key in single:
            assert batched[key][i] == pytest.approx(float(single[key]), abs=1e-12)


def test_row_order_and_class_renaming_do_not_change_scores(rng: np.random.Generator) -> None:
    k, n = 5, 400
    codes = rng.integers(0, k, n)
    pred = rng.integers(0, k, n)
    base = summary_scores(confusion_matrix(codes, pred, k))
    order = rng.permutation(n)
    shuffled = summary_scores(confusion_matrix(codes[order], pred[order], k))
    rename = rng.permutation(k)
    renamed_cm = confusion_matrix(rename[codes], rename[pred], k)
    renamed = summary_scores(renamed_cm)
    for key in base:
        assert float(shuffled[key]) == pytest.approx(float(base[key]), abs=1e-12)
        assert float(renamed[key]) == pytest.approx(float(base[key]), abs=1e-12)
    f1 = per_class_scores(confusion_matrix(codes, pred, k))["f1"]
    np.testing.assert_allclose(per_class_scores(renamed_cm)["f1"][rename], f1)


def test_undefined_scores_are_named() -> None:
    # class 2: never true, never predicted; class 1: true but never predicted.
    cm = confusion_matrix(np.array([0, 1, 0]), np.array([0, 0, 0]), 3)
    undefined = undefined_scores(cm)
    assert undefined["f1"] == [2]
    assert undefined["precision"] == [1, 2]
    assert undefined["recall"] == [2]
    assert undefined["cohen_kappa"] == []  # p_e = 2/3: defined (and 0.0)
    assert undefined["mcc"] == [0]  # every prediction is one class
    constant = confusion_matrix(np.array([0, 0]), np.array([0, 0]), 2)
    assert undefined_scores(constant)["cohen_kappa"] == [0]  # p_e = 1


def test_most_confused_pairs_rank_both_directions() -> None:
    cm = np.array([[5, 3, 0], [4, 5, 1], [0, 6, 5]])
    pairs = most_confused_pairs(cm)
    # (0,1): 3 + 4 = 7; (1,2): 1 + 6 = 7, larger single direction 6 ranks it first; (0,2): 0.
    assert pairs == [(1, 2, 1, 6), (0, 1, 3, 4)]
