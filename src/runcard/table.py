"""The prediction table: the one value that travels from a run to its card.

A `PredictionTable` holds, for one split of one run, the true class of every example, the
model's class probabilities (and its logits when it had them), and optionally ids, texts, an
explicit predicted class and soft-label targets. Everything downstream is computed from it.
File I/O lives in `runcard.data.prediction_files`; this module only builds and validates arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from runcard.checks import as_matrix, check_finite, check_probabilities, encode_labels
from runcard.errors import InputError
from runcard.logits import softmax


@dataclass(frozen=True, eq=False)
class PredictionTable:
    """Validated predictions of one split. Class codes index ``classes``.

    Attributes:
        classes: class names in column order.
        y_true: ``(N,)`` int64 class codes of the true labels.
        probs: ``(N, K)`` float64 probabilities, rows summing to 1.
        logits: ``(N, K)`` logits when the source had them (``probs`` is their softmax).
        ids, texts: ``(N,)`` object arrays of strings, or None.
        pred: ``(N,)`` codes of an explicit ``pred`` column, or None.
        targets: ``(N, K)`` soft-label distributions, or None.
        source: where the table came from (a path), for messages.
        notes: facts about loading worth reporting (e.g. rows renormalised).
    """

    classes: tuple[Any, ...]
    y_true: np.ndarray
    probs: np.ndarray
    logits: np.ndarray | None = None
    ids: np.ndarray | None = None
    texts: np.ndarray | None = None
    pred: np.ndarray | None = None
    targets: np.ndarray | None = None
    source: str | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def n(self) -> int:
        """Number of rows."""
        return len(self.y_true)

    @property
    def n_classes(self) -> int:
        """Number of classes."""
        return len(self.classes)

    @property
    def name(self) -> str:
        """How messages refer to this table."""
        return self.source or "predictions"

    def take(self, rows: np.ndarray) -> PredictionTable:
        """A new table holding ``rows`` (an index array), in that order."""

        def pick(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a[rows]

        return replace(
            self, y_true=self.y_true[rows], probs=self.probs[rows], logits=pick(self.logits),
            ids=pick(self.ids), texts=pick(self.texts), pred=pick(self.pred), targets=pick(self.targets),
        )

    def with_probs(self, probs: np.ndarray, logits: np.ndarray | None) -> PredictionTable:
        """The same rows with new probabilities (e.g. after calibration); ``pred`` is dropped."""
        return replace(self, probs=probs, logits=logits, pred=None)

    def log_scores(self) -> np.ndarray:
        """Logits if present, else log-probabilities (zeros floored at the smallest normal float)."""
        if self.logits is not None:
            return self.logits
        return np.log(np.maximum(self.probs, np.finfo(np.float64).tiny))


def reorder_classes(table: PredictionTable, classes: Sequence[Any]) -> PredictionTable:
    """Return ``table`` with its class columns in the order of ``classes`` (same set required)."""
    if tuple(classes) == table.classes:
        return table
    if set(classes) != set(table.classes):
        raise InputError(
            f"{table.name}: classes {list(table.classes)} differ from {list(classes)}; "
            "both files must hold the same classes."
        )
    perm = np.array([table.classes.index(c) for c in classes])
    inverse = np.argsort(perm)

    def cols(a: np.ndarray | None) -> np.ndarray | None:
        return None if a is None else a[:, perm]

    return replace(
        table, classes=tuple(classes), y_true=inverse[table.y_true], probs=table.probs[:, perm],
        logits=cols(table.logits), targets=cols(table.targets),
        pred=None if table.pred is None else inverse[table.pred],
    )


def table_from_arrays(
    y_true: Any,
    y_prob: Any = None,
    *,
    logits: Any = None,
    classes: Sequence[Any] | None = None,
    ids: Any = None,
    texts: Any = None,
    pred: Any = None,
    targets: Any = None,
    renormalize: bool = False,
    source: str | None = None,
) -> PredictionTable:
    """Validate arrays into a `PredictionTable`; give exactly one of ``y_prob`` and ``logits``."""
    if (y_prob is None) == (logits is None):
        raise InputError("give exactly one of y_prob (probabilities) and logits.")
    notes: list[str] = []
    if logits is not None:
        logit_matrix = check_finite(as_matrix(logits, "logits"), name="logits")
        probs = softmax(logit_matrix.copy())
    else:
        logit_matrix = None
        raw = as_matrix(y_prob, "y_prob")
        probs = check_probabilities(raw, renormalize=renormalize)
        if renormalize:
            off = int(np.count_nonzero(np.abs(raw.sum(axis=1) - 1.0) > 1e-12))
            if off:
                notes.append(f"{off} rows renormalised to sum to 1 (--renormalize)")
    n, k = probs.shape
    codes, class_list = encode_labels(y_true, classes, k)
    if len(codes) != n:
        raise InputError(f"y_true has {len(codes)} labels but the probabilities have {n} rows.")
    table = PredictionTable(
        classes=tuple(class_list), y_true=codes, probs=probs, logits=logit_matrix,
        ids=_column(ids, n, "ids"), texts=_column(texts, n, "texts"),
        pred=None if pred is None else encode_labels(pred, class_list, k, name="pred")[0],
        targets=None if targets is None else check_targets(targets, n, k),
        source=source, notes=tuple(notes),
    )
    if table.ids is not None:
        check_unique_ids(table.ids, "ids")
    return table


def _column(values: Any, n: int, name: str) -> np.ndarray | None:
    if values is None:
        return None
    arr = np.asarray(values, dtype=object)
    if arr.shape != (n,):
        raise InputError(f"{name}: expected {n} values (one per row), got shape {arr.shape}.")
    return arr


def check_targets(values: Any, n: int, k: int) -> np.ndarray:
    """Validate soft-label targets: finite, shape (N, K), rows are distributions."""
    target = check_finite(as_matrix(values, "targets"), name="targets", what="target probability")
    if target.shape != (n, k):
        raise InputError(f"targets: expected shape ({n}, {k}) like the probabilities, got {target.shape}.")
    return check_probabilities(target, name="targets")


def find_duplicate(ids: np.ndarray) -> tuple[Any, int, int] | None:
    """The first repeated id with the 0-based rows of its first two occurrences, or None."""
    if len(set(ids.tolist())) == len(ids):
        return None
    seen: dict[Any, int] = {}
    for row, value in enumerate(ids.tolist()):
        if value in seen:
            return value, seen[value], row
        seen[value] = row
    return None  # unreachable: the set was smaller than the list


def check_unique_ids(ids: np.ndarray, where: str) -> None:
    """Raise naming the first repeated id and both of its rows (0-based)."""
    dup = find_duplicate(ids)
    if dup is not None:
        value, first, second = dup
        raise InputError(f"{where}: id {value!r} appears twice (rows {first} and {second}); ids must be unique.")
