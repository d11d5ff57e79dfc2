"""Rules over one evaluation (one run, one split). Each states its threshold and why.

Thresholds are tests against what sampling noise alone produces at the data size, with the
null's figure in the evidence, wherever such a null exists.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import binomtest

from runcard.evaluate import Evaluation
from runcard.findings.model import Finding

#: majority_collapse: share of predictions on one class that counts as collapse.
COLLAPSE_SHARE = 0.9
#: minority_collapse: a class F1 below this fraction of macro-F1.
MINORITY_RATIO = 0.5
#: confusable_pair: rows in the pair needed before "no better than chance" is a claim with power.
PAIR_MIN_ROWS = 30
#: leakage: accuracy at or above this on a task that is not trivially easy.
NEAR_PERFECT = 0.99
#: miscalibrated: resamples of the calibrated null, and the smallest ECE worth reporting.
NULL_DRAWS = 2000
MIN_ECE = 0.01
ALPHA = 0.05


def _name(ev: Evaluation, i: int | np.integer) -> str:
    return str(ev.classes[int(i)])


def zero_support(ev: Evaluation, split: str, run: str = "") -> list[Finding]:
    """A class with no true example in the split: its recall and F1 mean nothing here.

    Threshold: support == 0 (exact; no noise involved).
    """
    support = np.asarray(ev.per_class["support"])
    absent = [_name(ev, i) for i in np.flatnonzero(support == 0)]
    if not absent:
        return []
    return [Finding(
        "zero_support", "warning", f"{split}: {len(absent)} class(es) have no examples: {', '.join(absent)}",
        {"classes": absent, "n": ev.n, "split": split},
        "Macro averages still count these classes as 0. Re-split with stratification, or drop the "
        "classes from the label set if they cannot occur.",
        runs=(run,) if run else (), splits=(split,), classes=tuple(absent),
    )]


def majority_collapse(ev: Evaluation, split: str, run: str = "") -> list[Finding]:
    """Predictions concentrated on one class, or accuracy no better than always predicting the majority.

    Thresholds: a predicted-class share >= 0.9 for a class whose true share is below 0.9; or a
    one-sided binomial test that cannot reject "accuracy <= majority-class rate" at 5 %.
    """
    predicted = np.asarray(ev.per_class["predicted"], dtype=float)
    support = np.asarray(ev.per_class["support"], dtype=float)
    top = int(np.argmax(predicted))
    pred_share, true_share = predicted[top] / ev.n, support[top] / ev.n
    majority = int(np.argmax(support))
    majority_rate = support[majority] / ev.n
    correct = round(ev.accuracy * ev.n)
    p_value = 1.0 if majority_rate >= 1.0 else float(binomtest(correct, ev.n, majority_rate, alternative="greater").pvalue)
    evidence: dict[str, Any] = {
        "split": split, "n": ev.n, "top_predicted_class": _name(ev, top), "predicted_share": pred_share,
        "true_share_of_that_class": true_share, "accuracy": ev.accuracy, "majority_class": _name(ev, majority),
        "majority_rate": majority_rate, "p_value_accuracy_above_majority": p_value,
    }
    if pred_share >= COLLAPSE_SHARE and true_share < COLLAPSE_SHARE:
        severity = "error" if pred_share >= 0.99 else "warning"
        title = f"{split}: {pred_share:.1%} of predictions are {_name(ev, top)!r} (true share {true_share:.1%})"
    elif ev.n >= 20 and p_value >= ALPHA and len(ev.classes) > 1:
        severity = "warning"
        title = (f"{split}: accuracy {ev.accuracy:.4f} is within noise of always predicting "
                 f"{_name(ev, majority)!r} ({majority_rate:.4f}; p = {p_value:.3g})")
    else:
        return []
    return [Finding(
        "majority_collapse", severity, title, evidence,
        "The model is not using its inputs. Check that labels reach the loss (class order, label mapping), "
        "that the learning rate is not zero or huge, and that the checkpoint evaluated is the trained one; "
        "with class imbalance, try class weights or resampling.",
        runs=(run,) if run else (), splits=(split,), classes=(_name(ev, top),),
    )]


def minority_collapse(ev: Evaluation, split: str, run: str = "", ratio: float = MINORITY_RATIO) -> list[Finding]:
    """A class whose F1 is below ``ratio`` x macro-F1 (default half), reported with its support and CI."""
    f1 = np.asarray(ev.per_class["f1"])
    support = np.asarray(ev.per_class["support"])
    out = []
    for i in np.flatnonzero((f1 < ratio * ev.macro_f1) & (support > 0)):
        ci = None if ev.per_class_f1_ci95 is None else [float(v) for v in ev.per_class_f1_ci95[i]]
        out.append(Finding(
            "minority_collapse", "warning",
            f"{split}: class {_name(ev, i)!r} has F1 {f1[i]:.3f}, under {ratio:.0%} of macro-F1 {ev.macro_f1:.3f}",
            {"split": split, "class": _name(ev, i), "f1": float(f1[i]), "f1_ci95": ci, "macro_f1": ev.macro_f1,
             "precision": float(ev.per_class["precision"][i]), "recall": float(ev.per_class["recall"][i]),
             "support": int(support[i]), "ratio_threshold": ratio},
            "Report this class's score beside the macro average, never folded into it. Look at its confusions; "
            "more examples, class weights or a threshold tuned on validation usually help more than "
            "architecture changes.",
            runs=(run,) if run else (), splits=(split,), classes=(_name(ev, i),),
        ))
    return out


def confusable_pairs(ev: Evaluation, split: str, run: str = "") -> list[Finding]:
    """Two classes the model separates no better than chance.

    Within the rows whose true and predicted class are both in {a, b}, a model that could not tell
    a from b would be right at the rate its predictions and the truth agree by chance,
    ``(r_a c_a + r_b c_b) / n`` (row and column totals of the 2x2 block). A one-sided binomial
    test that cannot reject that rate at 5 %, with at least 30 rows in the block, fires.
    """
    cm = ev.confusion
    out = []
    for a, b, ab, ba in [(p[0], p[1], p[2], p[3]) for p in _pairs(cm)]:
        block = cm[np.ix_([a, b], [a, b])].astype(float)
        n = int(block.sum())
        if n < PAIR_MIN_ROWS or ab + ba == 0:
            continue
        rows, cols = block.sum(axis=1), block.sum(axis=0)
        chance = float((rows * cols).sum() / n**2)
        correct = int(block[0, 0] + block[1, 1])
        p_value = float(binomtest(correct, n, chance, alternative="greater").pvalue) if chance < 1 else 1.0
        if p_value >= ALPHA:
            names = (_name(ev, a), _name(ev, b))
            out.append(Finding(
                "confusable_pair", "warning",
                f"{split}: {names[0]!r} vs {names[1]!r} separated no better than chance "
                f"({correct / n:.3f} vs {chance:.3f}; p = {p_value:.3g})",
                {"split": split, "classes": list(names), "rows_in_pair": n, "pair_accuracy": correct / n,
                 "chance_accuracy": chance, "p_value": p_value, "a_as_b": int(ab), "b_as_a": int(ba)},
                "The inputs may not carry this distinction (check how the labels were made); merge the classes, "
                "add features that separate them, or report them as one.",
                runs=(run,) if run else (), splits=(split,), classes=names,
            ))
    return out


def _pairs(cm: np.ndarray) -> list[tuple[int, int, int, int]]:
    k = cm.shape[0]
    return [(a, b, int(cm[a, b]), int(cm[b, a])) for a in range(k) for b in range(a + 1, k)]


def near_perfect(ev: Evaluation, split: str, run: str = "") -> list[Finding]:
    """Accuracy >= 0.99 on a task where always predicting the majority class scores below 0.95:
    a result that usually means the answer leaked into the input or the test set."""
    support = np.asarray(ev.per_class["support"], dtype=float)
    majority_rate = float(support.max() / ev.n)
    if ev.accuracy < NEAR_PERFECT or majority_rate >= 0.95 or ev.n < 50:
        return []
    return [Finding(
        "leakage", "warning", f"{split}: accuracy {ev.accuracy:.4f} on a task whose majority rate is {majority_rate:.3f}",
        {"split": split, "accuracy": ev.accuracy, "threshold": NEAR_PERFECT, "majority_rate": majority_rate, "n": ev.n},
        "Near-perfect scores are usually leakage: check for test texts in training data, label information "
        "in the features (ids, file names, templates), and duplicated rows across splits.",
        runs=(run,) if run else (), splits=(split,),
    )]


def calibration_null(ev: Evaluation, draws: int = NULL_DRAWS, seed: int = 0) -> np.ndarray:
    """ECEs a perfectly calibrated model with these confidences would show on this many rows.

    Consistency resampling: each bin's correct count is drawn as Binomial(n_b, mean confidence_b),
    which is slightly wider than the exact Poisson-binomial, so the null is conservative.
    """
    bins = ev.reliability
    full = bins.count > 0
    counts = bins.count[full].astype(np.int64)
    conf_sum = bins.confidence_sum[full]
    mean_conf = np.clip(conf_sum / counts, 0.0, 1.0)
    rng = np.random.default_rng(seed)
    correct = rng.binomial(counts, mean_conf, size=(draws, len(counts)))
    return np.abs(correct - conf_sum).sum(axis=1) / counts.sum()


def miscalibrated(ev: Evaluation, split: str, run: str = "", calibration: dict[str, Any] | None = None) -> list[Finding]:
    """ECE beyond the 95th percentile of the calibrated null (and above 0.01).

    ``calibration``: the result of fitting temperature scaling on validation (``temperature``,
    ``ece_after``) when a validation split exists; it goes into the evidence and the advice.
    """
    null = calibration_null(ev)
    p95 = float(np.percentile(null, 95))
    p_value = float((np.count_nonzero(null >= ev.ece) + 1) / (len(null) + 1))
    if ev.ece <= p95 or ev.ece < MIN_ECE:
        return []
    evidence: dict[str, Any] = {
        "split": split, "ece": ev.ece, "bins": ev.settings["bins"], "n": ev.n, "null_median_ece": float(np.median(null)),
        "null_p95_ece": p95, "p_value": p_value,
        "mean_confidence": float(ev.reliability.confidence_sum.sum() / ev.n), "accuracy": ev.accuracy,
    }
    advice = "Fit temperature scaling on the validation split (runcard calibrate --val ... --apply ...)."
    if calibration:
        evidence.update(calibration)
        advice = (f"Temperature scaling fitted on validation (T = {calibration['temperature']:.3f}) brings this "
                  f"split's ECE from {ev.ece:.4f} to {calibration['ece_after']:.4f}; report the calibrated numbers.")
    over = evidence["mean_confidence"] > ev.accuracy
    return [Finding(
        "miscalibrated", "warning",
        f"{split}: ECE {ev.ece:.4f} exceeds what noise gives a calibrated model here (95th pct {p95:.4f}); "
        f"the model is {'over' if over else 'under'}confident",
        evidence, advice, runs=(run,) if run else (), splits=(split,),
    )]


def evaluation_findings(ev: Evaluation, split: str, run: str = "",
                        calibration: dict[str, Any] | None = None) -> list[Finding]:
    """Every single-evaluation rule."""
    return [
        *zero_support(ev, split, run), *majority_collapse(ev, split, run), *minority_collapse(ev, split, run),
        *confusable_pairs(ev, split, run), *near_perfect(ev, split, run),
        *miscalibrated(ev, split, run, calibration),
    ]
