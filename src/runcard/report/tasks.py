"""Card sections of multi-task runs and of targets: each task given each class of another, and
how far each target is.

Cross-task tables read the stored predictions of two tasks on the same rows (paired by id), so
"F1 of sentiment among AGAINST tweets" is computed from the rows, never estimated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from runcard.errors import InputError
from runcard.metrics.classification import confusion_matrix, per_class_scores, summary_scores
from runcard.table import PredictionTable


def _aligned(a: PredictionTable, b: PredictionTable) -> PredictionTable:
    """``b``'s rows in ``a``'s order (by id, else by row order)."""
    if a.ids is None or b.ids is None:
        if a.n != b.n:
            raise InputError(f"{a.name} and {b.name} differ in rows and have no ids to pair them by.")
        return b
    position = {v: i for i, v in enumerate(b.ids.tolist())}
    missing = [v for v in a.ids.tolist() if v not in position]
    if missing or a.n != b.n:
        raise InputError(f"{a.name} and {b.name} hold different rows (e.g. id {missing[:1]}); the tasks of one run "
                         "must be predicted on the same rows.")
    return b.take(np.array([position[v] for v in a.ids.tolist()]))


def cross_task(tables: Mapping[str, PredictionTable]) -> list[dict[str, Any]]:
    """For each ordered pair of tasks (A, B): the joint counts of their true classes, and B's exact
    scores among the rows of each class of A."""
    out = []
    names = list(tables)
    for a_name in names:
        for b_name in names:
            if a_name == b_name:
                continue
            a, b = tables[a_name], _aligned(tables[a_name], tables[b_name])
            b_classes = [str(c) for c in b.classes]
            joint = confusion_matrix(a.y_true, b.y_true, max(a.n_classes, b.n_classes))[:a.n_classes, :b.n_classes]
            given = []
            pred = b.probs.argmax(axis=1)
            for i, a_class in enumerate(str(c) for c in a.classes):
                rows = a.y_true == i
                cm = confusion_matrix(b.y_true[rows], pred[rows], b.n_classes)
                per = per_class_scores(cm)
                summary = summary_scores(cm)
                given.append({"class": a_class, "n": int(rows.sum()), "accuracy": float(summary["accuracy"]),
                              "macro_f1": float(summary["macro_f1"]),
                              "f1": dict(zip(b_classes, per["f1"].tolist())),
                              "support": dict(zip(b_classes, per["support"].tolist()))})
            out.append({"given": a_name, "task": b_name, "classes": b_classes,
                        "given_classes": [str(c) for c in a.classes],
                        "joint_counts": joint.tolist(), "rows": given})
    return out


def target_rows(targets: Mapping[str, Mapping[str, Any]], metrics: Mapping[str, float],
                intervals: Mapping[str, list[float] | None]) -> list[dict[str, Any]]:
    """Each target tier of each metric: the observed value (with its CI when computed), the gap and
    the share of the goal reached. A target whose metric the run lacks is listed as missing."""
    rows = []
    for metric, tiers in targets.items():
        value = metrics.get(metric)
        lower = tiers.get("direction") == "lower"
        for tier, goal in tiers.items():
            if tier == "direction":
                continue
            goal = float(goal)
            row: dict[str, Any] = {"metric": metric, "tier": tier, "goal": goal, "value": value,
                                   "ci95": intervals.get(metric)}
            if value is not None:
                row["gap"] = (value - goal) if lower else (goal - value)
                row["share_reached"] = (goal / value if value else None) if lower else (value / goal if goal else None)
                row["met"] = value <= goal if lower else value >= goal
            rows.append(row)
    return rows
