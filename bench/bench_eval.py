"""Benchmark: `runcard.evaluate` (with CIs) against scikit-learn and against a floor, one process.

    python bench/bench_eval.py [--rows 1000000] [--classes 10] [--repeat 5] [--accuracy 0.7]

Three contenders score the same synthetic predictions:

- runcard: ``runcard.evaluate(y, p, ci=True)`` (1,000 bootstrap resamples, every metric);
- scikit-learn: the calls that give the same numbers (classification_report, confusion_matrix,
  f1_score macro/micro/weighted, accuracy, balanced accuracy, Cohen's kappa, MCC, log_loss,
  top_k_accuracy_score for k=2 and 3) plus numpy ECE, MCE, adaptive ECE and Brier score; it
  computes no confidence intervals;
- floor: one argmax and one bincount pass (the least any evaluation must do).

A second case scores many classes on few rows (``--many-classes 1000 --many-rows 2000``): the
bootstrap's memory must not grow with K^2 x n_boot. Goal: under 10 s and under 500 MB peak for
`runcard.evaluate` with CIs and for the paired comparison of two such runs.

It checks that runcard and scikit-learn agree before printing times (median of ``--repeat``; runcard and the
floor are called in turn, round after round, so a burst of load elsewhere on the machine slows both),
the ratios, and peak traced memory (tracemalloc, which sees numpy's allocations). Goal:
scikit-learn / runcard >= 10 and runcard / floor <= 3 at accuracy 0.7, <= 4 at 0.3 (issue 18).
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn import metrics as skm

import runcard


def make_data(rows: int, classes: int, accuracy: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Labels uniform over classes; logits with a margin on the true class tuned near ``accuracy``."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, rows)
    logits = rng.normal(size=(rows, classes))
    margin = _margin_for(accuracy, classes, rng)
    logits[np.arange(rows), y] += margin
    logits -= logits.max(axis=1, keepdims=True)
    probs = np.exp(logits)
    probs /= probs.sum(axis=1, keepdims=True)
    return y, probs


def _margin_for(accuracy: float, classes: int, rng: np.random.Generator) -> float:
    sample = rng.normal(size=(20_000, classes))
    lo, hi = 0.0, 10.0
    for _ in range(40):
        mid = (lo + hi) / 2
        shifted = sample.copy()
        shifted[:, 0] += mid
        if (shifted.argmax(axis=1) == 0).mean() < accuracy:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def sklearn_suite(y: np.ndarray, p: np.ndarray, bins: int = 15) -> dict[str, Any]:
    """The scikit-learn (and numpy) calls that reproduce runcard's numbers."""
    labels = np.arange(p.shape[1])
    pred = p.argmax(axis=1)
    out: dict[str, Any] = {
        "report": skm.classification_report(y, pred, labels=labels, output_dict=True, zero_division=0),
        "confusion_matrix": skm.confusion_matrix(y, pred, labels=labels),
        "accuracy": skm.accuracy_score(y, pred),
        "macro_f1": skm.f1_score(y, pred, labels=labels, average="macro", zero_division=0),
        "micro_f1": skm.f1_score(y, pred, labels=labels, average="micro", zero_division=0),
        "weighted_f1": skm.f1_score(y, pred, labels=labels, average="weighted", zero_division=0),
        "balanced_accuracy": skm.balanced_accuracy_score(y, pred),
        "cohen_kappa": skm.cohen_kappa_score(y, pred, labels=labels),
        "mcc": skm.matthews_corrcoef(y, pred),
        "nll": skm.log_loss(y, p, labels=labels),
        "top2": skm.top_k_accuracy_score(y, p, k=2, labels=labels),
        "top3": skm.top_k_accuracy_score(y, p, k=3, labels=labels),
    }
    conf = p.max(axis=1)
    correct = (pred == y).astype(np.float64)
    onehot = np.zeros_like(p)
    onehot[np.arange(len(y)), y] = 1.0
    out["brier"] = float(((p - onehot) ** 2).sum(axis=1).mean())
    gaps = []
    for i in range(bins):
        lo, hi = i / bins, (i + 1) / bins
        mask = (conf > lo) & (conf <= hi) if i else (conf <= hi)
        if mask.any():
            gaps.append((mask.sum(), abs(correct[mask].mean() - conf[mask].mean())))
    out["ece"] = sum(n * g for n, g in gaps) / len(y)
    out["mce"] = max(g for _, g in gaps)
    order = np.argsort(conf, kind="stable")
    out["adaptive_ece"] = sum(
        len(idx) * abs(correct[idx].mean() - conf[idx].mean()) for idx in np.array_split(order, bins) if len(idx)
    ) / len(y)
    return out


def floor(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """One argmax and one bincount: the least any evaluation must do."""
    k = p.shape[1]
    return np.bincount(y * k + p.argmax(axis=1), minlength=k * k)


def check_agreement(ev: runcard.Evaluation, sk: dict[str, Any]) -> None:
    """Stop the benchmark if the two sides do not compute the same numbers."""
    d = ev.to_dict()
    assert np.array_equal(np.array(d["confusion_matrix"]), sk["confusion_matrix"])
    pairs = [(d[k], sk[k]) for k in ("accuracy", "macro_f1", "micro_f1", "weighted_f1", "balanced_accuracy",
                                     "cohen_kappa", "mcc", "nll", "brier", "ece", "mce", "adaptive_ece")]
    pairs += [(d["top_k_accuracy"]["2"], sk["top2"]), (d["top_k_accuracy"]["3"], sk["top3"])]
    for name, entry in d["per_class"].items():
        ref = sk["report"][name]
        pairs += [(entry["precision"], ref["precision"]), (entry["recall"], ref["recall"]),
                  (entry["f1"], ref["f1-score"])]
    for ours, theirs in pairs:
        assert abs(ours - theirs) <= 1e-9 * max(1.0, abs(theirs)), (ours, theirs)


def measure(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Median wall seconds over ``repeat`` calls, and peak traced MiB of one more call."""
    result = fn()  # warm-up
    times = [_seconds(fn) for _ in range(repeat)]
    return statistics.median(times), _peak_mib(fn), result


def measure_alternately(fns: list[Callable[[], Any]], repeat: int) -> list[tuple[float, float, Any]]:
    """`measure` of several contenders called in turn, round after round, so that a burst of load from another
    process on the machine slows all of them, not the one that happened to be running."""
    results = [fn() for fn in fns]  # warm-up
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, spent in zip(fns, times, strict=True):
            spent.append(_seconds(fn))
    return [(statistics.median(spent), _peak_mib(fn), result) for fn, spent, result in zip(fns, times, results,
                                                                                              strict=True)]


def _seconds(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _peak_mib(fn: Callable[[], Any]) -> float:
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--accuracy", type=float, default=0.7, help="approximate accuracy of the synthetic model")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--many-classes", type=int, default=1000, help="classes of the many-class case (0: skip)")
    parser.add_argument("--many-rows", type=int, default=2000, help="rows of the many-class case")
    args = parser.parse_args()

    y, p = make_data(args.rows, args.classes, args.accuracy, args.seed)
    input_mib = p.nbytes / 2**20
    (t_rc, m_rc, ev), (t_fl, m_fl, _) = measure_alternately(
        [lambda: runcard.evaluate(y, p, ci=True, n_boot=1000, seed=0), lambda: floor(y, p)], args.repeat)
    t_sk, m_sk, sk = measure(lambda: sklearn_suite(y, p), args.repeat)
    check_agreement(ev, sk)

    print(f"rows={args.rows:,} classes={args.classes} accuracy={ev.accuracy:.3f} input={input_mib:.0f} MiB "
          f"repeat={args.repeat} (median wall time; peak = tracemalloc peak of one call)")
    print(f"{'contender':<34}{'seconds':>10}{'peak MiB':>10}")
    print(f"{'runcard.evaluate (CIs, n_boot=1000)':<34}{t_rc:>10.3f}{m_rc:>10.1f}")
    print(f"{'scikit-learn + numpy (no CIs)':<34}{t_sk:>10.3f}{m_sk:>10.1f}")
    print(f"{'floor: argmax + bincount':<34}{t_fl:>10.3f}{m_fl:>10.1f}")
    print(f"speed-up over scikit-learn: {t_sk / t_rc:.1f}x (goal >= 10x)")
    goal = 3.0 if args.accuracy >= 0.5 else 4.0
    print(f"runcard / floor: {t_rc / t_fl:.2f}x (goal <= {goal:g}x at accuracy {args.accuracy:g})")
    print("numbers agree with scikit-learn to 1e-9: yes")
    if args.many_classes:
        many_classes(args.many_rows, args.many_classes, args.seed)


def many_classes(rows: int, classes: int, seed: int) -> None:
    """Many classes, few rows: time and peak of evaluate (CIs) and of a paired comparison."""
    from runcard.compare import compare_tables
    from runcard.table import PredictionTable

    y, p = make_data(rows, classes, 0.5, seed)
    q = p.copy()
    q[: rows // 10] = q[: rows // 10][::-1]  # a second model that differs on a tenth of the rows
    names = tuple(f"c{i}" for i in range(classes))
    a, b = (PredictionTable(classes=names, y_true=y, probs=m, source=s) for m, s in ((p, "a"), (q, "b")))
    t_ev, m_ev, ev = measure(lambda: runcard.evaluate(y, p, ci=True, n_boot=1000, seed=0), 1)
    t_cmp, m_cmp, _ = measure(lambda: compare_tables(a, b, n_boot=1000, seed=0), 1)
    t_sk, m_sk, sk = measure(lambda: sklearn_suite(y, p), 1)
    check_agreement(ev, sk)
    print(f"\nmany classes: rows={rows:,} classes={classes:,} input={p.nbytes / 2**20:.0f} MiB per model")
    print(f"{'contender':<34}{'seconds':>10}{'peak MiB':>10}")
    print(f"{'runcard.evaluate (CIs, n_boot=1000)':<34}{t_ev:>10.3f}{m_ev:>10.1f}")
    print(f"{'runcard paired comparison':<34}{t_cmp:>10.3f}{m_cmp:>10.1f}")
    print(f"{'scikit-learn + numpy (no CIs)':<34}{t_sk:>10.3f}{m_sk:>10.1f}")
    worst_t, worst_m = max(t_ev, t_cmp), max(m_ev, m_cmp)
    print(f"goal < 10 s and < 500 MiB: {'met' if worst_t < 10 and worst_m < 500 else 'NOT met'} "
          f"({worst_t:.2f} s, {worst_m:.0f} MiB)")


if __name__ == "__main__":
    main()
