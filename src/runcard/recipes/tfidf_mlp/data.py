"""The tfidf_mlp recipe's data, as its config declares it: read, map labels, build the pool, split, audit."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from runcard.data.labels import map_labels
from runcard.data.sources import concatenate, read_file, read_hf
from runcard.data.splits import first_per_class, stratified_split
from runcard.errors import InputError
from runcard.findings import Finding
from runcard.findings.leakage import leakage
from runcard.recipes.tfidf_mlp.config import DataConfig, SplitConfig


@dataclass(frozen=True)
class Dataset:
    """The pool and its splits: texts, task labels (class names), row ids and where each row came from."""

    classes: tuple[str, ...]
    texts: list[str]
    labels: list[str]
    ids: list[str]
    origin: list[str]
    splits: dict[str, np.ndarray]
    provenance: str

    def split(self, name: str) -> tuple[list[str], np.ndarray, list[str]]:
        """Texts, class codes and ids of one split."""
        rows = self.splits[name]
        index = {c: i for i, c in enumerate(self.classes)}
        return ([self.texts[i] for i in rows], np.array([index[self.labels[i]] for i in rows], dtype=np.int64),
                [self.ids[i] for i in rows])

    def distribution(self) -> dict[str, dict[str, int]]:
        """Split -> class -> rows."""
        return {name: {c: sum(1 for i in rows if self.labels[i] == c) for c in self.classes}
                for name, rows in self.splits.items()}


def load_dataset(data: DataConfig, split: SplitConfig, base: Path) -> Dataset:
    """Everything up to the splits, deterministic for a given config."""
    if data.hf_dataset:
        columns = read_hf(data.hf_dataset, data.hf_split)
        origin = [f"hf:{data.hf_dataset}/{data.hf_split}:{i + 1}" for i in range(len(next(iter(columns.values()))))]
    else:
        parts = []
        for entry in data.paths:
            path = (base / entry) if not Path(entry).is_absolute() else Path(entry)
            parts.append((entry, read_file(path, data.layout)))
        columns, origin = concatenate(parts)
    for name in [*data.text, data.labels.column]:
        if name not in columns:
            raise InputError(f"data: column {name!r} not found; the data has columns {list(columns)}.")
    texts = [" ".join(str(columns[c][i]) for c in data.text) for i in range(len(origin))]
    hash_splits = {h.source: h.into for h in data.labels.hash_split}
    labels = map_labels(columns[data.labels.column], texts, data.labels.map, hash_splits)
    if data.pool.per_class is not None:
        unknown = sorted(set(data.pool.per_class) - set(data.labels.classes))
        if unknown:
            raise InputError(f"data.pool.per_class: {unknown} are not classes of data.labels.classes.")
        rows = first_per_class(labels, data.pool.per_class)
    else:
        rows = np.arange(len(labels) if data.pool.limit is None else min(data.pool.limit, len(labels)))
    texts = [texts[i] for i in rows]
    labels = [labels[i] for i in rows]
    origin = [origin[i] for i in rows]
    strata = []
    for key in split.stratify:
        if key == "label":
            strata.append(labels)
        elif key in columns:
            strata.append([columns[key][i] for i in rows])
        else:
            raise InputError(f"split.stratify: {key!r} is neither 'label' nor a column of the data ({list(columns)}).")
    splits = stratified_split(strata, split.sizes, split.seed)
    provenance = data.description or (
        f"{len(rows)} rows from {', '.join(data.paths) or data.hf_dataset}"
        + (f", the first rows of each class in file order up to {data.pool.per_class}" if data.pool.per_class else ""))
    return Dataset(tuple(data.labels.classes), texts, labels, origin, origin, splits, provenance)


def audit(dataset: Dataset, run: str = "") -> list[Finding]:
    """Before training: empty classes per split, and texts shared across splits."""
    found: list[Finding] = []
    for split, counts in dataset.distribution().items():
        empty = [c for c, n in counts.items() if n == 0]
        if empty:
            found.append(Finding("zero_support", "error", f"{split}: no examples of {', '.join(empty)}",
                                 {"split": split, "classes": empty, "distribution": counts},
                                 "Check the label mapping and the pool quotas; a class with no data cannot be learned "
                                 "or evaluated.", runs=(run,) if run else (), splits=(split,), classes=tuple(empty)))
    found += leakage({s: [dataset.texts[i] for i in rows] for s, rows in dataset.splits.items()}, run)
    return found
