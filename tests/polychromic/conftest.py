"""Fixtures of the polychromic tests: a made-up tweet corpus, a tokenizer trained on it, a tiny GPT-2."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pytest

TOPICS = ("Obama", "Sunday", "Apple", "Netflix", "Friday", "Tesla")
WORDS = ("today", "really", "again", "with friends", "at work", "this week", "for sure", "honestly", "tonight",
         "so far", "right now", "at home")
TEMPLATES = {
    "positive": ("I love {t} so much {w}", "{t} made my day {w}, amazing", "best {t} ever {w} :)",
                 "so happy about {t} {w}"),
    "negative": ("I hate {t} {w}, awful", "{t} ruined everything {w}", "worst {t} ever {w} :(",
                 "so angry at {t} {w}"),
    "neutral": ("{t} is on at 5 {w}", "news about {t} {w}", "{t} announced something {w}",
                "watching {t} {w}"),
}


def made_up_tweets(n: int = 360, seed: int = 0) -> list[tuple[str, str, str]]:
    """(id, label, text) rows: templates per sentiment, filled with a topic and filler words."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        label = ("negative", "neutral", "positive")[i % 3]
        template = TEMPLATES[label][int(rng.integers(4))]
        text = template.format(t=TOPICS[int(rng.integers(len(TOPICS)))], w=WORDS[int(rng.integers(len(WORDS)))])
        rows.append((str(i), label, text))
    return rows


@pytest.fixture(scope="session")
def tweets_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tweets") / "train.csv"
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "label", "text", "source"])
        writer.writerows([(*row, "made-up") for row in made_up_tweets()])
    return path


@pytest.fixture(scope="session")
def tiny_lm() -> tuple[Any, Any]:
    """(model, codec): a BPE tokenizer trained on the made-up tweets and a 1-layer, 32-wide GPT-2."""
    pytest.importorskip("transformers")
    pytest.importorskip("tokenizers")
    from runcard.recipes.polychromic.lm import Codec, build_model, train_tokenizer

    texts = [text for _, _, text in made_up_tweets()]
    codec = Codec(train_tokenizer(texts, ("negative", "neutral", "positive"), vocab_size=400, min_frequency=2))
    model = build_model(codec.vocab_size, n_layer=1, n_embd=32, n_head=2, n_positions=48, pad=codec.pad,
                        eos=codec.eos, seed=0)
    return model, codec
