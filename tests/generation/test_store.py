"""`log_generations` round trip through a SQLite store, and `compare` on runs with generations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from runcard import get_run, open_store, start_run
from runcard.errors import InputError
from runcard.generation import load_run_generations, table_from_rows
from runcard.report.comparison import build_comparison
from runcard.report.multi import comparison_html, comparison_markdown
from runcard.store import Store
from tests.conftest import random_probs


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.setenv("RUNCARD_ARTIFACTS", str(tmp_path / "artifacts"))
    monkeypatch.setenv("RUNCARD_JOURNAL", str(tmp_path / "journal"))
    return open_store(f"sqlite:///{tmp_path / 'runcard.db'}")


def _rows(rng: np.random.Generator, p_pass: float, words: int) -> list[dict[str, Any]]:
    vocab = [f"w{i}" for i in range(words)]
    return [{"prompt_id": f"task/{p}", "sample": " ".join(rng.choice(vocab, 9)), "passed": bool(rng.random() < p_pass),
             "quality": float(rng.random())} for p in range(20) for _ in range(4)]


def _embed(texts: list[str]) -> np.ndarray:
    return np.array([[len(t) + 1.0, t.count("w1") + 1.0, 1.0] for t in texts])


def test_log_generations_round_trip(store: Store, rng: np.random.Generator) -> None:
    rows = _rows(rng, 0.5, 30)
    with start_run(project="gen", name="sampler", store=store) as run:
        sha = run.log_generations("test", rows)
        run.log_generations("val", table_from_rows(rows[:8]))
        with pytest.raises(InputError, match=r"row 3, column passed: 'maybe'"):
            run.log_generations("test", [*rows[:2], {**rows[2], "passed": "maybe"}])
    stored = get_run(run.id, store)
    art = stored.artifact(name="generations_test.parquet")
    assert art is not None and art.kind == "generations" and art.sha256 == sha
    assert art.meta == {"split": "test", "n": 80, "systems": ["default"], "prompts": 20}
    table = load_run_generations(store, stored, "test")
    assert table.sample.tolist() == [r["sample"] for r in rows]
    assert table.prompt_id.tolist() == [r["prompt_id"] for r in rows]
    assert table.passed is not None and table.passed.tolist() == [r["passed"] for r in rows]
    assert table.quality is not None and np.array_equal(table.quality, [r["quality"] for r in rows])
    assert load_run_generations(store, stored, "val").n == 8
    with pytest.raises(InputError, match=r"no generations for split 'dev' \(it has: \['test', 'val'\]\)"):
        load_run_generations(store, stored, "dev")


def test_compare_runs_with_generations(store: Store, rng: np.random.Generator) -> None:
    ids = []
    for p_pass, words in ((0.3, 12), (0.9, 400)):
        with start_run(project="gen", store=store) as run:
            run.log_generations("test", _rows(rng, p_pass, words))
        ids.append(run.id)
    runs = [get_run(i, store) for i in ids]
    doc = build_comparison(store, runs, n_boot=200, embed=_embed)
    [entry] = doc["generations"]
    assert entry["paired"] and (entry["a"], entry["b"], entry["split"]) == (ids[0], ids[1], "test")
    diffs = entry["evaluation"]["differences"][0]["metrics"]
    assert diffs["pass@1"]["change"] == "more prompts solved" and diffs["pass@1"]["ci95"][0] > 0
    assert diffs["distinct_1"]["change"] == "more diverse"
    assert "semantic_diversity" in diffs
    markdown, html = comparison_markdown(doc), comparison_html(doc)
    assert "## Generations (paired over prompts)" in markdown and "more prompts solved" in markdown
    assert 'id="generations"' in html and "higher = less diverse (more alike)" in html
    doc = build_comparison(store, runs, n_boot=50, embed=None)
    assert doc["generations"][0]["evaluation"]["not_computed"]["semantic_diversity"] == "not requested"


def test_prediction_comparisons_are_unchanged(store: Store, rng: np.random.Generator) -> None:
    ids = []
    for _ in range(2):
        with start_run(project="p", store=store) as run:
            run.log_predictions("test", rng.integers(0, 3, 50), random_probs(rng, 50, 3), ids=np.arange(50))
        ids.append(run.id)
    doc = build_comparison(store, [get_run(i, store) for i in ids], n_boot=50)
    assert "generations" not in doc and "Generations" not in comparison_markdown(doc)


def test_a_run_without_the_split_is_reported_not_paired(store: Store, rng: np.random.Generator) -> None:
    with start_run(project="gen", store=store) as a:
        a.log_generations("test", _rows(rng, 0.5, 20))
    with start_run(project="gen", store=store) as b:
        b.log_metric("x", 1.0)
    doc = build_comparison(store, [get_run(a.id, store), get_run(b.id, store)], n_boot=20, embed=None)
    [entry] = doc["generations"]
    assert not entry["paired"] and entry["reason"] == f"run {b.id} logged no generations for 'test'"
