"""Unbiased pass@k against published HumanEval results, OpenAI's example and the binomial formula."""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from runcard.errors import InputError
from runcard.generation import evaluate_generations, table_from_rows
from runcard.generation.pass_at_k import check_ks, pass_at_k

FIXTURES = Path(__file__).parent / "fixtures"
#: jamesmurdza/humaneval-results, n = 10 per task (fixtures/README.md).
PUBLISHED = {
    "codellama-34b-instruct": {1: 0.451220, 2: 0.482656, 5: 0.518196, 10: 0.542683},
    "gpt-3.5-turbo": {1: 0.769512, 2: 0.804878, 5: 0.837398, 10: 0.859756},
    "gpt-4": {1: 0.848171, 2: 0.877371, 5: 0.899802, 10: 0.908537},
}


def _runs() -> list[dict[str, str]]:
    with (FIXTURES / "jamesmurdza_humaneval_runs.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_reproduces_the_published_humaneval_table() -> None:
    counts: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for row in _runs():
        cell = counts[row["model"]][row["task_id"]]
        cell[0] += 1
        cell[1] += int(row["passed"])
    for model, expected in PUBLISHED.items():
        n, c = np.array(list(counts[model].values())).T
        assert len(n) == 164 and set(n.tolist()) == {10}
        for k, value in expected.items():
            assert round(float(pass_at_k(n, c, k).mean()), 6) == value, (model, k)


def test_evaluate_generations_reports_the_same_table() -> None:
    """The whole path: rows -> table -> per-system pass@k (one system per model)."""
    rows = [{"prompt_id": r["task_id"], "sample": f"solution {r['run']} of {r['task_id']}", "system": r["model"],
             "passed": int(r["passed"])} for r in _runs()]
    ev = evaluate_generations(table_from_rows(rows), ks=[1, 2, 5, 10], n_boot=50)
    for result in ev.systems:
        for k, value in PUBLISHED[result.system].items():
            assert round(result.metrics[f"pass@{k}"].value, 6) == value


def test_openai_example_gives_one_half() -> None:
    with (FIXTURES / "openai_example_samples_results.csv").open(encoding="utf-8") as handle:
        passed = [int(r["passed"]) for r in csv.DictReader(handle)]
    value = float(pass_at_k(np.array([len(passed)]), np.array([sum(passed)]), 1)[0])
    assert value == pytest.approx(0.5, abs=1e-15)
    assert value == 0.4999999999999999  # the float OpenAI's README prints: the same product form


@given(st.integers(1, 60).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n), st.integers(1, n))))
def test_matches_the_binomial_formula(case: tuple[int, int, int]) -> None:
    n, c, k = case
    direct = 1.0 - math.comb(n - c, k) / math.comb(n, k)
    assert float(pass_at_k(np.array([n]), np.array([c]), k)[0]) == pytest.approx(direct, abs=1e-12)


def test_random_prompts_against_math_comb(rng: np.random.Generator) -> None:
    n = rng.integers(1, 200, 500)
    c = rng.integers(0, n + 1)
    for k in (1, 3, 17):
        keep = n >= k
        direct = [1.0 - math.comb(int(a - b), k) / math.comb(int(a), k) for a, b in zip(n[keep], c[keep])]
        np.testing.assert_allclose(pass_at_k(n[keep], c[keep], k), direct, rtol=0, atol=1e-12)


def test_k_above_the_smallest_sample_count_names_the_prompt() -> None:
    with pytest.raises(InputError, match=r"pass@5 needs at least 5 samples per prompt, but prompt 'q2' has 3"):
        check_ks([1, 5], np.array([10, 6, 3]), ["q0", "q1", "q2"], "f.jsonl")
    with pytest.raises(InputError, match="whole numbers >= 1"):
        check_ks([0], np.array([10]), ["q0"], "f.jsonl")
