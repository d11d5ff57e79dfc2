"""The command line through its real entry point (the installed `runcard` script)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from runcard import evaluate_table, load_predictions, table_from_arrays, write_predictions
from tests.conftest import random_probs

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "agnews_tfidf_lr"
RUNCARD = shutil.which("runcard", path=str(Path(sys.executable).parent)) or "runcard"


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([RUNCARD, *map(str, args)], capture_output=True, text=True, timeout=120)


@pytest.fixture
def files(tmp_path: Path, rng: np.random.Generator) -> dict[str, Path]:
    classes = ["neg", "neu", "pos"]
    out = {}
    for split, n in (("val", 300), ("test", 400)):
        probs = random_probs(rng, n, 3, sharpness=2.0)
        labels = np.array(classes)[np.where(rng.random(n) < 0.6, probs.argmax(1), rng.integers(0, 3, n))]
        table = table_from_arrays(labels, probs, classes=classes, ids=[f"{split}{i}" for i in range(n)])
        out[split] = write_predictions(table, tmp_path / f"{split}.csv")
    return out


def test_eval_json_is_the_evaluation(files: dict[str, Path]) -> None:
    result = run("eval", files["test"], "--json", "--seed", "4", "--bins", "10")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    expected = evaluate_table(load_predictions(files["test"]), bins=10, seed=4).to_dict()
    findings = payload.pop("findings")
    assert payload == json.loads(json.dumps(expected))
    assert isinstance(findings, list) and all({"kind", "severity", "title", "evidence"} <= set(f) for f in findings)
    for key in ("n", "classes", "accuracy", "balanced_accuracy", "macro_f1", "micro_f1", "weighted_f1", "per_class",
                "confusion_matrix", "top_k_accuracy", "nll", "brier", "ece", "mce", "adaptive_ece", "ci95", "warnings"):
        assert key in payload
    assert set(payload["ci95"]) >= {"accuracy", "macro_f1"}


def test_eval_with_val_and_no_ci(files: dict[str, Path]) -> None:
    result = run("eval", files["test"], "--val", files["val"], "--no-ci", "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["ci95"] is None and payload["val"]["n"] == 300


def test_eval_renders_tables(files: dict[str, Path]) -> None:
    result = run("eval", files["test"], "--val", files["val"])
    assert result.returncode == 0, result.stderr
    for text in ("Headline scores", "macro-F1", "Per class (test)", "Confusion matrix (val", "signature: runcard"):
        assert text in result.stdout


def test_example_files_evaluate(tmp_path: Path) -> None:
    """The demo's commands succeed on the committed AG News predictions."""
    result = run("eval", EXAMPLE / "test.csv", "--val", EXAMPLE / "val.csv", "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["n"] == 7600 and payload["val"]["n"] == 500
    assert payload["classes"] == ["World", "Sports", "Business", "Sci/Tech"]


def test_calibrate_writes_the_calibrated_file(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out" / "cal.parquet"
    result = run("calibrate", "--val", files["val"], "--apply", files["test"], "--out", out, "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    calibrated = load_predictions(out)
    original = load_predictions(files["test"])
    np.testing.assert_array_equal(calibrated.probs.argmax(1), original.probs.argmax(1))
    assert calibrated.logits is not None
    assert payload["argmax_invariant"] is True and payload["temperature"] > 0
    before, after = payload["splits"]["val"]["before"], payload["splits"]["val"]["after"]
    assert after["nll"] <= before["nll"] and after["accuracy"] == before["accuracy"]
    text = run("calibrate", "--val", files["val"], "--apply", files["test"], "--out", tmp_path / "c.csv")
    assert "accuracy unchanged" in text.stdout and "T = " in text.stdout


def test_compare(files: dict[str, Path], tmp_path: Path) -> None:
    cal = tmp_path / "vec.csv"
    assert run("calibrate", "--val", files["val"], "--apply", files["test"], "--out", cal, "--method", "vector").returncode == 0
    result = run("compare", files["test"], cal, "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["paired_by"] == "id" and "p_value" in payload["mcnemar"]
    assert payload["difference"]["accuracy"]["b_minus_a"] == pytest.approx(payload["b"]["accuracy"] - payload["a"]["accuracy"])


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


BAD = [
    ("nan.csv", "label,prob_a,prob_b\na,nan,0.5\n", "nan.csv: row 1, column prob_a"),
    ("neg.csv", "label,prob_a,prob_b\na,1.5,-0.5\n", "neg.csv: row 1, column prob_b: probability -0.5 is negative"),
    ("sum.csv", "label,prob_a,prob_b\na,0.5,0.5\nb,0.9,0.9\n", "sum.csv: row 2: probabilities sum to 1.8"),
    ("label.csv", "label,prob_a,prob_b\nz,0.5,0.5\n", "label.csv: row 1, column label: 'z' is not among"),
    ("nolabel.csv", "y,prob_a,prob_b\na,0.5,0.5\n", "nolabel.csv: no 'label' column"),
    ("noprob.csv", "label,score\na,0.5\n", "noprob.csv: no probability columns"),
    ("empty.csv", "", "empty.csv: the file is empty"),
    ("text.csv", "label,prob_a,prob_b\na,x,0.5\n", "text.csv: row 1, column prob_a: 'x' is not a number"),
    ("dup.csv", "id,label,prob_a,prob_b\n1,a,0.5,0.5\n1,b,0.5,0.5\n", "dup.csv: id '1' appears twice"),
]


@pytest.mark.parametrize(("name", "content", "message"), BAD)
def test_bad_input_exits_2_with_one_message(tmp_path: Path, name: str, content: str, message: str) -> None:
    result = run("eval", write(tmp_path / name, content))
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stderr.count("\n") == 1 and result.stdout == ""


def test_renormalize_flag_accepts_off_rows(tmp_path: Path) -> None:
    path = write(tmp_path / "sum.csv", "label,prob_a,prob_b\na,2,2\nb,1,3\n")
    result = run("eval", path, "--renormalize", "--json", "--no-ci")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert any("renormalised" in w["message"] for w in payload["warnings"])


def test_val_and_test_with_different_classes_exit_2(tmp_path: Path) -> None:
    test = write(tmp_path / "t.csv", "label,prob_a,prob_b\na,0.5,0.5\n")
    val = write(tmp_path / "v.csv", "label,prob_a,prob_c\na,0.5,0.5\n")
    result = run("eval", test, "--val", val)
    assert result.returncode == 2 and "same classes" in result.stderr
    out = tmp_path / "never.csv"
    result = run("calibrate", "--val", val, "--apply", test, "--out", out)
    assert result.returncode == 2 and "same classes" in result.stderr
    assert not out.exists()


def test_rejected_calibration_input_writes_nothing(files: dict[str, Path], tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.csv", "id,label,prob_neg,prob_neu,prob_pos\n1,neg,nan,0.5,0.5\n")
    out = tmp_path / "out.csv"
    result = run("calibrate", "--val", files["val"], "--apply", bad, "--out", out)
    assert result.returncode == 2 and "bad.csv: row 1, column prob_neg" in result.stderr
    assert not out.exists()
    result = run("calibrate", "--val", files["val"], "--apply", files["test"], "--out", files["test"])
    assert result.returncode == 2 and "refusing to overwrite" in result.stderr


def test_usage_errors_exit_2(files: dict[str, Path]) -> None:
    assert run("eval", files["test"], "--bins", "0").returncode == 2
    assert run("eval").returncode == 2
    result = run("calibrate", "--val", files["val"], "--apply", files["test"], "--out", "x.csv", "--method", "platt")
    assert result.returncode == 2 and "--method" in result.stderr


def test_version_and_help() -> None:
    assert run("--version").stdout.startswith("runcard ")
    helptext = run("eval", "--help").stdout
    assert "--no-ci" in helptext and "Examples" in helptext
