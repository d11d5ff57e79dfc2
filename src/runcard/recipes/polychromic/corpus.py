"""The tweet corpus, its named topics and the (sentiment, topic) prompts.

A topic is a capitalised word or hashtag that is mostly written that way (a name: "Obama",
"Sunday", "#Apple"), not a common word at the start of a sentence ("Just"), and that appears in
at least ``min_count`` tweets of every sentiment class, so every prompt has examples to learn
from. Some topics are held out: their prompts are used only in evaluation.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from runcard.errors import InputError

#: Capitalised words (CamelCase allowed) and hashtags, not inside another word or after '@'.
CANDIDATE = re.compile(r"(?<![\w@#])#?[A-Z][a-z]+(?:[A-Z][a-z]+)*(?!\w)")
#: The token between a prompt and its tweet.
SEP = "<sep>"
#: Columns a corpus file needs.
COLUMNS = ("id", "label", "text")


@dataclass(frozen=True, eq=False)
class Corpus:
    """Tweets with integer labels into ``classes`` (shape ``(n,)``)."""

    ids: list[str]
    texts: list[str]
    labels: np.ndarray
    classes: tuple[str, ...]

    @property
    def n(self) -> int:
        return len(self.texts)


@dataclass(frozen=True)
class Prompt:
    """What to write: a tweet of ``sentiment`` about ``topic``."""

    sentiment: str
    topic: str

    @property
    def id(self) -> str:
        return f"{self.sentiment}/{self.topic}"


def read_corpus(paths: list[Path], classes: list[str], limit: int | None = None) -> Corpus:
    """Rows of CSV files with ``id,label,text`` columns (other columns ignored); every label must be one
    of ``classes``; empty texts are an error."""
    ids: list[str] = []
    texts: list[str] = []
    labels: list[int] = []
    index = {c: i for i, c in enumerate(classes)}
    for path in paths:
        if not path.is_file():
            raise InputError(f"data.paths: {path} does not exist; give the SemEval-2017 Task 4A train.csv "
                             "(columns id,label,text), relative to the config's folder.")
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise InputError(f"{path}: no {missing} column(s); found {reader.fieldnames}. The file needs "
                                 "id,label,text.")
            for row_number, row in enumerate(reader, start=2):
                if limit is not None and len(texts) >= limit:
                    break
                label, text = row["label"], (row["text"] or "").strip()
                if label not in index:
                    raise InputError(f"{path}: line {row_number}: label {label!r} is not in data.classes {classes}.")
                if not text:
                    raise InputError(f"{path}: line {row_number}: empty text; remove the row.")
                ids.append(row["id"])
                texts.append(text)
                labels.append(index[label])
    if not texts:
        raise InputError(f"data.paths {[str(p) for p in paths]}: no rows read.")
    return Corpus(ids, texts, np.array(labels, dtype=np.int64), tuple(classes))


def candidates(text: str) -> list[str]:
    """Capitalised words and hashtags of ``text`` (without '#'), in order, each once."""
    return list(dict.fromkeys(m.lstrip("#") for m in CANDIDATE.findall(text)))


def find_topics(texts: list[str], labels: np.ndarray, n_classes: int, *, min_count: int, proper_ratio: float,
                max_topics: int) -> list[str]:
    """Names found in at least ``min_count`` tweets of every class, written capitalised (or as a hashtag)
    at least ``proper_ratio`` times as often as in lowercase; the ``max_topics`` most frequent in their
    rarest class (ties by name)."""
    per_class: list[Counter[str]] = [Counter() for _ in range(n_classes)]
    capitalised: Counter[str] = Counter()
    lowercase: Counter[str] = Counter()
    for text, label in zip(texts, labels.tolist()):
        found = candidates(text)
        per_class[label].update(found)
        capitalised.update(found)
        lowercase.update(w for w in set(re.findall(r"(?<![\w@#])[a-z]+(?!\w)", text)))
    names = [t for t in capitalised if capitalised[t] >= proper_ratio * lowercase[t.lower()]
             and all(c[t] >= min_count for c in per_class)]
    names.sort(key=lambda t: (-min(c[t] for c in per_class), t))
    return names[:max_topics]


def split_topics(topics: list[str], heldout: int, seed: int) -> tuple[list[str], list[str]]:
    """(RL topics, held-out topics): a seeded random ``heldout`` of them are kept for evaluation."""
    if heldout >= len(topics):
        raise InputError(f"prompts.heldout_topics = {heldout} leaves no RL topic: only {len(topics)} topics were "
                         "found; lower it, or lower prompts.min_count to find more topics.")
    order = np.random.default_rng(seed).permutation(len(topics))
    held = sorted(topics[i] for i in order[:heldout])
    return [t for t in topics if t not in held], held


def make_prompts(topics: list[str], classes: tuple[str, ...]) -> list[Prompt]:
    """Every (sentiment, topic) pair."""
    return [Prompt(c, t) for t in topics for c in classes]


def tweet_topics(texts: list[str], topics: list[str], seed: int) -> list[str]:
    """The topic each tweet is filed under for pre-training: a prompt topic it mentions when it has one,
    else one of its capitalised words (seeded choice), else "" (no topic)."""
    known = set(topics)
    rng = np.random.default_rng(seed)
    out = []
    for text in texts:
        found = candidates(text)
        preferred = [t for t in found if t in known] or found
        out.append(preferred[int(rng.integers(len(preferred)))] if preferred else "")
    return out


def prompt_text(sentiment: str, topic: str) -> str:
    """The prompt as the model reads it, before the tweet: ``<sentiment> topic <sep>``."""
    return f"<{sentiment}> {topic} {SEP}".replace("  ", " ")


def examples_by_prompt(corpus: Corpus, filed: list[str], prompts: list[Prompt]) -> dict[str, np.ndarray]:
    """Rows of the tweets filed under each prompt (its sentiment, and its topic as the pre-training topic)."""
    wanted: dict[str, list[int]] = {p.id: [] for p in prompts}
    for i, (label, topic) in enumerate(zip(corpus.labels.tolist(), filed)):
        key = f"{corpus.classes[label]}/{topic}"
        if key in wanted:
            wanted[key].append(i)
    return {k: np.array(v, dtype=np.int64) for k, v in wanted.items()}


def halves(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two disjoint seeded halves of ``range(n)``: classifier A trains on the first, B on the second."""
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[: n // 2]), np.sort(order[n // 2:])
