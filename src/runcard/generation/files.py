"""Generation files (JSONL, Parquet) and generations stored as run artifacts; format in docs/formats.md.

Every rejection names the file, the row (counted from 1, blank JSONL lines not counted) and the
column, what is wrong there, and the fix (`runcard.generation.table` holds the checks).
"""

from __future__ import annotations

import io
import time
from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from runcard.data.jsonl import read_jsonl
from runcard.errors import InputError
from runcard.generation.table import GenerationTable, table_from_columns, table_from_rows
from runcard.store.base import Store
from runcard.store.model import Artifact, Run

FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}
#: Artifact kind of stored generations.
KIND = "generations"


def load_generations(path: str | Path) -> GenerationTable:
    """Read and validate a generations file (``.jsonl``/``.ndjson`` or ``.parquet``/``.pq``)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise InputError(f"{path}: unknown file type {suffix or '(no extension)'!r} for generations; use one of "
                         f"{', '.join(sorted(FORMATS))}.")
    if not path.is_file():
        raise InputError(f"{path}: no such file.")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty; expected one row per sample with prompt_id and sample.")
    if FORMATS[suffix] == "jsonl":
        return table_from_rows(read_jsonl(path), str(path))
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"{path}: not a readable Parquet file ({exc}).") from None
    return table_from_columns({name: table.column(name).to_pylist() for name in table.column_names},
                              table.num_rows, str(path))


def generation_parquet(table: GenerationTable) -> bytes:
    """The table as Parquet bytes (prompt ids as text; optional columns only when present)."""
    types = {"prompt_id": pa.string(), "sample": pa.string(), "system": pa.string(), "passed": pa.bool_(),
             "quality": pa.float64()}
    columns = table.columns()
    buffer = io.BytesIO()
    pq.write_table(pa.table({k: pa.array(v, type=types[k]) for k, v in columns.items()}), buffer)
    return buffer.getvalue()


def store_generations(store: Store, run_id: str, split: str, table: GenerationTable) -> Artifact:
    """Write ``table`` as a Parquet artifact of kind ``generations`` on the run; meta: split, n, systems, prompts."""
    if not split or not split.replace("_", "").replace("-", "").isalnum():
        raise InputError(f"split {split!r}: use a plain name such as 'val' or 'test' (letters, digits, - and _).")
    name = f"generations_{split}.parquet"
    stored = store.artifacts.put_bytes(generation_parquet(table), name)
    meta = {"split": split, "n": table.n, "systems": list(table.systems()), "prompts": len(table.prompts())}
    artifact = Artifact(name, KIND, stored.sha256, stored.size, stored.path, time.time(), meta)
    store.add_artifact(run_id, artifact)
    return artifact


def generation_splits(run: Run) -> dict[str, Artifact]:
    """The latest generations artifact of each split on ``run``, in logging order."""
    latest: dict[str, Artifact] = {}
    for art in run.artifacts:
        if art.kind == KIND:
            latest[str(art.meta.get("split"))] = art
    return latest


def load_run_generations(store: Store, run: Run, split: str) -> GenerationTable:
    """The latest generations logged for ``split`` on ``run``, after re-hashing the file."""
    found = generation_splits(run)
    if split not in found:
        raise InputError(f"run {run.id} has no generations for split {split!r} (it has: {sorted(found) or 'none'}).")
    art = found[split]
    path = store.artifacts.verify(art.path, art.sha256, owner=f"run {run.id}")
    return replace(load_generations(path), source=f"run {run.id} {split} generations")
