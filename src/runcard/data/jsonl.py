"""JSON lines: one object per line, with errors that name the file and the line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from runcard.errors import InputError


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The objects of a JSON-lines file, in order; blank lines are skipped. A line that is not a JSON
    object, or a file without any, is an `InputError` naming the file and line."""
    rows: list[dict[str, Any]] = []
    line_no = 0
    try:
        with path.open(encoding="utf-8") as handle:
            for line_no, line in enumerate(handle, start=1):
                if line.strip():
                    rows.append(parse_object(line, f"{path}: line {line_no}"))
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: line {line_no + 1}: not UTF-8 text (byte {exc.object[exc.start]:#04x}); "
                         "save the file as UTF-8.") from None
    if not rows:
        raise InputError(f"{path}: the file holds no rows.")
    return rows


def parse_object(line: str, where: str) -> dict[str, Any]:
    """One JSON object from one line; any failure (bad syntax, nesting too deep for the parser, not an
    object) is an `InputError` that starts with `where`."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: not valid JSON ({exc.msg}); each line must be one JSON object.") from None
    except RecursionError:
        raise InputError(f"{where}: a JSON value is nested too deeply to read; flatten it or drop that "
                         "column.") from None
    if not isinstance(obj, dict):
        raise InputError(f"{where}: expected a JSON object, got {type(obj).__name__}.")
    return obj
