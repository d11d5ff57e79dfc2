"""The examples behind the numbers: the rows of each confusion-matrix cell, the most confident errors, the rows
behind a finding, and the rows two compared systems disagree on. Pure functions over prediction tables; the
documents carry what they return, bounded so that a card of a 100,000-row split stays small.

Rows hold ``row`` (position in the split), ``id``, ``text`` (cut at `TEXT_LIMIT` characters, the whole text
up to `FULL_LIMIT` in ``full`` when it was cut), ``true``, ``predicted``, ``confidence`` and ``p_true`` (the
probability the model gave the true class).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from runcard.findings.leakage import normalize_text
from runcard.table import PredictionTable

#: Rows per confusion-matrix cell (``--examples N``; 0 turns examples off).
PER_CELL = 25
#: Characters of a text shown in a row; the whole text (up to `FULL_LIMIT`) is kept to show on demand.
TEXT_LIMIT = 200
FULL_LIMIT = 2000
#: Rows of the diagonal (correct) cells, and of the whole card: the errors come first.
PER_CORRECT_CELL = 5
ROWS_PER_SPLIT = 40


def _row(table: PredictionTable, i: int, pred: np.ndarray, conf: np.ndarray) -> dict[str, Any]:
    text = None if table.texts is None else str(table.texts[i])
    out: dict[str, Any] = {"row": int(i), "id": None if table.ids is None else str(table.ids[i]),
                           "text": None if text is None else text[:TEXT_LIMIT],
                           "true": str(table.classes[int(table.y_true[i])]),
                           "predicted": str(table.classes[int(pred[i])]), "confidence": float(conf[i]),
                           "p_true": float(table.probs[i, table.y_true[i]])}
    if text is not None and len(text) > TEXT_LIMIT:
        out["full"] = text[:FULL_LIMIT]
    return out


def split_examples(table: PredictionTable, *, per_cell: int = PER_CELL, errors: int = 10) -> dict[str, Any]:
    """A split's examples: per confusion cell ``"i:j"`` its rows, most confident first (at most ``per_cell`` for
    an error cell, `PER_CORRECT_CELL` for a correct one, `ROWS_PER_SPLIT` x ``per_cell`` in all, the largest
    error cells first), with each cell's full count; and the ``errors`` most confident errors."""
    pred = table.probs.argmax(axis=1)
    conf = table.probs.max(axis=1)
    k = table.n_classes
    cell = table.y_true.astype(np.int64) * k + pred
    order = np.lexsort((np.arange(table.n), -conf, cell))  # by cell, then most confident first
    starts = np.searchsorted(cell[order], np.arange(k * k))
    ends = np.searchsorted(cell[order], np.arange(k * k), side="right")
    sizes = ends - starts
    budget = ROWS_PER_SPLIT * per_cell
    ranked = sorted(range(k * k), key=lambda c: (c // k == c % k, -sizes[c]))  # errors first, largest first
    cells: dict[str, Any] = {}
    for c in ranked:
        if not sizes[c] or budget <= 0:
            continue
        limit = min(per_cell if c // k != c % k else min(per_cell, PER_CORRECT_CELL), budget)
        rows = order[starts[c]:starts[c] + limit]
        budget -= len(rows)
        cells[f"{c // k}:{c % k}"] = {"count": int(sizes[c]), "rows": [_row(table, int(i), pred, conf) for i in rows]}
    wrong = np.flatnonzero(pred != table.y_true)
    top = wrong[np.argsort(-conf[wrong], kind="stable")[:errors]]
    return {"n": table.n, "classes": [str(c) for c in table.classes], "has_text": table.texts is not None,
            "cells": cells, "confident_errors": [_row(table, int(i), pred, conf) for i in top],
            "errors": len(wrong), "per_cell": per_cell}


def shared_rows(tables: Mapping[str, PredictionTable], splits: Sequence[str], limit: int = PER_CELL
                ) -> list[dict[str, Any]]:
    """The examples two splits share (normalised text, as the leakage rule matches them), side by side: the
    text, and in each split its id, true and predicted class."""
    a, b = (tables[s] for s in splits)
    if a.texts is None or b.texts is None:
        return []
    where_a: dict[str, int] = {}
    for i, t in enumerate(a.texts):
        where_a.setdefault(normalize_text(str(t)), i)
    out = []
    for j, t in enumerate(b.texts):
        match = where_a.get(normalize_text(str(t)))
        if match is None or not normalize_text(str(t)):
            continue
        i = match
        out.append({"text": str(t)[:TEXT_LIMIT], **{f"{name}_{field}": value for name, table, row in
                                                   (("a", a, i), ("b", b, j)) for field, value in
                                                   (("id", None if table.ids is None else str(table.ids[row])),
                                                    ("true", str(table.classes[int(table.y_true[row])])),
                                                    ("predicted", str(table.classes[int(table.probs[row].argmax())])))},
                    "splits": list(splits)})
        if len(out) >= limit:
            break
    return out


def discordant(a: PredictionTable, b: PredictionTable, *, limit: int = PER_CELL) -> dict[str, Any]:
    """The rows behind McNemar's test of two paired tables (``b`` aligned to ``a``): those A gets right and B
    wrong, and the reverse, each with both systems' prediction and confidence, the most confident disagreement
    first; and per (true, A's, B's) class triple where they differ, how many rows."""
    pa, pb = a.probs.argmax(axis=1), b.probs.argmax(axis=1)
    ca, cb = a.probs.max(axis=1), b.probs.max(axis=1)
    y = a.y_true

    def rows(mask: np.ndarray, confidence: np.ndarray) -> list[dict[str, Any]]:
        picked = np.flatnonzero(mask)
        picked = picked[np.argsort(-confidence[picked], kind="stable")[:limit]]
        out = []
        for i in picked:
            row = _row(a, int(i), pa, ca)
            row.update(a_predicted=row.pop("predicted"), a_confidence=row.pop("confidence"),
                       b_predicted=str(a.classes[int(pb[i])]), b_confidence=float(cb[i]))
            row.pop("p_true")
            out.append(row)
        return out

    a_only, b_only = (pa == y) & (pb != y), (pb == y) & (pa != y)
    k = a.n_classes
    codes, counts = np.unique((y * k + pa) * k + pb, return_counts=True)
    pairs = []
    for code, count in sorted(zip(codes.tolist(), counts.tolist()), key=lambda t: -t[1]):
        t, rest = divmod(code, k * k)
        p1, p2 = divmod(rest, k)
        if p1 != p2:
            pairs.append({"true": str(a.classes[t]), "a_predicted": str(a.classes[p1]),
                          "b_predicted": str(a.classes[p2]), "rows": int(count)})
    return {"a_right_b_wrong": {"count": int(a_only.sum()), "rows": rows(a_only, cb)},
            "b_right_a_wrong": {"count": int(b_only.sum()), "rows": rows(b_only, ca)},
            "by_classes": pairs[:10], "has_text": a.texts is not None}
