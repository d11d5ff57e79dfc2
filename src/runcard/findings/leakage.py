"""Leakage: the same example in two splits, judged by how much it moves the score it contaminates.

Before training (`leakage`, the data audit) only the overlap is known, so it is judged by its share. After
evaluation (`leakage_in_predictions`) the score of the later split (test over val over train) is
recomputed without the shared rows: a removal that moves accuracy or macro-F1 outside its 95 % CI, or an
overlap of 10 % of the split, is an error; 1 % of the split (or 10 texts) without such a move is a
warning; less is a note, with the recomputed scores in the evidence either way.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

import numpy as np

from runcard.evaluate import Evaluation
from runcard.findings.finding import Finding
from runcard.metrics.classification import confusion_matrix, summary_scores
from runcard.table import PredictionTable

_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)
_SPACE = re.compile(r"\s+")
#: Shares of the contaminated split: an error at or above `ERROR_SHARE`, a warning at `WARNING_SHARE`.
ERROR_SHARE = 0.10
WARNING_SHARE = 0.01
WARNING_TEXTS = 10
#: Splits in the order their scores are reported: a leak between two contaminates the later one.
ORDER = ("train", "val", "validation", "dev", "test")
NORMALISATION = "NFKC, case-folded, punctuation and repeated whitespace removed"


def normalize_text(text: str) -> str:
    """Case, whitespace and punctuation folded, so near-identical texts compare equal."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return _SPACE.sub(" ", _PUNCT.sub(" ", text)).strip()


def _rank(split: str) -> int:
    base = split.split("/", 1)[0]
    return ORDER.index(base) if base in ORDER else len(ORDER)


def leakage(texts: Mapping[str, list[str]], run: str = "") -> list[Finding]:
    """The data audit: the same normalised text in two splits, before any model exists. An overlap of 1 %
    of the smaller split, or 10 texts, is an error; any other overlap a warning."""
    normalised = {split: {normalize_text(t): t for t in values if t and normalize_text(t)}
                  for split, values in texts.items()}
    out = []
    splits = sorted(normalised, key=_rank)
    for i, a in enumerate(splits):
        for b in splits[i + 1:]:
            shared = sorted(set(normalised[a]) & set(normalised[b]))
            if not shared:
                continue
            smaller = min(len(normalised[a]), len(normalised[b]))
            share = len(shared) / smaller
            severity = "error" if share >= WARNING_SHARE or len(shared) >= WARNING_TEXTS else "warning"
            out.append(Finding(
                "leakage", severity,
                f"{len(shared)} texts appear in both {a} and {b} ({share:.2%} of the smaller split)",
                {"splits": [a, b], "shared_texts": len(shared), "share_of_smaller_split": share,
                 "examples": [normalised[a][s][:120] for s in shared[:3]], "normalisation": NORMALISATION},
                "Remove the shared texts from the evaluation split (deduplicate before splitting), then re-evaluate.",
                runs=(run,) if run else (), splits=(a, b), impact=share,
            ))
    return out


def _keys(table: PredictionTable) -> tuple[np.ndarray, str] | None:
    """What identifies an example of ``table``: its normalised texts, else its ids (unless they are only row
    numbers, which every file restarts)."""
    if table.texts is not None:
        return np.array([normalize_text(str(t)) for t in table.texts], dtype=object), "normalised text"
    if table.ids is not None:
        ids = [str(i) for i in table.ids]
        if ids not in ([str(i) for i in range(len(ids))], [str(i) for i in range(1, len(ids) + 1)]):
            return np.array(ids, dtype=object), "id"
    return None


def _without(table: PredictionTable, ev: Evaluation, keep: np.ndarray) -> dict[str, dict[str, Any]]:
    """Accuracy and macro-F1 of ``table`` on the kept rows, beside the full value and its CI."""
    cm = confusion_matrix(table.y_true[keep], table.probs[keep].argmax(axis=1), table.n_classes)
    scores = summary_scores(cm) if keep.any() else {"accuracy": float("nan"), "macro_f1": float("nan")}
    out: dict[str, dict[str, Any]] = {}
    for metric in ("accuracy", "macro_f1"):
        ci = (ev.ci95 or {}).get(metric)
        without = float(scores[metric])
        moved = None if ci is None or not keep.any() else not ci[0] <= without <= ci[1]
        out[metric] = {"with": ev.scores[metric], "without": without, "ci95": None if ci is None else list(ci),
                       "change": without - ev.scores[metric], "outside_ci": moved}
    return out


def leakage_in_predictions(tables: Mapping[str, PredictionTable], evaluations: Mapping[str, Evaluation],
                           run: str = "") -> list[Finding]:
    """The same example (normalised text, else id) in two splits' predictions, judged by what removing it
    does to the contaminated split's scores (see the module docstring). On multi-task runs, each task of the
    contaminated split is rescored; the finding reports the largest move."""
    by_split: dict[str, list[str]] = {}
    for key in tables:
        by_split.setdefault(key.split("/", 1)[0], []).append(key)
    if len(by_split) < 2:
        return []  # one split shares nothing with itself
    keyed = {split: _keys(tables[keys[0]]) for split, keys in by_split.items()}
    splits = sorted((s for s in keyed if keyed[s] is not None), key=_rank)
    out = []
    for i, a in enumerate(splits):
        for b in splits[i + 1:]:
            (ka, basis_a), (kb, basis_b) = keyed[a], keyed[b]  # type: ignore[misc]
            if basis_a != basis_b:
                continue
            shared = (set(ka) - {""}) & (set(kb) - {""})
            if not shared:
                continue
            hit = np.array([k in shared for k in kb])
            share = float(hit.mean())
            rescored = {key: _without(tables[key], evaluations[key], ~hit) for key in by_split[b] if key in evaluations}
            changes = [abs(float(m["change"])) for r in rescored.values() for m in r.values()
                       if m["change"] == m["change"]]
            moved = any(m["outside_ci"] for r in rescored.values() for m in r.values())
            if moved or share >= ERROR_SHARE:
                severity = "error"
            elif share >= WARNING_SHARE or len(shared) >= WARNING_TEXTS:
                severity = "warning"
            else:
                severity = "info"
            first = tables[by_split[b][0]]
            examples = [str(first.texts[j] if first.texts is not None else first.ids[j])[:120]  # type: ignore[index]
                        for j in np.flatnonzero(hit)[:3]]
            what = basis_a if len(shared) == 1 else f"{basis_a}s"
            title = (f"{len(shared)} {what} of {b} also in {a}: {hit.sum()} of {len(hit)} {b} rows ({share:.2%})")
            if rescored:
                title += f"; removing them moves {'a' if moved else 'no'} score outside its 95 % CI"
            out.append(Finding(
                "leakage", severity, title,
                {"splits": [a, b], "contaminated_split": b, "shared": len(shared), "rows_affected": int(hit.sum()),
                 "share_of_split": share, "matched_by": basis_a, "scores_without_shared_rows": rescored,
                 "examples": examples, "normalisation": NORMALISATION if basis_a == "normalised text" else None,
                 "error_share": ERROR_SHARE, "warning_share": WARNING_SHARE},
                f"Remove the shared examples from {b} (deduplicate before splitting) and re-evaluate; "
                f"until then report {b}'s scores without them beside the full ones.",
                runs=(run,) if run else (), splits=(a, b), impact=max(changes, default=share),
            ))
    return out
