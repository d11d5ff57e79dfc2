"""The data of a multi-task recipe: one text per row, one label per task, jointly stratified splits.

Rows of a file named in ``split.from_file`` form that split as they are (an official test set);
the other rows are split to the exact sizes of ``split.sizes``, stratified on the joint labels of
the tasks, so every combination of classes keeps its share in every split.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from runcard.data.sources import concatenate, read_file
from runcard.data.splits import stratified_split
from runcard.errors import InputError
from runcard.findings import Finding
from runcard.findings.leakage import leakage
from runcard.recipes.multitask_encoder.config import MultiTaskData, MultiTaskSplit


@dataclass(frozen=True)
class MultiTaskDataset:
    """Texts, a class code per task and row, row ids and origins, and the split rows."""

    tasks: dict[str, tuple[str, ...]]  # task -> class names, in config order
    texts: list[str]
    labels: dict[str, np.ndarray]  # task -> class code per row
    ids: list[str]
    origin: list[str]
    splits: dict[str, np.ndarray]
    provenance: str

    def split(self, name: str) -> tuple[list[str], dict[str, np.ndarray], list[str]]:
        """Texts, task -> class codes, and ids of one split."""
        rows = self.splits[name]
        return [self.texts[i] for i in rows], {t: y[rows] for t, y in self.labels.items()}, [self.ids[i] for i in rows]

    def distribution(self, task: str) -> dict[str, dict[str, int]]:
        """Split -> class -> rows, for one task."""
        classes = self.tasks[task]
        return {name: dict(zip(classes, np.bincount(self.labels[task][rows], minlength=len(classes)).tolist()))
                for name, rows in self.splits.items()}

    def subsample(self, sizes: dict[str, int], seed: int) -> MultiTaskDataset:
        """A jointly stratified subsample of each split (``--quick``); splits not in ``sizes`` stay whole."""
        splits = {}
        for name, rows in self.splits.items():
            want = sizes.get(name)
            if want is None or want >= len(rows):
                splits[name] = rows
                continue
            strata = [self.labels[t][rows].tolist() for t in self.tasks]
            kept = stratified_split(strata, {"kept": want, "rest": len(rows) - want}, seed)["kept"]
            splits[name] = rows[kept]
        return MultiTaskDataset(self.tasks, self.texts, self.labels, self.ids, self.origin, splits,
                                self.provenance + f"; subsampled to {sizes} (quick run)")


def _task_codes(values: list[object], task: str, classes: list[str], mapping: dict[str, str],
                origin: list[str]) -> np.ndarray:
    index = {c: i for i, c in enumerate(classes)}
    codes = np.empty(len(values), dtype=np.int64)
    for i, raw in enumerate(values):
        name = mapping.get(str(raw), str(raw))
        if name not in index:
            raise InputError(f"{origin[i]}: task {task!r} has label {raw!r}, which is not one of {classes} "
                             f"and has no entry in data.tasks.{task}.map; add it to map or to classes.")
        codes[i] = index[name]
    return codes


def load_multitask(data: MultiTaskData, split: MultiTaskSplit, base: Path) -> MultiTaskDataset:
    """Read, label and split the data a config declares; deterministic for a given config."""
    parts = []
    for entry in data.paths:
        path: Path = Path(entry) if Path(entry).is_absolute() else base / entry
        if not path.exists():
            raise InputError(f"data.paths: {path} does not exist. Point data.paths at the files (paths are "
                             "relative to the config's folder); docs/recipes.md says where the data comes from.")
        parts.append((entry, read_file(path, "auto")))
    columns, origin = concatenate(parts)
    needed = [*data.text, *(t.column for t in data.tasks.values()), *([data.id] if data.id else [])]
    for name in needed:
        if name not in columns:
            raise InputError(f"data: column {name!r} not found in {data.paths[0]}; the data has columns "
                             f"{list(columns)}.")
    texts = [" ".join(str(columns[c][i]) for c in data.text) for i in range(len(origin))]
    labels = {task: _task_codes(columns[spec.column], task, spec.classes, spec.map, origin)
              for task, spec in data.tasks.items()}
    ids = [str(v) for v in columns[data.id]] if data.id else list(origin)
    if len(set(ids)) != len(ids):
        raise InputError(f"data.id: column {data.id!r} holds repeated ids; ids must be unique across all files.")
    source_of = np.array([o.rsplit(":", 1)[0] for o in origin])
    splits: dict[str, np.ndarray] = {}
    for name, source in split.from_file.items():
        splits[name] = np.flatnonzero(source_of == source)
    pool = np.flatnonzero(~np.isin(source_of, list(split.from_file.values())))
    stratify = split.stratify or list(data.tasks)
    strata = [labels[t][pool].tolist() for t in stratify]
    for name, rows in stratified_split(strata, split.sizes, split.seed).items():
        splits[name] = pool[rows]
    ordered: dict[str, np.ndarray] = {s: splits[s] for s in ("train", "val", "test") if s in splits}
    ordered.update({s: r for s, r in splits.items() if s not in ordered})
    provenance = data.description or f"{len(origin):,} rows from {', '.join(data.paths)}"
    tasks = {t: tuple(spec.classes) for t, spec in data.tasks.items()}
    return MultiTaskDataset(tasks, texts, labels, ids, origin, ordered, provenance)


def audit_multitask(dataset: MultiTaskDataset, run: str = "") -> list[Finding]:
    """Before training: a class of some task with no rows in a split, and texts shared across splits."""
    found: list[Finding] = []
    for task in dataset.tasks:
        for split, counts in dataset.distribution(task).items():
            empty = [c for c, n in counts.items() if n == 0]
            if empty:
                found.append(Finding(
                    "zero_support", "error", f"{split}/{task}: no examples of {', '.join(empty)}",
                    {"split": split, "task": task, "classes": empty, "distribution": counts},
                    "A class with no rows cannot be learned or evaluated: check data.tasks and split sizes.",
                    runs=(run,) if run else (), splits=(f"{split}/{task}",), classes=tuple(empty)))
    found += leakage({s: [dataset.texts[i] for i in rows] for s, rows in dataset.splits.items()}, run)
    return found
