"""Generation files: JSONL and Parquet read the same; every rejection names file, row, column and fix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from runcard.errors import InputError
from runcard.generation.files import load_generations
from runcard.generation.table import table_from_rows

ROWS = [
    {"prompt_id": "q1", "sample": "def f(): return 1", "passed": True, "quality": 0.5, "system": "base"},
    {"prompt_id": "q1", "sample": "", "passed": 0, "quality": 1, "system": "base"},
    {"prompt_id": 7, "sample": "print(7)", "passed": 1, "quality": -2.5, "system": "tuned"},
]


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    return path


def test_jsonl_and_parquet_read_the_same(tmp_path: Path) -> None:
    a = load_generations(_jsonl(tmp_path / "g.jsonl", ROWS))
    pq.write_table(pa.table({"prompt_id": ["q1", "q1", "7"], "sample": [r["sample"] for r in ROWS],
                             "passed": [True, False, True], "quality": [0.5, 1.0, -2.5],
                             "system": ["base", "base", "tuned"], "extra": [1, 2, 3]}), tmp_path / "g.parquet")
    b = load_generations(tmp_path / "g.parquet")
    for t in (a, b):
        assert t.prompt_id.tolist() == ["q1", "q1", "7"] and t.systems() == ("base", "tuned")
        assert t.passed is not None and t.passed.tolist() == [True, False, True]
        assert t.quality is not None and t.quality.tolist() == [0.5, 1.0, -2.5]
        assert t.empty_samples() == 1 and t.n == 3


def test_optional_columns_may_be_absent(tmp_path: Path) -> None:
    t = load_generations(_jsonl(tmp_path / "g.jsonl", [{"prompt_id": 1, "sample": "a"}]))
    assert t.passed is None and t.quality is None and t.systems() == ("default",)


@pytest.mark.parametrize(("change", "message"), [
    ({"sample": None}, r"row 2, column sample: None is not text"),
    ({"sample": 3}, r"row 2, column sample: 3 is not text"),
    ({"prompt_id": None}, r"row 2, column prompt_id: None is not a non-empty string or whole number"),
    ({"prompt_id": 1.5}, r"row 2, column prompt_id: 1.5"),
    ({"passed": "yes"}, r"row 2, column passed: 'yes' is not a boolean; use true/false or 1/0"),
    ({"passed": 2}, r"row 2, column passed: 2 is not a boolean"),
    ({"passed": None}, r"row 2, column passed: None is not a boolean"),
    ({"quality": float("nan")}, r"row 2, column quality: NaN; every quality must be a finite number. Fix:"),
    ({"quality": None}, r"row 2, column quality: missing"),
    ({"quality": "high"}, r"row 2, column quality: 'high', not a number"),
    ({"system": ""}, r"row 2, column system: '' is not a name"),
])
def test_bad_values_name_file_row_and_column(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    rows = [dict(r) for r in ROWS]
    rows[1].update(change)
    path = tmp_path / "g.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")  # json writes NaN as NaN
    with pytest.raises(InputError, match=rf"^{path}: {message}"):
        load_generations(path)


def test_missing_columns_and_keys(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no 'sample' column \(found 'Sample': rename it to 'sample'\)"):
        load_generations(_jsonl(tmp_path / "a.jsonl", [{"prompt_id": 1, "Sample": "x"}]))
    with pytest.raises(InputError, match=r"no 'prompt_id' column .*every row needs 'prompt_id'"):
        load_generations(_jsonl(tmp_path / "b.jsonl", [{"sample": "x"}]))
    with pytest.raises(InputError, match=r"row 2: keys differ from row 1 \(missing \['passed'\], extra \[\]\)"):
        load_generations(_jsonl(tmp_path / "c.jsonl", [{"prompt_id": 1, "sample": "x", "passed": 1},
                                                      {"prompt_id": 1, "sample": "y"}]))
    pq.write_table(pa.table({"prompt": ["a"], "sample": ["x"]}), tmp_path / "d.parquet")
    with pytest.raises(InputError, match=r"d.parquet: no 'prompt_id' column \(found 'prompt'"):
        load_generations(tmp_path / "d.parquet")


def test_file_level_rejections(tmp_path: Path) -> None:
    (tmp_path / "e.jsonl").write_text("", encoding="utf-8")
    (tmp_path / "bad.jsonl").write_text('{"prompt_id": 1, "sample": "x"}\n{oops\n', encoding="utf-8")
    (tmp_path / "g.csv").write_text("prompt_id,sample\n1,x\n", encoding="utf-8")
    with pytest.raises(InputError, match="the file is empty"):
        load_generations(tmp_path / "e.jsonl")
    with pytest.raises(InputError, match="line 2: not valid JSON"):
        load_generations(tmp_path / "bad.jsonl")
    with pytest.raises(InputError, match=r"unknown file type '.csv' for generations; use one of .jsonl"):
        load_generations(tmp_path / "g.csv")
    with pytest.raises(InputError, match="no such file"):
        load_generations(tmp_path / "missing.jsonl")


def test_rows_from_python() -> None:
    t = table_from_rows(ROWS, "mine")
    assert t.source == "mine" and table_from_rows(t) is t
    with pytest.raises(InputError, match="expected a list of dicts"):
        table_from_rows("prompt_id,sample")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="row 1 is a list"):
        table_from_rows([["q", "x"]])  # type: ignore[list-item]
