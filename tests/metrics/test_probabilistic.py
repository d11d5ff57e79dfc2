"""Log loss, Brier score and top-k accuracy against scikit-learn and written-out formulas."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from sklearn import metrics as skm

from runcard.errors import InputError
from runcard.metrics.probabilistic import brier_loss, log_loss, row_statistics, top_k_accuracy_score
from tests.conftest import prediction_cases


@given(prediction_cases())
def test_log_loss_matches_sklearn(case: tuple[np.ndarray, np.ndarray]) -> None:
    codes, probs = case
    expected = skm.log_loss(codes, probs, labels=np.arange(probs.shape[1]))
    assert log_loss(codes, probs) == pytest.approx(expected, rel=1e-12, abs=1e-12)


@given(prediction_cases())
def test_brier_matches_the_formula(case: tuple[np.ndarray, np.ndarray]) -> None:
    codes, probs = case
    onehot = np.eye(probs.shape[1])[codes]
    expected = np.mean(np.sum((probs - onehot) ** 2, axis=1))
    assert brier_loss(codes, probs) == pytest.approx(expected, rel=1e-10, abs=1e-12)


@given(prediction_cases())
def test_top_k_matches_sklearn_without_ties(case: tuple[np.ndarray, np.ndarray]) -> None:
    codes, probs = case
    k_classes = probs.shape[1]
    for k in (1, 2, 3):
        if k >= k_classes:
            continue
        if k_classes == 2:  # scikit-learn treats 2 columns as binary scores; top-1 is accuracy
            expected = skm.accuracy_score(codes, probs.argmax(axis=1))
        else:
            expected = skm.top_k_accuracy_score(codes, probs, k=k, labels=np.arange(k_classes))
        assert top_k_accuracy_score(codes, probs, k=k) == pytest.approx(expected, abs=1e-12)


def test_top_1_equals_accuracy_under_ties() -> None:
    # Row 0: classes 0 and 1 tie; argmax takes class 0, so class 0 ranks first.
    probs = np.array([[0.4, 0.4, 0.2], [0.4, 0.4, 0.2], [0.2, 0.4, 0.4]])
    codes = np.array([0, 1, 2])
    rows = row_statistics(probs, codes)
    assert rows.rank.tolist() == [0, 1, 1]
    assert top_k_accuracy_score(codes, probs, k=1) == pytest.approx(1 / 3)
    assert top_k_accuracy_score(codes, probs, k=2) == pytest.approx(1.0)


def test_ties_at_zero_probability_rank_by_index() -> None:
    # Hard (one-hot) predictions: the true class ties at 0 with the other wrong classes.
    probs = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]])
    codes = np.array([2, 1])
    # row 0: class 0 (1.0) above, class 1 ties at 0 with lower index -> rank 2
    # row 1: class 3 above, class 0 ties with lower index -> rank 2
    assert row_statistics(probs, codes).rank.tolist() == [2, 2]
    assert top_k_accuracy_score(codes, probs, k=2) == 0.0
    assert top_k_accuracy_score(codes, probs, k=3) == 1.0


def test_confidence_is_the_max_probability(rng: np.random.Generator) -> None:
    probs = rng.dirichlet(np.ones(6), size=500)
    codes = rng.integers(0, 6, 500)
    rows = row_statistics(probs, codes)
    np.testing.assert_array_equal(rows.confidence, probs.max(axis=1))
    np.testing.assert_array_equal(rows.p_true, probs[np.arange(500), codes])
    np.testing.assert_array_equal(rows.correct, probs.argmax(axis=1) == codes)


def test_bad_k_is_rejected() -> None:
    with pytest.raises(InputError, match="k: expected a whole number >= 1"):
        top_k_accuracy_score([0], [[0.5, 0.5]], k=0)
