"""Cross-task tables and target rows, against counts and scores computed independently."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score

from runcard.report.tasks import cross_task, target_rows
from runcard.table import table_from_arrays


def test_cross_task_scores_each_class_of_one_task_given_the_other() -> None:
    rng = np.random.default_rng(0)
    n = 400
    ids = [f"r{i}" for i in range(n)]
    stance = rng.choice(3, size=n)
    sentiment = rng.choice(3, size=n, p=[0.6, 0.3, 0.1])
    ls, lt = rng.normal(size=(n, 3)) + 2 * np.eye(3)[stance], rng.normal(size=(n, 3)) + 2 * np.eye(3)[sentiment]
    order = rng.permutation(n)  # the second task's file in another row order: paired by id
    tables = {
        "stance": table_from_arrays(stance, logits=ls, classes=["A", "F", "N"], ids=ids),
        "sentiment": table_from_arrays(sentiment[order], logits=lt[order], classes=["neg", "pos", "nei"],
                                       ids=[ids[i] for i in order]),
    }
    out = {(e["given"], e["task"]): e for e in cross_task(tables)}
    assert set(out) == {("stance", "sentiment"), ("sentiment", "stance")}
    entry = out[("stance", "sentiment")]
    expected_joint = [[int(np.sum((stance == a) & (sentiment == b))) for b in range(3)] for a in range(3)]
    assert entry["joint_counts"] == expected_joint
    pred = lt.argmax(1)
    for a, row in enumerate(entry["rows"]):
        rows = stance == a
        assert row["n"] == int(rows.sum())
        assert row["accuracy"] == pytest.approx(accuracy_score(sentiment[rows], pred[rows]))
        f1 = f1_score(sentiment[rows], pred[rows], labels=[0, 1, 2], average=None, zero_division=0)
        assert [row["f1"][c] for c in ("neg", "pos", "nei")] == pytest.approx(f1.tolist())
        assert row["macro_f1"] == pytest.approx(f1.mean())
        assert [row["support"][c] for c in ("neg", "pos", "nei")] == np.bincount(sentiment[rows], minlength=3).tolist()


def test_cross_task_refuses_tasks_on_different_rows() -> None:
    a = table_from_arrays([0, 1], [[0.9, 0.1], [0.2, 0.8]], classes=["x", "y"], ids=["1", "2"])
    b = table_from_arrays([0, 1], [[0.9, 0.1], [0.2, 0.8]], classes=["u", "v"], ids=["1", "3"])
    with pytest.raises(Exception, match="different rows"):
        cross_task({"a": a, "b": b})


def test_target_rows_gap_share_and_direction() -> None:
    rows = target_rows({"test/macro_f1": {"target": 0.75, "minimum": 0.5}, "test/ece": {"target": 0.05,
                                                                                      "direction": "lower"},
                        "test/other": {"target": 1.0}},
                       {"test/macro_f1": 0.6, "test/ece": 0.1}, {"test/macro_f1": [0.55, 0.65]})
    by = {(r["metric"], r["tier"]): r for r in rows}
    assert by[("test/macro_f1", "target")]["gap"] == pytest.approx(0.15)
    assert by[("test/macro_f1", "target")]["share_reached"] == pytest.approx(0.8)
    assert by[("test/macro_f1", "target")]["met"] is False
    assert by[("test/macro_f1", "minimum")]["met"] is True
    assert by[("test/macro_f1", "target")]["ci95"] == [0.55, 0.65]
    assert by[("test/ece", "target")]["gap"] == pytest.approx(0.05)
    assert by[("test/ece", "target")]["share_reached"] == pytest.approx(0.5)
    assert by[("test/other", "target")]["value"] is None
