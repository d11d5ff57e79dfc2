"""Items with a human label distribution: read (dotted field paths into JSON lines), check, split.

The split is stratified on the majority label (the argmax of the distribution, first class on
ties), so every split has each class's share of clear winners.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from runcard.data.sources import concatenate, read_file
from runcard.data.splits import stratified_split
from runcard.errors import InputError
from runcard.recipes.softlabel_encoder.config import SoftData, SoftSplit

#: How far a distribution may be from summing to 1 before it is an error.
SUM_TOLERANCE = 1e-6


@dataclass(frozen=True)
class SoftDataset:
    """Text (or text pairs), target distributions ``(N, K)``, ids, and the split rows."""

    classes: tuple[str, ...]
    first: list[str]
    second: list[str] | None  # the second text of a pair (hypothesis), or None
    targets: np.ndarray
    ids: list[str]
    splits: dict[str, np.ndarray]
    provenance: str

    @property
    def majority(self) -> np.ndarray:
        return self.targets.argmax(axis=1)

    def texts(self, rows: np.ndarray) -> list[str]:
        """One display text per row (pairs joined with `` [SEP] ``)."""
        if self.second is None:
            return [self.first[i] for i in rows]
        return [f"{self.first[i]} [SEP] {self.second[i]}" for i in rows]


def field(record: dict[str, Any], columns: dict[str, list[Any]], row: int, path: str) -> Any:
    """The value at a dotted path (``example.premise``) of one row."""
    head, *rest = path.split(".")
    value: Any = columns[head][row]
    for part in rest:
        if not isinstance(value, dict) or part not in value:
            raise InputError(f"{record['origin']}: field {path!r} not found (no {part!r} in {head!r}).")
        value = value[part]
    return value


def load_soft(data: SoftData, split: SoftSplit, base: Path) -> SoftDataset:
    """Read the items a config declares and split them; deterministic for a given config."""
    parts = []
    for entry in data.paths:
        file: Path = Path(entry) if Path(entry).is_absolute() else base / entry
        if not file.exists():
            raise InputError(f"data.paths: {file} does not exist (paths are relative to the config's folder).")
        parts.append((entry, read_file(file, "auto")))
    columns, origin = concatenate(parts)
    n = len(origin) if data.limit is None else min(data.limit, len(origin))
    for path in [*data.text, data.target, *([data.id] if data.id else [])]:
        if path.split(".")[0] not in columns:
            raise InputError(f"data: field {path!r} not found; the records have fields {list(columns)}.")
    k = len(data.classes)
    texts: list[list[str]] = [[] for _ in data.text]
    targets = np.empty((n, k))
    ids = []
    for i in range(n):
        record = {"origin": origin[i]}
        for j, path in enumerate(data.text):
            texts[j].append(str(field(record, columns, i, path)))
        dist = field(record, columns, i, data.target)
        if not isinstance(dist, list) or len(dist) != k:
            raise InputError(f"{origin[i]}: {data.target!r} must be a list of {k} probabilities in the order "
                             f"{data.classes}; got {dist!r}.")
        row = np.asarray(dist, dtype=np.float64)
        if not np.all(np.isfinite(row)) or np.any(row < 0) or abs(row.sum() - 1.0) > SUM_TOLERANCE:
            raise InputError(f"{origin[i]}: {data.target!r} = {dist} is not a distribution (non-negative, "
                             "summing to 1).")
        targets[i] = row
        ids.append(str(field(record, columns, i, data.id)) if data.id else origin[i])
    if len(set(ids)) != len(ids):
        raise InputError(f"data.id: {data.id!r} repeats ids; ids must be unique.")
    majority = targets.argmax(axis=1)
    splits = stratified_split([majority.tolist()], split.sizes, split.seed)
    provenance = data.description or f"{n:,} items from {', '.join(data.paths)}"
    return SoftDataset(tuple(data.classes), texts[0], texts[1] if len(texts) > 1 else None, targets, ids,
                       splits, provenance)
