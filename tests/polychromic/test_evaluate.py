"""The evaluation's embedder: each distinct text embedded once, equal to the text embedded alone."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from runcard.recipes.polychromic.held_out import embedder
from runcard.recipes.polychromic.lm import embed_ids


def test_each_text_is_embedded_once_and_as_if_alone(tiny_lm: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
                                                     ) -> None:
    model, codec = tiny_lm
    centre = np.full(32, 0.01)
    texts = ["I love Sunday so much", "news about Apple", "I love Sunday so much", "worst Tesla ever :(", ""]
    alone = np.concatenate([embed_ids(model, [codec.tweet(t)[:48]], codec.pad, centre) for t in texts])
    embed = embedder(model, codec, centre, 48)
    calls: list[int] = []
    original = model.transformer.forward

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs["input_ids"].shape[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(model.transformer, "forward", counting)
    got = embed(texts)
    assert calls == [4]  # four distinct texts, one batch
    np.testing.assert_allclose(got, alone, atol=1e-6)
    np.testing.assert_array_equal(embed(texts[::-1]), got[::-1])
    assert calls == [4]  # nothing embedded again
    embed.add(["a text from a worker"], np.ones((1, 32)))
    np.testing.assert_array_equal(embed(["a text from a worker"]), np.ones((1, 32)))
    assert embed([]).shape == (0, 32)
