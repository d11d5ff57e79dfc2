"""The committed example predictions are what the committed script produces, and they are sound."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np

from runcard import evaluate_table, load_predictions

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "agnews_tfidf_lr"

# sha256 of the data files as listed in data/ag_news/README.md
DATA_SHA256 = {
    "test.csv": "521465c2428ed7f02f8d6db6ffdd4b5447c1c701962353eb2c40d548c3c85699",
    "train_known.csv": "0c7fbf2aeec422ad313b94f8aa004192f547911310f5cb2235a5b7c4a7ee7ff4",
    "classes.txt": "612dbfa932f07a6ed837295a7d5746ce7412e7bb4bc32ba919fdb3cda3a1b9b5",
}


def test_data_files_are_the_documented_ones() -> None:
    for name, digest in DATA_SHA256.items():
        assert hashlib.sha256((ROOT / "data" / "ag_news" / name).read_bytes()).hexdigest() == digest, name


def test_script_reproduces_the_committed_predictions(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(ROOT / "examples" / "make_agnews_tfidf_lr.py"), "--out", str(tmp_path)],
                   check=True, capture_output=True, timeout=600)
    for split in ("val", "test"):
        fresh = load_predictions(tmp_path / f"{split}.csv")
        committed = load_predictions(EXAMPLE / f"{split}.csv")
        assert fresh.classes == committed.classes
        assert fresh.ids.tolist() == committed.ids.tolist()
        np.testing.assert_array_equal(fresh.y_true, committed.y_true)
        # Same model and data; allow for floating-point differences between BLAS builds.
        np.testing.assert_allclose(fresh.probs, committed.probs, atol=1e-6)


def test_example_split_sizes_and_balance() -> None:
    test = load_predictions(EXAMPLE / "test.csv")
    val = load_predictions(EXAMPLE / "val.csv")
    assert test.n == 7600 and val.n == 500
    assert np.bincount(test.y_true).tolist() == [1900] * 4  # the original balanced test set
    assert not set(val.ids.tolist()) & set(test.ids.tolist())
    ev = evaluate_table(test, ci=False)
    assert 0.25 < ev.accuracy < 0.99  # a real model: well above chance, not leaked
