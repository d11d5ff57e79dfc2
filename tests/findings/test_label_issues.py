"""label_issue: confident learning checked against cleanlab's own find_label_issues, and its calibrated null."""

from __future__ import annotations

import json

import numpy as np
import pytest
from cleanlab.count import compute_confident_joint, get_confident_thresholds
from cleanlab.filter import find_label_issues

from runcard import table_from_arrays
from runcard.errors import InputError
from runcard.findings.budget import apply_budget
from runcard.findings.label_issues import confident_joint, label_issue, label_issues
from runcard.table import PredictionTable


def softmax_probs(rng: np.random.Generator, n: int, k: int, sharp: float) -> np.ndarray:
    z = rng.normal(size=(n, k)) * sharp
    p = np.exp(z - z.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


def drawn(rng: np.random.Generator, p: np.ndarray) -> np.ndarray:
    """Labels drawn from the probabilities: a calibrated model of them."""
    return np.minimum((p.cumsum(axis=1) < rng.random(len(p))[:, None]).sum(axis=1), p.shape[1] - 1)


def flipped(rng: np.random.Generator, y: np.ndarray, k: int, share: float = 0.1) -> np.ndarray:
    """``share`` of the rows moved to another class chosen at random."""
    rows = rng.permutation(len(y))[: round(share * len(y))]
    out = y.copy()
    out[rows] = (out[rows] + rng.integers(1, k, len(rows))) % k
    return out


def noisy_case(seed: int, n: int, k: int, sharp: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = softmax_probs(rng, n, k, sharp)
    return flipped(rng, drawn(rng, p), k), p


CASES = [(0, 100, 2, 1.0), (1, 300, 2, 4.0), (2, 500, 3, 2.0), (3, 1000, 4, 0.5), (4, 3000, 5, 2.0),
         (5, 2000, 7, 3.0), (6, 800, 10, 1.0), (7, 3000, 10, 4.0), (8, 150, 6, 2.0), (9, 2500, 8, 0.3)]


@pytest.mark.parametrize(("seed", "n", "k", "sharp"), CASES)
def test_flags_equal_cleanlab(seed: int, n: int, k: int, sharp: float) -> None:
    y, p = noisy_case(seed, n, k, sharp)
    thresholds, joint, issues = confident_joint(y, p)
    expected = find_label_issues(y, p, filter_by="confident_learning")
    np.testing.assert_array_equal(issues, expected)
    cl_joint = compute_confident_joint(y, p, calibrate=False)  # cleanlab lifts the diagonal to >= 1
    np.testing.assert_array_equal(np.where(np.eye(k, dtype=bool), np.maximum(joint, 1), joint), cl_joint)
    np.testing.assert_array_equal(thresholds, get_confident_thresholds(y, p))


@pytest.mark.parametrize("seed", range(5))
def test_ties_and_tolerance_equal_cleanlab(seed: int) -> None:
    """Rows from a few prototypes: exact ties between classes and probabilities on the threshold."""
    rng = np.random.default_rng(seed)
    prototypes = np.array([[0.5, 0.25, 0.25, 0.0], [0.4, 0.4, 0.2, 0.0], [0.25] * 4, [0.2, 0.2, 0.2, 0.4],
                           [0.1, 0.45, 0.45, 0.0], [0.0, 0.0, 0.5, 0.5]])
    p = prototypes[rng.integers(0, len(prototypes), 400)]
    y = rng.integers(0, 4, 400)
    np.testing.assert_array_equal(confident_joint(y, p)[2], find_label_issues(y, p, filter_by="confident_learning"))


def test_thresholds_are_mean_self_confidence() -> None:
    y, p = noisy_case(11, 600, 4)
    expected = [sum(p[i, j] for i in range(len(y)) if y[i] == j) / sum(1 for v in y if v == j) for j in range(4)]
    np.testing.assert_allclose(confident_joint(y, p)[0], expected, rtol=1e-12)


def test_issues_are_off_diagonal_rows() -> None:
    y, p = noisy_case(12, 1000, 5)
    thresholds, joint, issues = confident_joint(y, p)
    assert issues.sum() <= joint.sum() - np.trace(joint)
    above = p >= thresholds - 1e-6
    assert not (issues & (above.sum(axis=1) == 0)).any()  # a flagged row is confident in some class


def test_class_with_no_rows() -> None:
    rng = np.random.default_rng(13)
    p = softmax_probs(rng, 500, 4, 2.0)
    y = drawn(rng, p)
    y[y == 3] = 0  # class 3 has no rows, though the model gives it probability
    thresholds, joint, issues = confident_joint(y, p)
    assert thresholds[3] == np.inf and joint[:, 3].sum() == 0 and joint[3].sum() == 0
    np.testing.assert_array_equal(issues, find_label_issues(y, p, filter_by="confident_learning"))
    found = label_issue(table_from_arrays(y, p), "test")
    assert json.loads(json.dumps(found[0].to_dict()))["evidence"]["thresholds"]["3"] is None


def test_budget_false_alarms_and_power() -> None:
    """20 seeds of 1,000 rows, 4 classes, 200 null draws. Labels drawn from the probabilities (a calibrated
    model): the budget (alpha 0.05, this rule alone) kept 1 of 20 (7 of 200 on other seeds: 3.5 %); 10 % of
    those labels flipped to another class at random: kept 20 of 20, each with p = 1/201 (no draw as high)."""
    kept_clean = kept_noisy = 0
    for seed in range(20):
        rng = np.random.default_rng(100 + seed)
        p = softmax_probs(rng, 1000, 4, 2.5)
        y = drawn(rng, p)
        kept_clean += len(apply_budget(label_issue(table_from_arrays(y, p), "test"))[0])
        kept_noisy += len(apply_budget(label_issue(table_from_arrays(flipped(rng, y, 4), p), "test"))[0])
    assert kept_clean <= 3
    assert kept_noisy >= 18


def test_rows_ranked_and_bounded() -> None:
    y, p = noisy_case(14, 800, 5)
    texts = np.array([f"row {i} " + "x" * (400 if i % 2 else 10) for i in range(800)], dtype=object)
    ids = np.array([f"id{i}" for i in range(800)], dtype=object)
    table = table_from_arrays(y, p, ids=ids, texts=texts, classes=["a", "b", "c", "d", "e"])
    found = label_issues(table, max_rows=7, draws=50)
    flagged = np.flatnonzero(confident_joint(y, p)[2])
    assert found.observed == len(flagged) > 7 and len(found.rows) == 7
    confidences = [r["self_confidence"] for r in found.rows]
    assert confidences == sorted(confidences)
    assert confidences == sorted(p[flagged, y[flagged]])[:7]
    for r in found.rows:
        assert r["id"] == f"id{r['row']}" and len(r["text"]) <= 300 and texts[r["row"]].startswith(r["text"][:-1])
        assert r["given"] == "abcde"[y[r["row"]]] and r["suggested"] != r["given"]
        assert r["self_confidence"] == p[r["row"], y[r["row"]]]
    assert label_issues(table, max_rows=0, draws=5).rows == ()


def test_finding_fields() -> None:
    y, p = noisy_case(15, 1000, 3)
    (f,) = label_issue(table_from_arrays(y, p), "test", run="r1", draws=99, seed=3)
    assert (f.kind, f.severity, f.runs, f.splits) == ("label_issue", "warning", ("r1",), ("test",))
    assert f.title.startswith(f"test: {f.evidence['observed']} rows whose label")
    assert f.evidence["null_draws"] == 99 and f.eligible and f.p_value < 1e-6
    assert f.evidence["method"].startswith("confident learning (Northcutt et al. 2021)")
    json.dumps(f.to_dict())


def test_null_is_reproducible_and_its_tail_normal() -> None:
    from scipy.stats import norm

    y, p = noisy_case(16, 300, 3)
    a, b = label_issues(table_from_arrays(y, p), draws=40, seed=5), label_issues(table_from_arrays(y, p), draws=40, seed=5)
    np.testing.assert_array_equal(a.null, b.null)
    # the upper tail of the normal fitted to the draws, continuity-corrected (scipy as the reference)
    assert a.p_value == pytest.approx(norm.sf(a.observed - 0.5, a.null.mean(), a.null.std(ddof=1)))


def test_too_small_or_one_class() -> None:
    rng = np.random.default_rng(17)
    p = softmax_probs(rng, 19, 3, 2.0)
    assert label_issue(table_from_arrays(drawn(rng, p), p), "test") == []
    one_class = PredictionTable(classes=("a",), y_true=np.zeros(50, dtype=np.int64), probs=np.ones((50, 1)))
    assert label_issue(one_class, "test") == []  # table_from_arrays refuses it; the rule does not rely on that


def test_bad_input_names_the_argument() -> None:
    y, p = noisy_case(18, 100, 3)
    with pytest.raises(InputError, match="draws"):
        label_issues(table_from_arrays(y, p), draws=0)
    with pytest.raises(InputError, match="max_rows"):
        label_issues(table_from_arrays(y, p), max_rows=-1)
    with pytest.raises(InputError, match="y: class codes"):
        confident_joint(np.full(100, 3), p)
    with pytest.raises(InputError, match="probs"):
        confident_joint(y, p[0])
