"""Read labelled text data into columns: CSV (with a header, or AG News' headerless layout),
Parquet, JSONL, or a Hugging Face `datasets` name already in the local cache (never downloaded)."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from runcard.errors import InputError

#: Column names of AG News' headerless CSV files.
AG_NEWS_COLUMNS = ("class_index", "title", "description")

Columns = dict[str, list[Any]]


def read_file(path: Path, layout: str = "auto") -> Columns:
    """One file as columns. ``layout="ag_news"``: headerless ``class_index,title,description``."""
    if not path.is_file():
        raise InputError(f"{path}: no such data file.")
    suffix = path.suffix.lower()
    if layout == "ag_news" or (layout == "auto" and suffix == ".csv" and _headerless_ag_news(path)):
        return _read_csv(path, AG_NEWS_COLUMNS)
    if suffix == ".csv":
        return _read_csv(path, None)
    if suffix in (".parquet", ".pq"):
        return {k: list(v) for k, v in pq.read_table(path).to_pydict().items()}
    if suffix in (".jsonl", ".ndjson"):
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        keys = list(rows[0]) if rows else []
        return {k: [r.get(k) for r in rows] for k in keys}
    raise InputError(f"{path}: unknown data file type {suffix!r}; use .csv, .parquet or .jsonl.")


def _headerless_ag_news(path: Path) -> bool:
    with open(path, newline="", encoding="utf-8") as handle:
        first = next(csv.reader(handle), [])
    return len(first) == 3 and first[0].isdigit()


def _read_csv(path: Path, names: tuple[str, ...] | None) -> Columns:
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = list(names) if names else next(reader, None)
        if not header:
            raise InputError(f"{path}: the file is empty.")
        columns: Columns = {h: [] for h in header}
        for line_no, row in enumerate(reader, start=1 if names else 2):
            if len(row) != len(header):
                raise InputError(f"{path}: line {line_no} has {len(row)} fields, expected {len(header)} ({', '.join(header)}).")
            for name, value in zip(header, row):
                columns[name].append(value)
    return columns


def read_hf(name: str, split: str) -> Columns:
    """A Hugging Face dataset split from the local cache only (offline mode is forced)."""
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        import datasets
    except ImportError:
        raise InputError(f"data.hf_dataset = {name!r} needs the `datasets` package (pip install datasets); "
                         "or point data.paths at CSV/Parquet/JSONL files.") from None
    try:
        dataset = datasets.load_dataset(name, split=split)
    except Exception as exc:  # noqa: BLE001 -- datasets raises many types for "not cached"; all mean the same here
        raise InputError(f"data.hf_dataset = {name!r} (split {split!r}) is not in the local Hugging Face cache "
                         f"({type(exc).__name__}: {exc}); runcard never downloads data: use local files.") from None
    return {k: list(dataset[k]) for k in dataset.column_names}


def concatenate(parts: list[tuple[str, Columns]]) -> tuple[Columns, list[str]]:
    """Columns of several sources, in order, and the source of each row (``file:row``)."""
    names = list(parts[0][1]) if parts else []
    out: Columns = {n: [] for n in names}
    origin: list[str] = []
    for source, columns in parts:
        if list(columns) != names and set(columns) != set(names):
            raise InputError(f"{source}: columns {list(columns)} differ from {names} of {parts[0][0]}.")
        n = len(next(iter(columns.values()), []))
        for name in names:
            out[name].extend(columns[name])
        origin.extend(f"{source}:{i + 1}" for i in range(n))
    return out, origin
