"""The checker's rules one by one, the threshold choice, and the checker over real classifiers."""

from __future__ import annotations

import numpy as np
import pytest

from runcard.recipes.polychromic.checker import (
    Checker,
    fit_classifier,
    is_novel,
    length_ok,
    mentions_topic,
    ngram_index,
    sentiment_ok,
    threshold_for_rate,
    unique_enough,
    words,
)


def test_words_lowercase_and_drop_marks() -> None:
    assert words("Can't WAIT for #Sunday, @bob!") == ["can't", "wait", "for", "sunday", "bob"]


@pytest.mark.parametrize(("n", "ok"), [(3, False), (4, True), (10, True), (11, False)])
def test_length_bounds_are_inclusive(n: int, ok: bool) -> None:
    assert length_ok(n, 4, 10) is ok


@pytest.mark.parametrize(("text", "ok"), [
    ("going to the Sunday market", True),
    ("so tired #sunday", True),
    ("SUNDAY again", True),
    ("Sundays are long", False),  # a different word
    ("the sundaymarket", False),
    ("nothing here", False),
])
def test_mentions_topic_as_a_whole_word(text: str, ok: bool) -> None:
    assert mentions_topic(text, "Sunday") is ok


def test_mentions_topic_escapes_the_topic() -> None:
    assert not mentions_topic("c plus plus", "C++")
    assert mentions_topic("I code in C++ daily", "C++")
    assert not mentions_topic("anything", "")


def test_novelty_rejects_a_copied_six_gram_only() -> None:
    index = ngram_index(["the quick brown fox jumps over the lazy dog"], 6)
    assert not is_novel(words("Wow the quick brown fox jumps over me"), index, 6)  # 6 words copied
    assert is_novel(words("the quick brown fox jumps high"), index, 6)  # 5 copied, then different
    assert is_novel(words("short"), index, 6)


@pytest.mark.parametrize(("tokens", "ok"), [
    (["a", "b", "c", "d"], True),
    (["a", "a", "b", "b"], True),  # exactly half
    (["a", "a", "a", "a", "b"], False),
    ([], False),
])
def test_unique_enough(tokens: list[str], ok: bool) -> None:
    assert unique_enough(tokens, 0.5) is ok


def test_sentiment_threshold_is_strict() -> None:
    assert sentiment_ok(0.61, 0.6) and not sentiment_ok(0.6, 0.6)


def test_threshold_hits_the_rate_among_samples_passing_the_other_rules() -> None:
    rng = np.random.default_rng(0)
    prob = rng.random(1000)
    other = rng.random(1000) < 0.6
    t = threshold_for_rate(prob, other, 0.15)
    assert np.mean(other & (prob > t)) == pytest.approx(0.15, abs=1e-9)


def test_threshold_is_zero_when_the_other_rules_pass_too_rarely() -> None:
    prob = np.linspace(0.1, 0.9, 100)
    other = np.zeros(100, dtype=bool)
    other[:5] = True
    assert threshold_for_rate(prob, other, 0.15) == 0.0


TWEETS = (["I love Sunday so much, best day ever"] * 20 + ["I hate Sunday, awful and boring"] * 20
          + ["Sunday is the seventh day of the week"] * 20)
LABELS = np.repeat([2, 0, 1], 20)


@pytest.fixture(scope="module")
def checker() -> Checker:
    pytest.importorskip("sklearn")
    a = fit_classifier(TWEETS, LABELS, kind="word", n_features=2**12, C=4.0, seed=0)
    b = fit_classifier(TWEETS, LABELS, kind="char", n_features=2**12, C=4.0, seed=0)
    return Checker(3, 12, 6, 0.5, ngram_index(TWEETS, 6), a, b, ("negative", "neutral", "positive"))


def test_checker_applies_every_rule(checker: Checker) -> None:
    texts = ["love love Sunday, the best", "Sunday", "I love Sunday so much, best day ever", "love this Monday a lot"]
    v = checker.judge(texts, ["positive"] * 4, ["Sunday"] * 4)
    assert v.length.tolist() == [True, False, True, True]
    assert v.topic.tolist() == [True, True, True, False]
    assert v.novel.tolist() == [True, True, False, True]
    assert v.unique.tolist() == [True, True, True, True]
    assert v.passed.tolist() == [True, False, False, False]  # thresholds are 0 before calibration
    assert v.prob_a[0] > 0.5 and v.prob_b[0] > 0.4


def test_calibration_sets_both_thresholds(checker: Checker) -> None:
    texts = ["I love Sunday so much", "love Sunday best day ever", "Sunday made my day", "Sunday is the seventh day",
             "I hate Sunday", "awful Sunday boring", "hate Sunday so much", "Sunday of the week"]
    v = checker.judge(texts, ["positive"] * 8, ["Sunday"] * 8)
    assert len(set(np.round(v.prob_a, 12))) == 8 and len(set(np.round(v.prob_b, 12))) == 8  # no ties
    calibrated = checker.calibrated(v, 0.25)
    after = calibrated.judge(texts, ["positive"] * 8, ["Sunday"] * 8)
    assert after.passed.mean() == pytest.approx(0.25)
    assert calibrated.threshold_a > 0 and calibrated.threshold_b > 0
    assert after.rates()["passed_ab"] <= after.rates()["passed"]
