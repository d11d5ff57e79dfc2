"""Label mapping: source labels to task classes, with deterministic hash-parity splits.

A hash split divides one source class into two task classes by the parity of the sha256 of the
row's UTF-8 text (never Python's ``hash()``, which changes between processes): even -> the first
class, odd -> the second. Labels made this way are independent of the text's meaning, so no model
can learn them: runcard reports the accuracy ceiling this implies.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

from runcard.errors import InputError


def text_parity(text: str) -> int:
    """0 or 1: the parity of sha256(text as UTF-8), read as a big-endian integer."""
    return hashlib.sha256(text.encode("utf-8")).digest()[-1] & 1


def map_labels(source: Sequence[object], texts: Sequence[str], mapping: Mapping[str, str],
               hash_splits: Mapping[str, tuple[str, str]], *, where: str = "data.labels") -> list[str]:
    """Task class of every row; a source label with no rule is an error naming it and its row."""
    out = []
    for i, (label, text) in enumerate(zip(source, texts)):
        key = str(label)
        if key in hash_splits:
            out.append(hash_splits[key][text_parity(text)])
        elif key in mapping:
            out.append(mapping[key])
        else:
            raise InputError(f"{where}: row {i + 1} has label {key!r}, which neither map nor hash_split covers; "
                             f"mapped labels: {sorted(set(mapping) | set(hash_splits))}.")
    return out
