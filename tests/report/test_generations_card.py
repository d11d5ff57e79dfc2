"""The run card of a run that logged generations: pass@k and distinct-n from the stored samples."""

from __future__ import annotations

from math import comb
from pathlib import Path

import numpy as np
import pytest

from runcard import start_run
from runcard.report.card import build_card
from runcard.report.html import card_html
from runcard.report.markdown import card_markdown
from runcard.runs import get_run
from runcard.store import open_store


def test_a_generation_run_shows_its_pass_at_k_and_distinct_n(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    store = open_store(f"sqlite:///{tmp_path / 'runs.db'}")
    rows, passes = [], {}
    for p in range(12):
        passed = rng.random(6) < 0.3
        passes[f"q{p}"] = int(passed.sum())
        rows += [{"prompt_id": f"q{p}", "sample": f"sample {i} of prompt {p} word{int(rng.integers(5))}",
                  "passed": bool(ok)} for i, ok in enumerate(passed)]
    with start_run("gen", "card", store=store) as run:
        run.log_generations("test", rows)
    doc = build_card(store, get_run(run.id, store))
    [entry] = doc["generations"]
    assert entry["split"] == "test" and entry["samples"] == 72 and entry["prompts"] == 12
    [system] = entry["evaluation"]["systems"]
    for k in (1, 5):  # the unbiased estimator written out: 1 - C(n - c, k) / C(n, k), averaged over prompts
        expected = np.mean([1 - comb(6 - c, k) / comb(6, k) for c in passes.values()])
        assert system["metrics"][f"pass@{k}"]["value"] == pytest.approx(expected)
        assert system["metrics"][f"pass@{k}"]["ci95"] is not None
    assert "self_bleu" in entry["evaluation"]["not_computed"] and "self_bleu" not in system["metrics"]
    text = card_markdown(doc)
    assert "generations are under Results" in text
    assert "### Generations, test: 72 samples over 12 prompts" in text
    assert f"{system['metrics']['pass@1']['value']:.4f}" in text
    assert "Generations, test: 72 samples over 12 prompts" in card_html(doc)
