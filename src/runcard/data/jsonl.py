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
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}: line {line_no}: not valid JSON ({exc.msg}); each line must be one "
                                 "JSON object.") from None
            if not isinstance(obj, dict):
                raise InputError(f"{path}: line {line_no}: expected a JSON object, got {type(obj).__name__}.")
            rows.append(obj)
    if not rows:
        raise InputError(f"{path}: the file holds no rows.")
    return rows
