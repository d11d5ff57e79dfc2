"""The paired comparison against a brute-force row bootstrap, intervals, and the findings rules."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np
import pytest
from sacrebleu.metrics import BLEU

from runcard.errors import InputError
from runcard.generation import evaluate_generations, table_from_rows
from runcard.generation.distinct import tokenize
from runcard.generation.resample import prompt_draws
from runcard.stats import percentile_interval

WORDS = ["the", "a", "cat", "dog", "bird", "sat", "ran", "flew", "on", "under", "over", "mat", "log",
         "tree", "quickly", "slowly", "red", "blue", "green", "small", "big", "old", "new", "happy", "sad"]


def _rows(rng: np.random.Generator, prompts: int = 25, per: int = 5, systems: tuple[str, ...] = ("A", "B"),
          p_pass: tuple[float, ...] = (0.4, 0.6), alike: tuple[float, ...] = (0.0, 0.0),
          extra_words: tuple[int, ...] = (0, 0)) -> list[dict[str, Any]]:
    """Random short texts; ``alike``: the chance a sample repeats the prompt's first sample;
    ``extra_words``: a larger vocabulary for a system."""
    rows = []
    for s, system in enumerate(systems):
        vocab = list(WORDS) + [f"v{i}" for i in range(extra_words[s])]
        for p in range(prompts):
            first = " ".join(rng.choice(vocab, 8))
            for _ in range(per - int(rng.integers(0, 2)) if s == 0 else per):
                text = first if rng.random() < alike[s] else " ".join(rng.choice(vocab, int(rng.integers(4, 12))))
                rows.append({"prompt_id": f"q{p}", "sample": text, "system": system,
                             "passed": bool(rng.random() < p_pass[s])})
    return rows


def _fake_embed(texts: list[str]) -> np.ndarray:
    """A deterministic bag-of-words embedding (independent of batch composition)."""
    out = np.zeros((len(texts), len(WORDS) + 1))
    for i, text in enumerate(texts):
        for token in tokenize(text):
            out[i, WORDS.index(token) if token in WORDS else -1] += 1
        out[i, -1] += 0.5
    return out


def _per_prompt_reference(rows: list[dict[str, Any]], system: str, order: list[str]) -> dict[str, Any]:
    """Each metric's per-prompt parts, computed here from the definitions (no runcard metric code)."""
    groups = {p: [r for r in rows if r["system"] == system and r["prompt_id"] == p] for p in order}
    out: dict[str, Any] = {}
    for n in (1, 2, 3):
        grams = {p: [g for r in g_rows for g in zip(*(tokenize(r["sample"])[i:] for i in range(n)))]
                 for p, g_rows in groups.items()}
        spread = Counter(g for p in order for g in set(grams[p]))
        out[f"distinct_{n}"] = (np.array([sum(1 / spread[g] for g in set(grams[p])) for p in order]),
                                np.array([len(grams[p]) for p in order], dtype=float))
        out[f"distinct_{n}_per_prompt"] = (np.array([len(set(grams[p])) / len(grams[p]) for p in order]),
                                           np.ones(len(order)))
    bleu = []
    for p in order:
        texts = [r["sample"] for r in groups[p]]
        streams = [[[texts[j] for j in range(len(texts)) if j != i][s] for i in range(len(texts))]
                   for s in range(len(texts) - 1)]
        bleu.append(BLEU().corpus_score(texts, streams).score)
    out["self_bleu"] = (np.array(bleu), np.ones(len(order)))
    semantic = []
    for p in order:
        v = _fake_embed([r["sample"] for r in groups[p]])
        v = v / np.linalg.norm(v, axis=1, keepdims=True)
        semantic.append(np.mean([1 - v[i] @ v[j] for i in range(len(v)) for j in range(len(v)) if i != j]))
    out["semantic_diversity"] = (np.array(semantic), np.ones(len(order)))
    for k in (1, 3):
        values = []
        for p in order:
            n, c = len(groups[p]), sum(r["passed"] for r in groups[p])
            values.append(1 - math.comb(n - c, k) / math.comb(n, k))
        out[f"pass@{k}"] = (np.array(values), np.ones(len(order)))
    return out


def test_paired_comparison_equals_a_brute_force_row_bootstrap(rng: np.random.Generator) -> None:
    rows = _rows(rng)
    n_boot, seed = 300, 7
    ev = evaluate_generations(table_from_rows(rows), ks=[1, 3], embed=_fake_embed, n_boot=n_boot, seed=seed)
    order = list(dict.fromkeys(r["prompt_id"] for r in rows if r["system"] == "A"))
    ref = {s: _per_prompt_reference(rows, s, order) for s in ("A", "B")}
    # the same draws, expanded into explicit resampled prompt lists
    draws = np.concatenate(list(prompt_draws(len(order), n_boot, np.random.default_rng(seed))))
    picks = [np.repeat(np.arange(len(order)), w) for w in draws]
    assert all(len(p) == len(order) for p in picks)
    for metric in ref["A"]:
        stats = {s: np.array([ref[s][metric][0][p].sum() / ref[s][metric][1][p].sum() for p in picks])
                 for s in ("A", "B")}
        for result in ev.systems:
            num, den = ref[result.system][metric]
            assert result.metrics[metric].value == pytest.approx(num.sum() / den.sum(), abs=1e-9), metric
            np.testing.assert_allclose(result.metrics[metric].ci95, percentile_interval(stats[result.system]),
                                       atol=1e-9, err_msg=metric)
        diff = ev.differences["B"][metric]
        np.testing.assert_allclose(diff.ci95, percentile_interval(stats["B"] - stats["A"]), atol=1e-9, err_msg=metric)
        assert diff.b_minus_a == pytest.approx(diff.b - diff.a)


def test_intervals_contain_the_point(rng: np.random.Generator) -> None:
    ev = evaluate_generations(table_from_rows(_rows(rng, prompts=60)), embed=_fake_embed, n_boot=400)
    for result in ev.systems:
        for key, m in result.metrics.items():
            assert m.ci95 is not None and m.ci95[0] <= m.value <= m.ci95[1], (result.system, key)
    for key, d in ev.differences["B"].items():
        assert d.ci95 is not None and d.ci95[0] <= d.b_minus_a <= d.ci95[1], key
        assert d.per_prompt is None if key in ("distinct_1", "distinct_2", "distinct_3") else \
            sum(d.per_prompt.values()) == 60  # type: ignore[union-attr]


def test_a_clean_comparison_raises_no_finding(rng: np.random.Generator) -> None:
    """B clearly more diverse and more often right: every difference is real, nothing is at a ceiling."""
    rows = _rows(rng, prompts=50, per=6, p_pass=(0.2, 0.8), alike=(0.8, 0.0), extra_words=(0, 300))
    ev = evaluate_generations(table_from_rows(rows), ks=[1], embed=_fake_embed, n_boot=500)
    assert ev.findings == ()
    changes = {k: d.change for k, d in ev.differences["B"].items()}
    assert changes["self_bleu"] == "more diverse" and changes["distinct_2"] == "more diverse"
    assert changes["pass@1"] == "more prompts solved"


def test_not_significant_fires_on_equal_systems(rng: np.random.Generator) -> None:
    rows = _rows(rng, prompts=30, p_pass=(0.5, 0.5))
    ev = evaluate_generations(table_from_rows(rows), ks=[1], n_boot=300)
    flagged = {f.metrics[0] for f in ev.findings if f.kind == "not_significant"}
    assert "pass@1" in flagged and "self_bleu" in flagged
    assert all(f.runs == ("A", "B") for f in ev.findings if f.kind == "not_significant")


def test_ceiling_effect_fires_only_when_every_system_is_at_the_top(rng: np.random.Generator) -> None:
    top = evaluate_generations(table_from_rows(_rows(rng, p_pass=(0.995, 1.0))), ks=[1, 3], n_boot=100)
    kinds = {(f.kind, f.metrics[0]) for f in top.findings}
    assert ("ceiling_effect", "pass@3") in kinds
    one_low = evaluate_generations(table_from_rows(_rows(rng, p_pass=(0.5, 1.0))), ks=[1, 3], n_boot=100)
    assert not any(f.kind == "ceiling_effect" for f in one_low.findings)


def test_all_zero_metric_names_the_cause() -> None:
    empty = [{"prompt_id": f"p{i % 4}", "sample": "", "system": s} for s in ("A", "B") for i in range(12)]
    ev = evaluate_generations(table_from_rows(empty), n_boot=50)
    errors = {f.metrics[0]: f for f in ev.findings if f.kind == "all_zero_metric"}
    assert {"distinct_1", "distinct_2", "distinct_3", "self_bleu"} <= set(errors)
    assert all(f.severity == "error" and "every sample is empty" in f.title for f in errors.values())

    single = [{"prompt_id": f"p{i}", "sample": f"a sample with words {i}"} for i in range(5)]
    found = {f.metrics[0]: f for f in evaluate_generations(table_from_rows(single), embed=_fake_embed,
                                                           n_boot=50).findings}
    assert "single sample" in found["self_bleu"].title and "single sample" in found["semantic_diversity"].title

    short = [{"prompt_id": f"p{i % 3}", "sample": f"yes {i}"} for i in range(12)]
    found = {f.metrics[0]: f for f in evaluate_generations(table_from_rows(short), n_boot=50).findings}
    assert "4-gram" in found["self_bleu"].title and "distinct_1" not in found

    same = evaluate_generations(table_from_rows(_rows(np.random.default_rng(1), systems=("A",), p_pass=(0.5,))),
                                embed=lambda texts: np.ones((len(texts), 3)), n_boot=50)
    found = {f.metrics[0]: f for f in same.findings}
    assert set(found) == {"semantic_diversity"} and "same embedding" in found["semantic_diversity"].title


def test_systems_must_answer_the_same_prompts() -> None:
    rows = [{"prompt_id": p, "sample": "x y", "system": s} for s, ps in (("A", ["q1", "q2"]), ("B", ["q2", "q3"]))
            for p in ps]
    with pytest.raises(InputError, match=r"1 only in 'A', e.g. \['q1'\]; 1 only in 'B', e.g. \['q3'\]"):
        evaluate_generations(table_from_rows(rows))
    ev = evaluate_generations(table_from_rows(rows), systems=["B"], n_boot=20)
    assert [s.system for s in ev.systems] == ["B"] and ev.differences == {}
    with pytest.raises(InputError, match="no system 'C'"):
        evaluate_generations(table_from_rows(rows), systems=["C"])


def test_json_document_has_the_documented_keys(rng: np.random.Generator) -> None:
    doc = evaluate_generations(table_from_rows(_rows(rng)), embed=_fake_embed, n_boot=50, model="fake").to_dict()
    assert set(doc) == {"kind", "source", "baseline", "systems", "differences", "findings", "not_computed",
                        "settings"}
    metric = doc["systems"][0]["metrics"]["self_bleu"]
    assert set(metric) == {"value", "ci95", "direction", "label", "prompts", "left_out"}
    assert metric["direction"] == "lower" and metric["label"] == "higher = less diverse (more alike)"
    assert set(doc["differences"][0]["metrics"]["pass@1"]) == {"a", "b", "b_minus_a", "ci95", "change", "per_prompt"}
    assert doc["settings"]["semantic"]["model"] == "fake" and "tok:13a" in doc["settings"]["signature"]
    assert "pass@10" in next(iter(doc["not_computed"]))  # 4 or 5 samples per prompt: pass@10 dropped, said so


def test_self_bleu_can_be_left_out_and_nothing_else_changes() -> None:
    rows = _rows(np.random.default_rng(7))
    table = table_from_rows(rows)
    full = evaluate_generations(table, ks=[1, 2], embed=_fake_embed, n_boot=200, seed=3)
    lean = evaluate_generations(table, ks=[1, 2], embed=_fake_embed, n_boot=200, seed=3, self_bleu=False)
    assert "self_bleu" in full.not_computed or "self_bleu" in full.systems[0].metrics
    assert "self_bleu" in lean.not_computed and "self_bleu=False" in lean.not_computed["self_bleu"]
    for a, b in zip(full.systems, lean.systems):
        assert "self_bleu" not in b.metrics
        assert set(a.metrics) - set(b.metrics) == {"self_bleu"}
        for name, metric in b.metrics.items():
            assert metric.value == a.metrics[name].value and metric.ci95 == a.metrics[name].ci95, name
    assert set(lean.differences["B"]) == set(full.differences["B"]) - {"self_bleu"}
    lean.to_dict()  # JSON-ready without the metric
