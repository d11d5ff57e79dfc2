"""`runcard eval-gen` through the installed entry point."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from runcard.errors import InputError
from runcard.generation.embedding import model_folder

RUNCARD = shutil.which("runcard", path=str(Path(sys.executable).parent)) or "runcard"


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([RUNCARD, *map(str, args)], check=False, capture_output=True, text=True, timeout=120)


@pytest.fixture
def samples(tmp_path: Path, rng: np.random.Generator) -> Path:
    vocab = ["the", "a", "cat", "dog", "sat", "ran", "on", "under", "mat", "log", "red", "blue", "green", "old", "new"]
    lines = [json.dumps({"prompt_id": p, "sample": " ".join(rng.choice(vocab, 7)), "system": system,
                         "passed": bool(rng.random() < p_pass), "quality": float(rng.random())})
             for system, p_pass in (("base", 0.3), ("tuned", 0.8)) for p in range(12) for _ in range(6)]
    path = tmp_path / "samples.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_json_document(samples: Path) -> None:
    result = run("eval-gen", samples, "--no-semantic", "--k", "1,5", "--n-boot", "200", "--seed", "3", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["kind"] == "generation_evaluation" and doc["baseline"] == "base"
    assert [s["system"] for s in doc["systems"]] == ["base", "tuned"]
    metrics = doc["systems"][1]["metrics"]
    assert {"distinct_1", "distinct_2", "distinct_3", "self_bleu", "pass@1", "pass@5", "quality"} <= set(metrics)
    assert "semantic_diversity" in doc["not_computed"] and doc["settings"]["n_boot"] == 200
    assert doc["differences"][0]["b"] == "tuned" and doc["differences"][0]["metrics"]["pass@1"]["b_minus_a"] > 0


def test_tables_and_system_choice(samples: Path) -> None:
    result = run("eval-gen", samples, "--no-semantic", "--system", "tuned", "--system", "base", "--n-boot", "100",
                 "--self-bleu-cap", "4")
    assert result.returncode == 0, result.stderr
    for text in ("baseline tuned", "Self-BLEU", "higher = less diverse", "B − A: base − tuned", "pass@5",
                 "not computed: pass@10", "cap:4", "Findings"):
        assert text in result.stdout, text


def test_k_above_n_exits_2_naming_the_prompt(samples: Path) -> None:
    result = run("eval-gen", samples, "--k", "1,7")
    assert result.returncode == 2 and result.stdout == ""
    assert "pass@7 needs at least 7 samples per prompt, but prompt '0' has 6" in result.stderr


def test_missing_column_exits_2_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"prompt_id": 1, "text": "x"}\n', encoding="utf-8")
    result = run("eval-gen", path, "--no-semantic")
    assert result.returncode == 2
    assert f"{path}: no 'sample' column" in result.stderr and "Traceback" not in result.stderr
    result = run("eval-gen", path, "--k", "one")
    assert result.returncode == 2 and "--k 'one': expected whole numbers" in result.stderr


def test_a_missing_model_package_is_an_error_not_a_zero() -> None:
    with pytest.raises(InputError, match=r"not installed: pip install no-such-model .*or pass --no-semantic"):
        model_folder("no-such-model")
