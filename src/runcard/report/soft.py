"""Card sections of soft-label runs: scores per agreement level of the humans, baselines, and
published reference figures.

Agreement bins are the terciles of the human distribution's entropy on the split itself (low
entropy = high agreement), so each bin holds a third of the items; KL and JS are the ChaosNLI
scoreboard's definitions (runcard.metrics.divergence).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from runcard.metrics.divergence import js_distance_rows, kl_rows, rel_entr
from runcard.table import PredictionTable

BIN_NAMES = ("high agreement", "medium agreement", "low agreement")


def entropy(dist: np.ndarray) -> np.ndarray:
    """Entropy of each row, in nats."""
    return -rel_entr(dist, np.ones_like(dist)).sum(axis=1)


def _scores(target: np.ndarray, probs: np.ndarray) -> dict[str, float]:
    return {"kl": float(kl_rows(target, probs).mean()), "js_distance": float(js_distance_rows(target, probs).mean()),
            "accuracy": float(np.mean(probs.argmax(1) == target.argmax(1)))}


def entropy_bins(table: PredictionTable) -> list[dict[str, Any]]:
    """Scores of one split per tercile of human entropy: high, medium and low agreement."""
    assert table.targets is not None
    h = entropy(table.targets)
    edges = np.quantile(h, [1 / 3, 2 / 3])
    which = np.searchsorted(edges, h, side="right")
    out = []
    for b, name in enumerate(BIN_NAMES):
        rows = which == b
        if not rows.any():
            continue
        out.append({"bin": name, "n": int(rows.sum()), "human_entropy_range": [float(h[rows].min()), float(h[rows].max())],
                    "human_entropy": float(h[rows].mean()), "model_entropy": float(entropy(table.probs[rows]).mean()),
                    **_scores(table.targets[rows], table.probs[rows])})
    return out


def baselines(test: PredictionTable, train: PredictionTable | None) -> list[dict[str, Any]]:
    """What no learning gives on the test items: the uniform prediction, and the mean training
    distribution predicted for every item (when the training split carries targets)."""
    assert test.targets is not None
    k = test.n_classes
    uniform = np.full_like(test.targets, 1.0 / k)
    out = [{"name": "uniform prediction (chance)", **_scores(test.targets, uniform), "accuracy": 1.0 / k,
            "note": f"computed on this run's {test.n} test items; accuracy is the expected 1/K under random tie-breaking"}]
    if train is not None and train.targets is not None:
        prior = np.broadcast_to(train.targets.mean(axis=0), test.targets.shape)
        out.append({"name": "training-set mean distribution", **_scores(test.targets, prior),
                    "note": f"the mean of the {train.n} training distributions, predicted for every test item"})
    return out


def soft_section(tables: Mapping[str, PredictionTable], references: Sequence[Mapping[str, Any]] | None) -> dict[str, Any] | None:
    """The soft-label part of a card, or None when no split carries target distributions."""
    soft = {k: t for k, t in tables.items() if t.targets is not None}
    if not soft:
        return None
    evaluated = [k for k in soft if not k.startswith("train")]
    test_key = next((k for k in evaluated if k.split("/")[0] == "test"), evaluated[-1] if evaluated else next(iter(soft)))
    test = soft[test_key]
    ours = {"name": "this run", **_scores(test.targets, test.probs),  # type: ignore[arg-type]
            "note": f"scored on its {test.n} held-out {test_key} items"}
    return {"split": test_key, "bins": {k: entropy_bins(t) for k, t in soft.items() if not k.startswith("train")},
            "comparison": [ours, *baselines(test, soft.get("train"))],
            "references": [dict(r) for r in references or []]}
