"""`GenerationTable`: sampled generations of one or more systems, validated once at the door.

One row per sample: the prompt it answers, its text, the system that wrote it, and optionally a
checker's verdict (``passed``) and a score (``quality``). docs/formats.md ("Generation files")
has the format and every rejection; this module holds the checks shared by files, Python rows
and stored artifacts.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from runcard.errors import InputError

REQUIRED = ("prompt_id", "sample")
OPTIONAL = ("passed", "quality", "system")
#: The system of rows that name none.
DEFAULT_SYSTEM = "default"


@dataclass(frozen=True, eq=False)
class GenerationTable:
    """Samples as parallel arrays of length ``n``; ``prompt_id`` and ``system`` are text.

    ``passed`` (bool) and ``quality`` (float64) are None when the source had no such column.
    """

    prompt_id: np.ndarray
    sample: np.ndarray
    system: np.ndarray
    passed: np.ndarray | None = None
    quality: np.ndarray | None = None
    source: str = ""

    @property
    def n(self) -> int:
        return len(self.sample)

    @property
    def name(self) -> str:
        return self.source or "generations"

    def systems(self) -> tuple[str, ...]:
        """System names in order of first appearance."""
        return tuple(dict.fromkeys(self.system.tolist()))

    def prompts(self) -> tuple[str, ...]:
        """Prompt ids in order of first appearance."""
        return tuple(dict.fromkeys(self.prompt_id.tolist()))

    def empty_samples(self) -> int:
        """Samples that are the empty string (allowed, and counted in every report)."""
        return int(sum(1 for s in self.sample.tolist() if not s))

    def take(self, rows: np.ndarray) -> GenerationTable:
        """The rows at ``rows``, in that order."""
        return GenerationTable(
            self.prompt_id[rows], self.sample[rows], self.system[rows],
            None if self.passed is None else self.passed[rows],
            None if self.quality is None else self.quality[rows], self.source,
        )

    def select(self, system: str) -> GenerationTable:
        """The rows of one system, in file order."""
        rows = np.flatnonzero(self.system == system)
        if not len(rows):
            raise InputError(f"{self.name}: no rows of system {system!r}; it holds {list(self.systems())}.")
        return self.take(rows)

    def columns(self) -> dict[str, list[Any]]:
        """Plain columns (the stored Parquet layout): optional ones only when present."""
        out: dict[str, list[Any]] = {"prompt_id": self.prompt_id.tolist(), "sample": self.sample.tolist(),
                                     "system": self.system.tolist()}
        if self.passed is not None:
            out["passed"] = self.passed.tolist()
        if self.quality is not None:
            out["quality"] = self.quality.tolist()
        return out


def table_from_rows(rows: Sequence[Mapping[str, Any]], source: str = "rows") -> GenerationTable:
    """Validate a list of dicts (one per sample) into a table; every row needs the same keys."""
    if isinstance(rows, GenerationTable):
        return rows
    if not isinstance(rows, Sequence) or isinstance(rows, (str, bytes)):
        raise InputError(f"{source}: expected a list of dicts (one per sample) or a GenerationTable, "
                         f"got {type(rows).__name__}.")
    if not rows:
        raise InputError(f"{source}: no rows; give one dict per sample with prompt_id and sample.")
    known = set(REQUIRED + OPTIONAL)
    if isinstance(rows[0], Mapping):
        _require(list(rows[0]), source)
    first = set(rows[0]) & known if isinstance(rows[0], Mapping) else set()
    columns: dict[str, list[Any]] = {key: [] for key in first}
    for i, row in enumerate(rows, start=1):
        if not isinstance(row, Mapping):
            raise InputError(f"{source}: row {i} is a {type(row).__name__}, not a dict with prompt_id and sample.")
        keys = set(row) & known
        if keys != first:
            raise InputError(f"{source}: row {i}: keys differ from row 1 (missing {sorted(first - keys)}, extra "
                             f"{sorted(keys - first)}); give every row the same keys.")
        for key in keys:
            columns[key].append(row[key])
    return table_from_columns(columns, len(rows), source)


def table_from_columns(columns: Mapping[str, Sequence[Any]], n: int, source: str) -> GenerationTable:
    """Validate columns of plain values (rows counted from 1); other columns are ignored."""
    _require(list(columns), source)
    if n == 0:
        raise InputError(f"{source}: no rows; there is nothing to evaluate.")
    prompt_id = np.array([_prompt(source, i, v) for i, v in enumerate(columns["prompt_id"], start=1)], dtype=object)
    sample = np.array([_sample(source, i, v) for i, v in enumerate(columns["sample"], start=1)], dtype=object)
    system = np.array([_system(source, i, v) for i, v in enumerate(columns["system"], start=1)], dtype=object) \
        if "system" in columns else np.full(n, DEFAULT_SYSTEM, dtype=object)
    passed = np.array([_passed(source, i, v) for i, v in enumerate(columns["passed"], start=1)], dtype=bool) \
        if "passed" in columns else None
    quality = np.array([_quality(source, i, v) for i, v in enumerate(columns["quality"], start=1)],
                       dtype=np.float64) if "quality" in columns else None
    return GenerationTable(prompt_id, sample, system, passed, quality, source)


def _require(found: list[str], source: str) -> None:
    for key in REQUIRED:
        if key not in found:
            raise InputError(f"{source}: {_missing(key, found)} every row needs 'prompt_id' (the prompt it answers) "
                             "and 'sample' (the generated text); see docs/formats.md, Generation files.")


def _missing(key: str, found: list[str]) -> str:
    near = difflib.get_close_matches(key, found, n=1, cutoff=0.6) or [c for c in found if c.lower() == key]
    hint = f" (found {near[0]!r}: rename it to {key!r})" if near else f" (columns: {found[:12]})"
    return f"no {key!r} column{hint};"


def _prompt(source: str, row: int, value: Any) -> str:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return str(int(value))  # 17 and "17" name the same prompt: ids are compared as text
    raise InputError(f"{source}: row {row}, column prompt_id: {value!r} is not a non-empty string or whole number; "
                     "give every sample the id of its prompt, e.g. 'HumanEval/0' or 17.")


def _sample(source: str, row: int, value: Any) -> str:
    if isinstance(value, str):
        return value
    raise InputError(f"{source}: row {row}, column sample: {value!r} is not text; write the generation as a "
                     'string ("" for an empty one, which is allowed and counted).')


def _system(source: str, row: int, value: Any) -> str:
    if isinstance(value, str) and value:
        return value
    raise InputError(f"{source}: row {row}, column system: {value!r} is not a name; use a non-empty string such "
                     f"as 'baseline' (or drop the column: every row is then system {DEFAULT_SYSTEM!r}).")


def _passed(source: str, row: int, value: Any) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)) and value in (0, 1):
        return bool(value)
    raise InputError(f"{source}: row {row}, column passed: {value!r} is not a boolean; use true/false or 1/0 "
                     "(the checker's verdict on this sample), or drop the column.")


def _quality(source: str, row: int, value: Any) -> float:
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_)):
        number = float(value)
        if math.isfinite(number):
            return number
        what = "NaN" if math.isnan(number) else f"{number} (not finite)"
    else:
        what = "missing" if value is None else f"{value!r}, not a number"
    raise InputError(f"{source}: row {row}, column quality: {what}; every quality must be a finite number. "
                     "Fix: score this sample, drop the row, or drop the column.")
