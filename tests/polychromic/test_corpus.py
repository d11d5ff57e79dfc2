"""Reading the tweets, finding named topics, splitting them, filing tweets under topics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from runcard.errors import InputError
from runcard.recipes.polychromic import corpus as corp


def test_candidates_are_capitalised_words_and_hashtags() -> None:
    text = "Just saw Obama at #Apple with @Tim and McDonald's, then iPhone x Obama"
    assert corp.candidates(text) == ["Just", "Obama", "Apple", "McDonald"]


def test_topics_need_every_class_and_mostly_capitalised_use() -> None:
    texts = (["Sunday was great", "Just great", "I love Obama"] * 5 + ["Sunday was awful", "Just awful"] * 5
             + ["just fine", "just ok", "just so", "just it", "just now", "Just Sunday"] * 3)
    labels = np.array([1] * 15 + [0] * 10 + [2] * 18)
    topics = corp.find_topics(texts, labels, 3, min_count=3, proper_ratio=2.0, max_topics=10)
    assert topics == ["Sunday"]  # "Just" is mostly lowercase; "Obama" is missing from two classes


def test_topics_rank_by_rarest_class() -> None:
    texts = ["A Paris", "B Paris", "C Paris", "Rome x", "Rome y"] * 2 + ["Paris", "Rome"] * 2
    labels = np.array([0, 0, 0, 0, 0] * 2 + [1, 1] * 2)
    assert corp.find_topics(texts, labels, 2, min_count=2, proper_ratio=1.0, max_topics=5) == ["Paris", "Rome"]


def test_split_topics_is_seeded_and_disjoint() -> None:
    topics = [f"T{i}" for i in range(10)]
    rl, held = corp.split_topics(topics, 3, seed=1)
    assert len(held) == 3 and not set(rl) & set(held) and sorted(rl + held) == sorted(topics)
    assert corp.split_topics(topics, 3, seed=1) == (rl, held)
    with pytest.raises(InputError, match="heldout_topics"):
        corp.split_topics(topics, 10, seed=1)


def test_tweet_topics_prefer_a_prompt_topic() -> None:
    filed = corp.tweet_topics(["Walcott and Sunday", "only Walcott", "no names here"], ["Sunday"], seed=0)
    assert filed == ["Sunday", "Walcott", ""]


def test_read_corpus_validates(tmp_path: Path) -> None:
    good = tmp_path / "t.csv"
    good.write_text("id,label,text,source\n1,positive,hi there,x\n2,negative,bad day,x\n")
    c = corp.read_corpus([good], ["negative", "neutral", "positive"])
    assert c.texts == ["hi there", "bad day"] and c.labels.tolist() == [2, 0]
    bad = tmp_path / "b.csv"
    bad.write_text("id,label,text\n1,happy,hi\n")
    with pytest.raises(InputError, match="line 2: label 'happy'"):
        corp.read_corpus([bad], ["negative", "neutral", "positive"])
    with pytest.raises(InputError, match="does not exist"):
        corp.read_corpus([tmp_path / "none.csv"], ["negative"])


def test_prompts_and_their_text() -> None:
    prompts = corp.make_prompts(["Obama"], ("negative", "positive"))
    assert [p.id for p in prompts] == ["negative/Obama", "positive/Obama"]
    assert corp.prompt_text("negative", "Obama") == "<negative> Obama <sep>"
