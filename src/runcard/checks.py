"""Input validation shared by the public entry points: probabilities, logits, labels.

Checks run once, at the door; inner functions trust their inputs. Array positions in messages
are 0-based; file loaders catch `ProbabilityError` and re-raise with the file's own numbering.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from runcard.errors import InputError, ProbabilityError

#: A row of probabilities must sum to 1 within this absolute tolerance.
SUM_TOLERANCE = 1e-3


def as_matrix(values: Any, name: str) -> np.ndarray:
    """Return ``values`` as a 2-D float64 array with at least one row and one column."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name}: expected a 2-D array of numbers, got {type(values).__name__} ({exc}).") from None
    arr = np.ascontiguousarray(arr)  # row-major: the metrics read rows as flat runs
    if arr.ndim != 2:
        raise InputError(f"{name}: expected a 2-D array (rows x classes), got shape {arr.shape}.")
    if arr.shape[0] == 0:
        raise InputError(f"{name}: has no rows; there is nothing to evaluate.")
    if arr.shape[1] < 2:
        raise InputError(f"{name}: needs at least 2 class columns, got {arr.shape[1]}.")
    return arr


def check_probabilities(
    probs: np.ndarray, *, renormalize: bool = False, tol: float = SUM_TOLERANCE, name: str = "y_prob"
) -> np.ndarray:
    """Validate a probability matrix and return it (divided by its row sums if ``renormalize``).

    Rejects NaN, infinite and negative entries, and rows whose sum is off from 1 by more than
    ``tol`` (unless ``renormalize``, which still requires a positive sum). Raises
    `ProbabilityError` naming the first offending row and column. Cost: about two passes.
    """
    sums = probs @ np.ones(probs.shape[1])
    bad = ~np.isfinite(sums) if renormalize else ~(np.abs(sums - 1.0) <= tol)
    if renormalize:
        bad |= ~(sums > 0)
    offending = [int(i) for i in np.flatnonzero(bad)[:1]]
    if probs.min() < 0:  # a NaN makes min() NaN, but its row is already caught through its sum
        offending.append(int(np.flatnonzero((probs < 0).any(axis=1))[0]))
    if not offending:
        return probs / sums[:, None] if renormalize else probs
    first = min(offending)
    raise _describe_probability_row(probs[first], first, float(sums[first]), renormalize, tol, name)


def _describe_probability_row(
    row: np.ndarray, index: int, total: float, renormalize: bool, tol: float, name: str
) -> ProbabilityError:
    """Build the error for the first bad row: non-finite, then negative, then its sum."""
    values = [float(v) for v in row]
    for col, value in enumerate(values):
        if not np.isfinite(value):
            what = "NaN (or missing)" if np.isnan(value) else f"{value}"
            return ProbabilityError(
                f"{name}: row {index}, column {col}: probability is {what}.",
                row=index, col=col, problem=f"probability is {what}",
                fix="every probability must be a finite number in [0, 1]; fix or drop the row",
            )
    for col, value in enumerate(values):
        if value < 0:
            return ProbabilityError(
                f"{name}: row {index}, column {col}: probability {value!r} is negative.",
                row=index, col=col, problem=f"probability {value!r} is negative",
                fix="probabilities must be >= 0; if these are scores or logits, store them as logit_<class> columns",
            )
    if renormalize:
        return ProbabilityError(
            f"{name}: row {index}: probabilities sum to {total!r}, cannot renormalize.",
            row=index, col=None, problem=f"probabilities sum to {total!r}",
            fix="at least one class needs a positive probability",
        )
    return ProbabilityError(
        f"{name}: row {index}: probabilities sum to {total!r}, not 1 (tolerance {tol}).",
        row=index, col=None, problem=f"probabilities sum to {total!r}, not 1 within {tol}",
        fix="pass --renormalize (renormalize=True) to divide each row by its sum, "
        "or store unnormalised scores as logit_<class> columns",
    )


def check_finite(values: np.ndarray, *, name: str, what: str = "logit") -> np.ndarray:
    """Reject NaN or infinite entries (of logits or soft targets), naming the first one."""
    if np.isfinite(values.sum()):
        return values
    row, col = (int(i[0]) for i in np.nonzero(~np.isfinite(values)))
    value = values[row, col]
    shown = "NaN (or missing)" if np.isnan(value) else repr(float(value))
    raise ProbabilityError(
        f"{name}: row {row}, column {col}: {what} is {shown}.",
        row=row, col=col, problem=f"{what} is {shown}",
        fix=f"every {what} must be a finite number; fix or drop the row",
    )


def encode_labels(y_true: Any, classes: Sequence[Any] | None, n_classes: int, *,
                  name: str = "y_true") -> tuple[np.ndarray, list[Any]]:
    """Map labels to class codes ``0..K-1`` in ``classes`` order.

    With ``classes=None`` the labels must already be integer codes in ``[0, K)`` and the classes
    become ``[0, ..., K-1]``. Integer labels with classes that are all names (no integers) are
    positions in ``classes``. Otherwise each label is looked up by value in ``classes``; a label
    that is not there is an error naming the first such row.
    """
    labels = np.asarray(y_true)
    if labels.ndim != 1:
        raise InputError(f"{name}: expected a 1-D array of labels, got shape {labels.shape}.")
    if classes is None:
        if labels.dtype.kind not in "iu" and not (labels.dtype.kind == "b"):
            raise InputError(
                f"{name}: holds labels such as {labels[0]!r} but classes=None; pass classes=[...] "
                "naming the class of each y_prob column, in column order."
            )
        classes = list(range(n_classes))
        codes = labels.astype(np.int64, copy=False)
        if len(codes) and (codes.min() < 0 or codes.max() >= n_classes):
            row = int(np.flatnonzero((codes < 0) | (codes >= n_classes))[0])
            raise InputError(
                f"{name}: row {row}: label {int(codes[row])} is not a class code in [0, {n_classes}); "
                f"y_prob has {n_classes} columns. Pass classes=[...] if labels are names."
            )
        return codes, classes
    classes = [c.item() if isinstance(c, np.generic) else c for c in classes]
    if len(classes) != n_classes:
        raise InputError(f"classes: {len(classes)} names given but y_prob has {n_classes} columns.")
    if len(set(classes)) != len(classes):
        dup = next(c for c in classes if classes.count(c) > 1)
        raise InputError(f"classes: {dup!r} appears more than once; class names must be unique.")
    integer_classes = any(isinstance(c, (int, np.integer)) and not isinstance(c, bool) for c in classes)
    if labels.dtype.kind in "iu" and (classes == list(range(n_classes)) or not integer_classes):
        # Integer labels with named classes can only be positions in ``classes``: use them as codes.
        return encode_labels(labels, None, n_classes, name=name)[0], classes
    uniques, inverse = np.unique(labels, return_inverse=True)
    lookup = {c: i for i, c in enumerate(classes)}
    mapped = np.empty(len(uniques), dtype=np.int64)
    for i, value in enumerate(uniques.tolist()):
        if value not in lookup:
            row = int(np.flatnonzero(inverse == i)[0])
            raise InputError(
                f"{name}: row {row}: label {value!r} is not among the classes {classes}; "
                "fix the label or add its class."
            )
        mapped[i] = lookup[value]
    return mapped[inverse.reshape(-1)], classes
