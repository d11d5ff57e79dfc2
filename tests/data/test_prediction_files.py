"""Prediction files: the three formats, round trips, and every documented rejection."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from runcard import InputError, load_predictions, table_from_arrays, write_predictions
from runcard.logits import softmax
from tests.conftest import random_probs


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_round_trip(tmp_path: Path, rng: np.random.Generator, suffix: str) -> None:
    probs = random_probs(rng, 40, 3)
    target = rng.dirichlet(np.ones(3), size=40)
    labels = np.array(["cat", "dog", "emu"])[rng.integers(0, 3, 40)]
    table = table_from_arrays(labels, probs, classes=["cat", "dog", "emu"], ids=[f"i{i}" for i in range(40)],
                              texts=[f"text, with \"quotes\"\nand a newline {i}" for i in range(40)], targets=target)
    path = write_predictions(table, tmp_path / f"p{suffix}")
    back = load_predictions(path)
    assert back.classes == ("cat", "dog", "emu")
    np.testing.assert_array_equal(back.y_true, table.y_true)
    np.testing.assert_array_equal(back.probs, table.probs)  # exact: shortest round-trip floats
    np.testing.assert_array_equal(back.targets, table.targets)
    assert back.ids.tolist() == table.ids.tolist()
    assert back.texts.tolist() == table.texts.tolist()
    assert not list(tmp_path.glob(".*tmp*"))  # no temporary file left behind


def test_logit_columns_are_softmaxed(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "l.csv", "label,logit_a,logit_b\na,2.0,0.0\nb,0.0,1.0\n")
    table = load_predictions(path)
    np.testing.assert_allclose(table.probs, softmax(np.array([[2.0, 0.0], [0.0, 1.0]])))
    np.testing.assert_array_equal(table.logits, [[2.0, 0.0], [0.0, 1.0]])


def test_consistent_prob_and_logit_columns_are_accepted(tmp_path: Path) -> None:
    logits = np.array([[2.0, 0.0], [0.0, 1.0]])
    probs = softmax(logits.copy())
    rows = "\n".join(f"{lab},{float(p[0])!r},{float(p[1])!r},{z[0]},{z[1]}" for lab, p, z in zip("ab", probs, logits))
    path = write_csv(tmp_path / "both.csv", f"label,prob_a,prob_b,logit_a,logit_b\n{rows}\n")
    assert load_predictions(path).logits is not None
    bad = write_csv(tmp_path / "bad.csv", "label,prob_a,prob_b,logit_a,logit_b\na,0.5,0.5,2.0,0.0\n")
    with pytest.raises(InputError, match=r"bad.csv: row 1, column prob_a: probability 0.5 is not the softmax"):
        load_predictions(bad)


def test_integer_labels_match_class_names(tmp_path: Path) -> None:
    table = pa.table({"label": [0, 1, 1], "prob_0": [0.9, 0.2, 0.4], "prob_1": [0.1, 0.8, 0.6]})
    pq.write_table(table, tmp_path / "ints.parquet")
    loaded = load_predictions(tmp_path / "ints.parquet")
    assert loaded.classes == ("0", "1") and loaded.y_true.tolist() == [0, 1, 1]


def test_jsonl_numbers_and_labels(tmp_path: Path) -> None:
    lines = [{"id": 1, "label": 2, "prob_1": 0.25, "prob_2": 0.75}, {"id": 2, "label": 1, "prob_1": 1, "prob_2": 0}]
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    table = load_predictions(path)
    assert table.y_true.tolist() == [1, 0] and table.ids.tolist() == ["1", "2"]


def test_renormalize_is_reported(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", "label,prob_a,prob_b\na,2,2\nb,1,3\n")
    with pytest.raises(InputError, match="--renormalize"):
        load_predictions(path)
    table = load_predictions(path, renormalize=True)
    np.testing.assert_allclose(table.probs, [[0.5, 0.5], [0.25, 0.75]])
    assert "2 rows renormalised" in table.notes[0]


HEADER = "id,label,prob_a,prob_b\n"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("nan.csv", HEADER + "1,a,0.5,0.5\n2,b,nan,0.5\n", r"nan.csv: row 2, column prob_a: probability is NaN"),
        ("empty_cell.csv", HEADER + "1,a,,0.5\n", r"empty_cell.csv: row 1, column prob_a: probability is NaN \(or missing\)"),
        ("inf.csv", HEADER + "1,a,inf,0.5\n", r"inf.csv: row 1, column prob_a: probability is inf"),
        ("neg.csv", HEADER + "1,a,1.5,-0.5\n", r"neg.csv: row 1, column prob_b: probability -0.5 is negative"),
        ("sum.csv", HEADER + "1,a,0.5,0.5\n2,b,0.6,0.6\n", r"sum.csv: row 2: probabilities sum to 1.2"),
        ("label.csv", HEADER + "1,a,0.5,0.5\n2,c,0.5,0.5\n", r"label.csv: row 2, column label: 'c' is not among the classes \['a', 'b'\]"),
        ("nolabel.csv", "id,Label,prob_a,prob_b\n1,a,0.5,0.5\n", r"nolabel.csv: no 'label' column \(found 'Label'"),
        ("noprob.csv", "id,label,score\n1,a,0.5\n", r"noprob.csv: no probability columns"),
        ("empty.csv", "", r"empty.csv: the file is empty"),
        ("header.csv", HEADER, r"header.csv: has a header but no rows"),
        ("text.csv", HEADER + "1,a,0.5,0.5\n2,b,abc,0.5\n", r"text.csv: row 2, column prob_a: 'abc' is not a number"),
        ("dup.csv", HEADER + "7,a,0.5,0.5\n8,b,0.5,0.5\n7,b,0.5,0.5\n", r"dup.csv: id '7' appears twice \(rows 1 and 3\)"),
        ("dupcol.csv", "label,prob_a,prob_a\na,0.5,0.5\n", r"dupcol.csv: column 'prob_a' appears more than once"),
        ("emptylabel.csv", HEADER + "1,,0.5,0.5\n", r"emptylabel.csv: row 1, column label: empty is not among"),
        ("noclass.csv", "label,prob_,prob_b\na,0.5,0.5\n", r"noclass.csv: column 'prob_' names no class"),
        ("p.txt", "label\n", r"p.txt: unknown file type '.txt'"),
        ("one.csv", "label,prob_a\na,1.0\n", r"one.csv: only one class column \(prob_a\)"),
    ],
)
def test_bad_files_name_file_row_and_column(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = write_csv(tmp_path / name, content)
    with pytest.raises(InputError, match=message):
        load_predictions(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load_predictions(tmp_path / "nope.csv")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"label": "a", "prob_a": "0.5", "prob_b": 0.5}\n', r"row 1, column prob_a: '0.5' is not a number"),
        ('{"label": "a", "prob_a": 0.5, "prob_b": 0.5}\n{"label": "b", "prob_a": 0.5}\n', r"row 2: keys differ"),
        ('{"label": "a", "prob_a": 0.5, "prob_b": 0.5}\nnot json\n', r"line 2: not valid JSON"),
        ('{"label": "a", "prob_a": NaN, "prob_b": 0.5}\n', r"row 1, column prob_a: probability is NaN"),
    ],
)
def test_bad_jsonl(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        load_predictions(path)


def test_failed_write_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    table = table_from_arrays([0, 1], [[0.6, 0.4], [0.3, 0.7]])
    import runcard.data.prediction_files as module

    def explode(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(module.pacsv, "write_csv", explode)
    with pytest.raises(InputError, match=r"out\.csv: cannot write it"):  # named, with the fix: not a raw OSError
        write_predictions(table, tmp_path / "out.csv")
    assert list(tmp_path.iterdir()) == []
