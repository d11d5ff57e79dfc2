"""Generation files (JSONL, Parquet), read and written; format in docs/formats.md. (Generations stored on a run:
`runcard.generation.stored`.)

Every rejection names the file, the row (counted from 1, blank JSONL lines not counted) and the
column, what is wrong there, and the fix (`runcard.generation.table` holds the checks).
"""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from runcard.data.jsonl import read_jsonl
from runcard.errors import InputError
from runcard.generation.table import GenerationTable, table_from_columns, table_from_rows

FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}


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
