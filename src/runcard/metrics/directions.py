"""Which way is better for a metric, from its name: the reader of a report must never have to guess.

`direction("val/loss")` is ``"lower"``, `direction("test/macro_f1")` is ``"higher"``, and an
unknown name is ``None`` (rules that need a direction leave such metrics alone). Self-BLEU is
lower-is-better (more alike means less diverse); plain BLEU is higher-is-better.
"""

from __future__ import annotations

import re
from functools import lru_cache

LOWER = ("loss", "nll", "ece", "mce", "brier", "kl", "js", "jsd", "error", "perplexity", "ppl", "self_bleu",
         "selfbleu", "self-bleu", "rmse", "mae", "mse", "gap", "time", "seconds", "latency")
HIGHER = ("acc", "accuracy", "f1", "precision", "recall", "auc", "kappa", "mcc", "pass", "distinct", "top1",
          "top3", "top_1", "top_3", "top-1", "top-3", "bleu", "rouge", "score", "reward", "agreement", "diversity")
COUNTERS = ("epoch", "step", "global_step", "runtime", "timestamp", "n", "count", "samples", "lr", "learning_rate",
            "total_flos", "train_runtime", "train_samples_per_second", "train_steps_per_second")

def _leaf(key: str) -> str:
    return key.lower().replace(" ", "_").split("/")[-1]


@lru_cache(maxsize=4096)
def is_counter(key: str) -> bool:
    """Bookkeeping values (epoch, step, learning rate, ...) rather than results."""
    return _leaf(key) in COUNTERS


@lru_cache(maxsize=4096)
def direction(key: str) -> str | None:
    """``"higher"``, ``"lower"`` or None (unknown) for a metric name."""
    leaf = _leaf(key)
    if leaf in COUNTERS:
        return None
    if "loss" in key.lower():  # train/loss, eval_loss, loss_terms/diversity: all losses
        return "lower"
    parts = set(re.split(r"[^a-z0-9]+", leaf)) | {leaf}
    for name in ("self_bleu", "selfbleu", "self-bleu"):
        if name in leaf:
            return "lower"
    if parts & set(LOWER) or any(leaf.endswith(f"_{w}") or leaf.startswith(f"{w}_") for w in LOWER):
        return "lower"
    if parts & set(HIGHER) or any(w in leaf for w in ("accuracy", "f1", "pass@", "distinct")):
        return "higher"
    return None


def better(key: str, a: float, b: float) -> bool:
    """True when ``a`` is strictly better than ``b`` for ``key`` (unknown direction: higher)."""
    return a < b if direction(key) == "lower" else a > b
