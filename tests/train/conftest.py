"""A tiny BERT encoder shared by the optimizer and head tests (imports stay lazy: torch is optional)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def tiny_bert() -> Any:
    """A 3-layer, 16-wide ``BertModel`` with random weights (seeded)."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    config = transformers.BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=3, num_attention_heads=2,
                                     intermediate_size=32, max_position_embeddings=32)
    return transformers.BertModel(config)
