"""Read and write prediction files (CSV, Parquet, JSONL); the format is in docs/formats.md.

Every rejection names the file, the row (1-based, header not counted) and the column, what is
wrong there, and the fix. Writes go to a temporary file that is renamed into place, so a
failed write never leaves a half-written file.
"""

from __future__ import annotations

import difflib
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from runcard.checks import SUM_TOLERANCE, check_probabilities
from runcard.data.atomic import atomic_path
from runcard.data.jsonl import read_jsonl
from runcard.errors import InputError, ProbabilityError
from runcard.logits import softmax
from runcard.table import PredictionTable, find_duplicate

FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl"}
PREFIXES = ("prob_", "logit_", "target_")
TEXT_COLUMNS = ("label", "id", "text", "pred")
#: When a file has both prob_ and logit_ columns, the probabilities must equal the logits' softmax within this.
PROB_LOGIT_TOLERANCE = 1e-6


def file_format(path: str | Path) -> str:
    """The format named by a path's extension, or an error listing the supported ones."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise InputError(
            f"{path}: unknown file type {suffix or '(no extension)'!r}; use one of "
            f"{', '.join(sorted(FORMATS))}."
        )
    return FORMATS[suffix]


def load_predictions(path: str | Path, *, renormalize: bool = False) -> PredictionTable:
    """Read and validate a prediction file into a `PredictionTable`.

    Columns: ``label``; ``prob_<class>`` and/or ``logit_<class>`` (class order = column order);
    optional ``id``, ``text``, ``pred`` and ``target_<class>``. Other columns are ignored.
    """
    path = Path(path)
    fmt = file_format(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file.")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty; expected a header and one row per example.")
    table = {"csv": _read_csv, "parquet": _read_parquet, "jsonl": _read_jsonl}[fmt](path)
    return _table_from_columns(table, str(path), renormalize)


def _read_csv(path: Path) -> pa.Table:
    """Read with Arrow's default block; a cell larger than a block (a long text) is retried with one
    block spanning the whole file rather than rejected."""
    header = path.open(encoding="utf-8", errors="replace").readline()
    types = {name: pa.string() for name in TEXT_COLUMNS}
    block = None
    for _ in range(2):
        try:
            return pacsv.read_csv(
                path,
                read_options=pacsv.ReadOptions(block_size=block) if block else None,
                parse_options=pacsv.ParseOptions(newlines_in_values=True),
                convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=False),
            )
        except pa.ArrowInvalid as exc:
            if "straddling" in str(exc) and block is None:
                block = min(path.stat().st_size + 1, 2**31 - 1)
                continue
            raise InputError(f"{path}: not a readable CSV file ({exc}); header was "
                             f"{header.strip()[:200]!r}.") from None
    raise AssertionError("unreachable")


def _read_parquet(path: Path) -> pa.Table:
    import pyarrow.parquet as pq  # imported on use: it costs a CSV or JSONL read 25-50 ms (pyarrow.fs, ssl)

    try:
        return pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"{path}: not a readable Parquet file ({exc}).") from None


def _read_jsonl(path: Path) -> pa.Table:
    """One JSON object per line; blank lines are skipped, but row numbers count objects."""
    rows = read_jsonl(path)
    names = list(rows[0])
    for i, row in enumerate(rows, start=1):
        if set(row) != set(names):
            missing = sorted(set(names) - set(row))
            extra = sorted(set(row) - set(names))
            raise InputError(
                f"{path}: row {i}: keys differ from the first row (missing {missing}, extra {extra}); "
                "every row needs the same keys."
            )
    return pa.table(
        {name: _arrow_column(name, _json_numbers(path, name, [row[name] for row in rows])) for name in names}
    )


def _arrow_column(name: str, values: list[Any]) -> pa.Array:
    if name in TEXT_COLUMNS:
        return pa.array([None if v is None else str(v) for v in values], type=pa.string())
    if name.startswith(PREFIXES):
        return pa.array(values, type=pa.float64())
    return pa.array([json.dumps(v) for v in values], type=pa.string())


def _json_numbers(path: Path, name: str, values: list[Any]) -> list[Any]:
    if not name.startswith(PREFIXES):
        return values
    out = []
    for i, v in enumerate(values, start=1):
        if v is None:
            out.append(math.nan)
        elif isinstance(v, bool) or not isinstance(v, (int, float)):
            raise InputError(
                f"{path}: row {i}, column {name}: {v!r} is not a number; write probabilities and "
                "logits as JSON numbers (no quotes)."
            )
        else:
            out.append(float(v))
    return out


def _table_from_columns(table: pa.Table, where: str, renormalize: bool) -> PredictionTable:
    names = table.column_names
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise InputError(f"{where}: column {dup!r} appears more than once; column names must be unique.")
    if table.num_rows == 0:
        raise InputError(f"{where}: has a header but no rows; there is nothing to evaluate.")
    if "label" not in names:
        near = difflib.get_close_matches("label", [n.lower() for n in names], n=1)
        hint = f" (found {names[[n.lower() for n in names].index(near[0])]!r}: rename it to 'label')" if near else ""
        raise InputError(f"{where}: no 'label' column{hint}; every row needs its true class in 'label'.")
    prob_cols = [n for n in names if n.startswith("prob_")]
    logit_cols = [n for n in names if n.startswith("logit_")]
    target_cols = [n for n in names if n.startswith("target_")]
    if not prob_cols and not logit_cols:
        raise InputError(
            f"{where}: no probability columns; expected one prob_<class> (or logit_<class>) column per "
            f"class, found columns {names[:12]}."
        )
    classes = _classes(where, prob_cols or logit_cols)
    if len(classes) < 2:
        raise InputError(f"{where}: only one class column ({(prob_cols or logit_cols)[0]}); a classifier's "
                         "predictions need one prob_<class> column per class, at least two.")
    if prob_cols and logit_cols and _classes(where, logit_cols) != classes:
        raise InputError(f"{where}: prob_ columns name classes {classes} but logit_ columns name "
                         f"{_classes(where, logit_cols)}; they must match, in the same order.")
    logits = _matrix(table, where, logit_cols, "logit") if logit_cols else None
    if logits is not None:
        probs = softmax(logits.copy())
        if prob_cols:
            _check_agree(where, _matrix(table, where, prob_cols, "probability"), probs, prob_cols)
    else:
        probs = _checked_probs(_matrix(table, where, prob_cols, "probability"), where, prob_cols, renormalize)
    targets = None
    if target_cols:
        if sorted(_classes(where, target_cols)) != sorted(classes):
            raise InputError(f"{where}: target_ columns name classes {_classes(where, target_cols)}, "
                             f"not the classes {classes} of the probability columns.")
        order = [f"target_{c}" for c in classes]
        targets = _checked_probs(_matrix(table, where, order, "target probability"), where, order, renormalize)
    index = {c: i for i, c in enumerate(classes)}
    labels = _strings(table, "label", where)
    y_true = _codes(where, "label", labels, index)
    ids = None
    if "id" in names:
        ids = np.asarray(_strings(table, "id", where), dtype=object)
        dup = find_duplicate(ids)
        if dup is not None:
            value, first, second = dup
            raise InputError(f"{where}: id {value!r} appears twice (rows {first + 1} and {second + 1}); "
                             "ids must be unique, one row per example.")
    notes = []
    if renormalize and logits is None:
        raw_sums = _matrix(table, where, prob_cols, "probability").sum(axis=1)
        off = int(np.count_nonzero(np.abs(raw_sums - 1.0) > 1e-12))
        if off:
            notes.append(f"{off} rows renormalised to sum to 1 (largest deviation {np.abs(raw_sums - 1).max():.3g})")
    return PredictionTable(
        classes=tuple(classes), y_true=y_true, probs=probs, logits=logits, ids=ids,
        texts=np.asarray(_strings(table, "text", where), dtype=object) if "text" in names else None,
        pred=_codes(where, "pred", _strings(table, "pred", where), index) if "pred" in names else None,
        targets=targets, source=where, notes=tuple(notes),
    )


def _classes(where: str, columns: list[str]) -> list[str]:
    classes = [c.split("_", 1)[1] for c in columns]
    for col, name in zip(columns, classes):
        if not name:
            raise InputError(f"{where}: column {col!r} names no class; write {col}<class>.")
    return classes


def _strings(table: pa.Table, name: str, where: str = "") -> list[str | None]:
    column = table.column(name)
    if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
        try:
            column = column.cast(pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            raise InputError(f"{where}: column {name} has type {column.type}, which has no text form; write "
                             f"{name} as strings or numbers.") from None
    return column.to_pylist()


def _codes(where: str, column: str, values: list[str | None], index: dict[str, int]) -> np.ndarray:
    codes = np.empty(len(values), dtype=np.int64)
    for i, value in enumerate(values):
        code = index.get(value) if value is not None else None
        if code is None:
            shown = "empty" if value in (None, "") else repr(value)
            raise InputError(
                f"{where}: row {i + 1}, column {column}: {shown} is not among the classes {list(index)} "
                f"(named by the probability columns); fix the {column} or add a prob_<class> column for it."
            )
        codes[i] = code
    return codes


def _matrix(table: pa.Table, where: str, columns: list[str], what: str) -> np.ndarray:
    out = np.empty((table.num_rows, len(columns)), dtype=np.float64)
    for j, name in enumerate(columns):
        column = table.column(name)
        kind = column.type
        if pa.types.is_floating(kind) or pa.types.is_integer(kind) or pa.types.is_null(kind):
            out[:, j] = _numbers(column) if not pa.types.is_null(kind) else np.nan
            continue
        for i, value in enumerate(column.to_pylist()):
            try:
                out[i, j] = float(value)
            except (TypeError, ValueError):
                raise InputError(
                    f"{where}: row {i + 1}, column {name}: {value!r} is not a number; every {what} must "
                    "be numeric."
                ) from None
    if what == "logit":
        bad = ~np.isfinite(out)
        if bad.any():
            row, col = (int(i[0]) for i in np.nonzero(bad))
            raise InputError(
                f"{where}: row {row + 1}, column {columns[col]}: logit {float(out[row, col])!r} is not a finite "
                "number; write finite logits (or probabilities in prob_ columns)."
            )
    return out


def _numbers(column: pa.ChunkedArray) -> np.ndarray:
    """A floating or integer column as float64, nulls as NaN, read from its Arrow buffers: pyarrow's `to_numpy`
    imports pandas to convert (0.4 s of every command that reads a prediction file)."""
    kind = column.type
    code = "f" if pa.types.is_floating(kind) else "i" if pa.types.is_signed_integer(kind) else "u"
    dtype = np.dtype(f"{code}{kind.bit_width // 8}")
    parts = [np.empty(0)]
    for chunk in column.chunks:
        if len(chunk) == 0:
            continue
        validity, data = chunk.buffers()[:2]
        values = np.frombuffer(data, dtype=dtype, count=len(chunk), offset=chunk.offset * dtype.itemsize)
        values = values.astype(np.float64)
        if chunk.null_count:
            bits = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), count=chunk.offset + len(chunk),
                                 bitorder="little")
            values[bits[chunk.offset:] == 0] = np.nan
        parts.append(values)
    return np.concatenate(parts)


def _checked_probs(matrix: np.ndarray, where: str, columns: list[str], renormalize: bool) -> np.ndarray:
    try:
        return check_probabilities(matrix, renormalize=renormalize, tol=SUM_TOLERANCE)
    except ProbabilityError as exc:
        column = "" if exc.col is None else f", column {columns[exc.col]}"
        raise InputError(f"{where}: row {exc.row + 1}{column}: {exc.problem}. Fix: {exc.fix}.") from None


def _check_agree(where: str, given: np.ndarray, from_logits: np.ndarray, columns: list[str]) -> None:
    gap = np.abs(given - from_logits)
    bad = ~(gap <= PROB_LOGIT_TOLERANCE)
    if bad.any():
        row, col = (int(i[0]) for i in np.nonzero(bad))
        raise InputError(
            f"{where}: row {row + 1}, column {columns[col]}: probability {float(given[row, col])!r} is not the "
            f"softmax of the logits ({float(from_logits[row, col])!r}); keep only one of the prob_/logit_ sets."
        )


def prediction_columns(table: PredictionTable) -> pa.Table:
    """The table as Arrow columns in the file format: ``id`` (if any), ``label``, ``prob_<class>``,
    ``logit_<class>`` (if any), ``target_<class>`` (if any), ``pred`` (if any), ``text`` (if any)."""
    names = [str(c) for c in table.classes]
    columns: dict[str, Any] = {}
    if table.ids is not None:
        columns["id"] = [str(v) for v in table.ids]
    columns["label"] = [names[i] for i in table.y_true]
    for prefix, matrix in (("prob_", table.probs), ("logit_", table.logits), ("target_", table.targets)):
        if matrix is not None:
            for j, name in enumerate(names):
                columns[prefix + name] = matrix[:, j]
    if table.pred is not None:
        columns["pred"] = [names[i] for i in table.pred]
    if table.texts is not None:
        columns["text"] = [None if v is None else str(v) for v in table.texts]
    return pa.table(columns)


def write_predictions(table: PredictionTable, path: str | Path) -> Path:
    """Write ``table`` in the format named by ``path``'s extension, atomically (`prediction_columns`)."""
    path = Path(path)
    fmt = file_format(path)
    arrow = prediction_columns(table)
    with atomic_path(path) as tmp:
        if fmt == "csv":
            pacsv.write_csv(arrow, tmp)
        elif fmt == "parquet":
            import pyarrow.parquet as pq

            pq.write_table(arrow, tmp)
        else:
            with open(tmp, "w", encoding="utf-8") as handle:
                for row in arrow.to_pylist():
                    handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path
