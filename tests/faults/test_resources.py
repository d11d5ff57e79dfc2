"""Memory bounded in the class count: the bootstrap holds chunks of resampled cells, never n_boot x K x K counts.
(The time of this case is measured in bench/bench_eval.py, not asserted here.)"""

from __future__ import annotations

import tracemalloc

import numpy as np

from runcard import evaluate
from runcard.compare import compare_tables
from runcard.table import PredictionTable

LIMIT_MIB = 500


def test_1000_classes_by_2000_rows_stay_under_500_mb() -> None:
    rng = np.random.default_rng(0)
    k, n = 1000, 2000
    y = rng.integers(0, k, n)
    probs = rng.dirichlet(np.full(k, 0.1), n)
    probs[np.arange(n), y] += 0.02
    probs /= probs.sum(axis=1, keepdims=True)
    other = probs.copy()
    other[:200] = other[:200][::-1]
    names = tuple(f"c{i}" for i in range(k))
    a = PredictionTable(classes=names, y_true=y, probs=probs, source="a")
    b = PredictionTable(classes=names, y_true=y, probs=other, source="b")
    tracemalloc.start()
    try:
        ev = evaluate(y, probs, ci=True, n_boot=1000, seed=0)
        _, peak_eval = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        comparison = compare_tables(a, b, n_boot=1000, seed=0)
        _, peak_compare = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak_eval / 2**20 < LIMIT_MIB and peak_compare / 2**20 < LIMIT_MIB, (peak_eval, peak_compare)
    lo, hi = ev.ci95["accuracy"]
    assert lo <= ev.accuracy <= hi and hi - lo > 0  # the intervals are real, not skipped
    assert comparison.ci95["accuracy"][0] <= comparison.difference["accuracy"] <= comparison.ci95["accuracy"][1]
