"""What "pass" means for a generated tweet: five rules, each a small pure function, and the two
sentiment classifiers they rely on.

A sample passes when (1) its word count is within bounds, (2) it mentions the topic, (3) it copies no
word n-gram (default 6) from a training tweet, (4) at least half its words are unique, and (5)
classifier A (hashed word 1-2-grams, logistic regression, trained on one half of the labelled
tweets) gives the requested sentiment a probability above a threshold. The threshold is chosen so
the supervised model passes about 15 % of the time: strict enough that pass@10 does not saturate.
Classifier B (hashed character 2-5-grams, the other half) is used only in evaluation: a policy
that learned to fool A passes A's rule far more often than B's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

#: A word: letters, digits, underscore and inner apostrophes, lowercased.
WORD = re.compile(r"\w+(?:'\w+)*")
#: Rule names, in the order of `Verdicts.rules`.
RULES = ("length", "topic", "novel", "unique", "sentiment")


def words(text: str) -> list[str]:
    """Lowercased words of ``text`` (hashtags and mentions lose their '#'/'@')."""
    return WORD.findall(text.lower())


def length_ok(n_words: int, min_words: int, max_words: int) -> bool:
    """Rule 1: the word count is within ``[min_words, max_words]``."""
    return min_words <= n_words <= max_words


def mentions_topic(text: str, topic: str) -> bool:
    """Rule 2: ``topic`` appears as a whole word (any case, '#' allowed)."""
    return bool(topic) and re.search(rf"(?<!\w)#?{re.escape(topic)}(?!\w)", text, flags=re.IGNORECASE) is not None


def ngrams(tokens: Sequence[str], n: int) -> Iterable[str]:
    """The word n-grams of ``tokens``, each joined by one space."""
    return (" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def ngram_index(texts: Iterable[str], n: int) -> frozenset[str]:
    """Every word n-gram of the training tweets."""
    return frozenset(g for text in texts for g in ngrams(words(text), n))


def is_novel(tokens: Sequence[str], index: frozenset[str], n: int) -> bool:
    """Rule 3: no word n-gram of the sample is in ``index`` (the training tweets' n-grams)."""
    return not any(g in index for g in ngrams(tokens, n))


def unique_enough(tokens: Sequence[str], min_ratio: float) -> bool:
    """Rule 4: unique words over words is at least ``min_ratio`` (an empty sample fails)."""
    return bool(tokens) and len(set(tokens)) / len(tokens) >= min_ratio


def sentiment_ok(probability: float, threshold: float) -> bool:
    """Rule 5: the classifier's probability of the requested sentiment is above ``threshold``."""
    return probability > threshold


def threshold_for_rate(probability: np.ndarray, other_rules: np.ndarray, rate: float) -> float:
    """The sentiment threshold at which ``mean(other_rules & (probability > t))`` is about ``rate``.

    The samples passing the other rules are ranked by probability; the threshold sits between the
    ``rate x total``-th highest and the next. 0 when fewer than that pass the other rules (the
    sentiment rule then cannot bring the rate down to ``rate``; every sample above 0 passes it).
    """
    eligible = np.sort(probability[other_rules])[::-1]
    wanted = round(rate * len(probability))
    if wanted >= len(eligible):
        return 0.0
    if wanted == 0:
        return float(eligible[0])
    return float((eligible[wanted - 1] + eligible[wanted]) / 2)


@dataclass(frozen=True, eq=False)
class Classifier:
    """Hashed n-grams and a logistic regression; ``proba(texts)`` is ``(B, classes)``."""

    vectorizer: Any
    model: Any
    kind: str

    def proba(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, len(self.model.classes_)))
        return self.model.predict_proba(self.vectorizer.transform(texts))


def fit_classifier(texts: list[str], labels: np.ndarray, *, kind: str, n_features: int, C: float,
                   seed: int) -> Classifier:
    """Classifier A (``kind="word"``: word 1-2-grams) or B (``"char"``: character 2-5-grams within words)."""
    from sklearn.feature_extraction.text import HashingVectorizer
    from sklearn.linear_model import LogisticRegression

    if kind == "word":
        vectorizer = HashingVectorizer(ngram_range=(1, 2), n_features=n_features, alternate_sign=False)
    else:
        vectorizer = HashingVectorizer(analyzer="char_wb", ngram_range=(2, 5), n_features=n_features,
                                       alternate_sign=False)
    model = LogisticRegression(C=C, solver="saga", tol=1e-3, max_iter=500, random_state=seed)  # lbfgs: 50x slower
    model.fit(vectorizer.transform(texts), labels)
    return Classifier(vectorizer, model, kind)


@dataclass(frozen=True, eq=False)
class Verdicts:
    """Each rule's verdict per sample (bool arrays ``(B,)``) and both classifiers' probability of the
    requested sentiment (float ``(B,)``)."""

    length: np.ndarray
    topic: np.ndarray
    novel: np.ndarray
    unique: np.ndarray
    prob_a: np.ndarray
    prob_b: np.ndarray
    threshold_a: float
    threshold_b: float

    @property
    def other_rules(self) -> np.ndarray:
        """Rules 1-4 (everything but sentiment)."""
        return self.length & self.topic & self.novel & self.unique

    @property
    def passed(self) -> np.ndarray:
        """Every rule, sentiment judged by classifier A: what training optimises."""
        return self.other_rules & (self.prob_a > self.threshold_a)

    @property
    def passed_ab(self) -> np.ndarray:
        """Every rule, sentiment judged by A and B together (evaluation only)."""
        return self.passed & (self.prob_b > self.threshold_b)

    def rates(self) -> dict[str, float]:
        """Share of samples passing each rule, and overall."""
        return {"length": float(self.length.mean()), "topic": float(self.topic.mean()),
                "novel": float(self.novel.mean()), "unique": float(self.unique.mean()),
                "sentiment_a": float((self.prob_a > self.threshold_a).mean()),
                "sentiment_b": float((self.prob_b > self.threshold_b).mean()),
                "passed": float(self.passed.mean()), "passed_ab": float(self.passed_ab.mean())}


@dataclass(frozen=True, eq=False)
class Checker:
    """The rules' settings, the training n-gram index and the two classifiers; thresholds are set by
    `calibrated` (0 until then)."""

    min_words: int
    max_words: int
    copy_ngram: int
    min_unique_ratio: float
    index: frozenset[str]
    classifier_a: Classifier
    classifier_b: Classifier
    classes: tuple[str, ...]
    threshold_a: float = 0.0
    threshold_b: float = 0.0

    def judge(self, texts: list[str], sentiments: list[str], topics: list[str]) -> Verdicts:
        """Every rule on every sample; ``sentiments[i]`` and ``topics[i]`` are sample i's prompt."""
        tokens = [words(t) for t in texts]
        column = np.array([self.classes.index(s) for s in sentiments], dtype=np.int64)
        rows = np.arange(len(texts))
        prob_a = self.classifier_a.proba(texts)[rows, column] if texts else np.zeros(0)
        prob_b = self.classifier_b.proba(texts)[rows, column] if texts else np.zeros(0)
        return Verdicts(
            length=np.array([length_ok(len(w), self.min_words, self.max_words) for w in tokens], dtype=bool),
            topic=np.array([mentions_topic(t, topic) for t, topic in zip(texts, topics)], dtype=bool),
            novel=np.array([is_novel(w, self.index, self.copy_ngram) for w in tokens], dtype=bool),
            unique=np.array([unique_enough(w, self.min_unique_ratio) for w in tokens], dtype=bool),
            prob_a=prob_a, prob_b=prob_b, threshold_a=self.threshold_a, threshold_b=self.threshold_b,
        )

    def calibrated(self, verdicts: Verdicts, rate: float) -> Checker:
        """A copy with thresholds chosen on ``verdicts`` (the supervised model's samples): A's so that about
        ``rate`` of the samples pass every rule; B's so that B alone would pass as many."""
        other = verdicts.other_rules
        return replace(self, threshold_a=threshold_for_rate(verdicts.prob_a, other, rate),
                       threshold_b=threshold_for_rate(verdicts.prob_b, other, rate))
