"""Distinct-n against counts written out here, Self-BLEU against sacrebleu called here, and the extremes."""

from __future__ import annotations

import pytest
from sacrebleu.metrics import BLEU

from runcard.errors import InputError
from runcard.generation import evaluate_generations, table_from_rows
from runcard.generation.distinct import ngram_counts, tokenize
from runcard.generation.self_bleu import group_self_bleu, self_bleu


def test_tokenizer_lowercases_and_splits_punctuation() -> None:
    assert tokenize("The CAT's hat, 3.5 km!") == ["the", "cat", "'", "s", "hat", ",", "3", ".", "5", "km", "!"]
    assert tokenize("Ünïcode wörds") == ["ünïcode", "wörds"]
    assert tokenize("") == []


def test_distinct_equals_counts_written_out() -> None:
    groups = [["the cat sat", "The cat ran!"], ["a dog", "x"]]
    # prompt 0 tokens: [the cat sat] [the cat ran !]; prompt 1: [a dog] [x]
    uni = ngram_counts(groups, 1)
    assert uni.total.tolist() == [7, 3] and uni.unique.tolist() == [5, 3]
    assert uni.corpus_unique == 8  # the cat sat ran ! a dog x
    assert uni.corpus_distinct() == pytest.approx(8 / 10)
    bi = ngram_counts(groups, 2)
    # (the cat) (cat sat) | (the cat) (cat ran) (ran !) | (a dog) | "x" has no bigram
    assert bi.total.tolist() == [5, 1] and bi.unique.tolist() == [4, 1] and bi.corpus_unique == 5
    tri = ngram_counts(groups, 3)
    assert tri.total.tolist() == [3, 0] and tri.corpus_unique == 3
    values, valid = tri.prompt_distinct()
    assert valid.tolist() == [True, False] and values[0] == 1.0
    assert uni.credit.sum() == pytest.approx(uni.corpus_unique)  # credits share out the distinct n-grams


def test_identical_samples_are_not_diverse() -> None:
    sample = "the quick brown fox jumps over the lazy dog"
    rows = [{"prompt_id": "p", "sample": sample} for _ in range(50)]
    m = evaluate_generations(table_from_rows(rows), n_boot=20).systems[0].metrics
    tokens = len(tokenize(sample))
    for n in (1, 2, 3):
        first = len(set(zip(*(tokenize(sample)[i:] for i in range(n)))))  # only the first sample's n-grams are new
        assert m[f"distinct_{n}"].value == pytest.approx(first / (50 * (tokens - n + 1)))
        assert m[f"distinct_{n}"].value < 0.021
    assert m["self_bleu"].value == pytest.approx(100.0)


def test_disjoint_samples_are_fully_diverse() -> None:
    words = [f"w{i}" for i in range(400)]
    rows = [{"prompt_id": f"p{p}", "sample": " ".join(words[(p * 8 + j) * 5 : (p * 8 + j) * 5 + 5])}
            for p in range(10) for j in range(8)]
    m = evaluate_generations(table_from_rows(rows), n_boot=20).systems[0].metrics
    for n in (1, 2, 3):
        assert m[f"distinct_{n}"].value == 1.0 and m[f"distinct_{n}_per_prompt"].value == 1.0
    assert m["self_bleu"].value == 0.0


def test_self_bleu_equals_sacrebleu_corpus_bleu() -> None:
    group = ["the cat sat on the mat today", "a cat sat on a mat", "the dog sat on the log today",
             "the cat is on the mat"]
    references = [[group[j] for j in range(4) if j != i] for i in range(4)]  # hypothesis i: the other three
    streams = [[refs[s] for refs in references] for s in range(3)]
    expected = BLEU().corpus_score(group, streams).score
    assert group_self_bleu(group).score == pytest.approx(expected, abs=1e-12)
    result = self_bleu([group, ["x y z w v", "x y z w v"]])
    assert result.values[0] == pytest.approx(expected, abs=1e-12) and result.values[1] == pytest.approx(100.0)
    assert 0 < expected < 100


def test_self_bleu_leaves_out_single_and_short_groups_and_caps() -> None:
    groups = [["only one sample here"], ["too short", "way short"], [f"s {i} a b c d" for i in range(30)]]
    result = self_bleu(groups, cap=5)
    assert result.valid.tolist() == [False, False, True]
    assert (result.single_sample, result.no_4grams, result.capped) == (1, 1, 1)
    assert result.values[2] == pytest.approx(group_self_bleu(groups[2][:5]).score)
    assert "tok:13a" in result.signature and "nrefs:m-1" in result.signature
    with pytest.raises(InputError, match="at least 2"):
        self_bleu(groups, cap=1)


def test_prompt_mean_distinct_counts_prompts_left_out() -> None:
    rows = [{"prompt_id": "a", "sample": "one two three"}, {"prompt_id": "a", "sample": "two three four"},
            {"prompt_id": "b", "sample": ""}, {"prompt_id": "b", "sample": "hi"}]
    ev = evaluate_generations(table_from_rows(rows), n_boot=20)
    m = ev.systems[0].metrics
    assert ev.systems[0].empty_samples == 1
    assert m["distinct_2_per_prompt"].left_out == {"no_ngram": 1} and m["distinct_2_per_prompt"].prompts == 1
    assert m["distinct_2_per_prompt"].value == pytest.approx(3 / 4)
    assert m["distinct_1"].value == pytest.approx(5 / 7)
    assert "semantic_diversity" not in m and "no embedder" in ev.not_computed["semantic_diversity"]
    assert "pass@1" not in m and "passed" in ev.not_computed["pass@k"]
