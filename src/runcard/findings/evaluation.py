"""Rules over one evaluation (one run, one split). Each states its threshold and why.

Thresholds are tests against what sampling noise alone produces at the data size, with the
null's figure in the evidence, wherever such a null exists.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from runcard.evaluate import Evaluation
from runcard.findings.finding import Finding
from runcard.stats import binomial_cdf, binomial_sf, normal_cdf, normal_ppf

#: majority_collapse: share of predictions on one class that counts as collapse.
COLLAPSE_SHARE = 0.9
#: minority_collapse: a class F1 below this fraction of macro-F1.
MINORITY_RATIO = 0.5
#: confusable_pair: rows in the pair needed before "no better than chance" is a claim with power.
PAIR_MIN_ROWS = 30
#: leakage: accuracy at or above this on a task that is not trivially easy, and above the null's beyond noise.
NEAR_PERFECT = 0.99
NEAR_PERFECT_NULL = 0.98
#: miscalibrated: resamples of the calibrated null, and the smallest ECE worth reporting.
NULL_DRAWS = 2000
MIN_ECE = 0.01


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


#: majority_collapse and confusable_pair claim "barely better than a baseline": an improvement of less than a
#: fifth of the way from the baseline to perfect (Cohen's kappa 0.2, the edge of "slight" agreement).
MARGIN = 0.2


def majority_collapse(ev: Evaluation, split: str, run: str = "") -> list[Finding]:
    """Predictions concentrated on one class (a fact: a predicted-class share >= 0.9 for a class whose true
    share is below 0.9), else a test: accuracy is below the majority rate plus a fifth of the way to 1 beyond
    noise (one-sided binomial test of H0: accuracy >= majority + 0.2 (1 - majority), on 20 rows or more)."""
    predicted = np.asarray(ev.per_class["predicted"], dtype=float)
    support = np.asarray(ev.per_class["support"], dtype=float)
    top = int(np.argmax(predicted))
    pred_share, true_share = predicted[top] / ev.n, support[top] / ev.n
    majority = int(np.argmax(support))
    majority_rate = support[majority] / ev.n
    correct = round(ev.accuracy * ev.n)
    bar = majority_rate + MARGIN * (1 - majority_rate)
    evidence: dict[str, Any] = {
        "split": split, "n": ev.n, "top_predicted_class": _name(ev, top), "predicted_share": pred_share,
        "true_share_of_that_class": true_share, "accuracy": ev.accuracy, "majority_class": _name(ev, majority),
        "majority_rate": majority_rate, "null_accuracy": bar, "margin": MARGIN,
    }
    advice = ("The model is not using its inputs. Check that labels reach the loss (class order, label mapping), "
              "that the learning rate is not zero or huge, and that the checkpoint evaluated is the trained one; "
              "with class imbalance, try class weights or resampling.")
    runs = (run,) if run else ()
    if pred_share >= COLLAPSE_SHARE and true_share < COLLAPSE_SHARE:
        severity = "error" if pred_share >= 0.99 else "warning"
        title = f"{split}: {pred_share:.1%} of predictions are {_name(ev, top)!r} (true share {true_share:.1%})"
        return [Finding("majority_collapse", severity, title, evidence, advice, runs, (split,), (_name(ev, top),),
                        impact=pred_share - true_share)]
    if ev.n < 20 or len(ev.classes) < 2 or majority_rate >= 1.0:
        return []
    p_value = float(binomial_cdf(correct, ev.n, bar))
    title = (f"{split}: accuracy {ev.accuracy:.4f} barely beats always predicting {_name(ev, majority)!r} "
             f"({majority_rate:.4f}): below {bar:.4f}, a fifth of the way from it to 1, "
             f"beyond noise (p = {p_value:.3g})")
    return [Finding("majority_collapse", "warning", title, evidence, advice, runs, (split,), (_name(ev, majority),),
                    impact=bar - ev.accuracy, p_value=p_value, eligible=bool(ev.accuracy < bar))]


def minority_collapse(ev: Evaluation, split: str, run: str = "", ratio: float = MINORITY_RATIO) -> list[Finding]:
    """A class whose F1 is below ``ratio`` x macro-F1 (default half) beyond noise: one test per class with
    examples, of H0: F1 >= ratio x macro-F1, one-sided, the class's F1 standard error read off its bootstrap CI
    (normal approximation; macro-F1 taken as fixed), never below the standard error of a proportion on the
    class's rows (Agresti-Coull), which the cell bootstrap cannot give a class with no true positive. Without a
    CI the cut alone decides (a fact, said so)."""
    f1 = np.asarray(ev.per_class["f1"])
    support = np.asarray(ev.per_class["support"])
    out = []
    z = _z(ev)
    for i in np.flatnonzero(support > 0):
        ci = None if ev.per_class_f1_ci95 is None else [float(v) for v in ev.per_class_f1_ci95[i]]
        bar = ratio * ev.macro_f1
        p_value = None
        if ci is not None:
            # the cell bootstrap cannot move a count off zero (a class with no true positive gets F1 CI [0, 0]):
            # the standard error is at least that of a proportion on the class's rows (Agresti-Coull)
            shrunk = (f1[i] * support[i] + 2) / (support[i] + 4)
            se = max((ci[1] - ci[0]) / (2 * z), float(np.sqrt(shrunk * (1 - shrunk) / (support[i] + 4))))
            p_value = float(normal_cdf((f1[i] - bar) / se))
        elif not f1[i] < bar:
            continue
        out.append(Finding(
            "minority_collapse", "warning",
            f"{split}: class {_name(ev, i)!r} has F1 {f1[i]:.3f}, under {ratio:.0%} of macro-F1 {ev.macro_f1:.3f}"
            + ("" if p_value is None else f" beyond noise (p = {p_value:.3g})"),
            {"split": split, "class": _name(ev, i), "f1": float(f1[i]), "f1_ci95": ci, "macro_f1": ev.macro_f1,
             "precision": float(ev.per_class["precision"][i]), "recall": float(ev.per_class["recall"][i]),
             "support": int(support[i]), "ratio_threshold": ratio, "tested": p_value is not None},
            "Report this class's score beside the macro average, never folded into it. Look at its confusions; "
            "more examples, class weights or a threshold tuned on validation usually help more than "
            "architecture changes.",
            runs=(run,) if run else (), splits=(split,), classes=(_name(ev, i),),
            impact=float((ev.macro_f1 - f1[i]) / len(ev.classes)), p_value=p_value, eligible=bool(f1[i] < bar),
        ))
    return out


def _z(ev: Evaluation) -> float:
    level = (ev.settings.get("ci") or {}).get("level", 0.95) if isinstance(ev.settings.get("ci"), dict) else 0.95
    return float(normal_ppf(0.5 + level / 2))


def confusable_pairs(ev: Evaluation, split: str, run: str = "") -> list[Finding]:
    """Two classes the model separates barely better than chance: one test per pair with 30 rows or more in its
    2x2 block (true and predicted class both in {a, b}) and a confusion between them.

    A model that could not tell a from b would be right in the block at the rate its predictions and the truth
    agree by chance, ``c = (r_a c_a + r_b c_b) / n`` (row and column totals). The test is one-sided binomial of
    H0: pair accuracy >= c + 0.2 (1 - c) (a kappa of at least 0.2 inside the pair); rejecting it is the finding.
    """
    cm = ev.confusion
    candidates = []
    for a, b, ab, ba in _pairs(cm):
        block = cm[np.ix_([a, b], [a, b])].astype(float)
        n = int(block.sum())
        if n < PAIR_MIN_ROWS or ab + ba == 0:
            continue
        rows, cols = block.sum(axis=1), block.sum(axis=0)
        chance = float((rows * cols).sum() / n**2)
        candidates.append((a, b, ab, ba, n, chance, int(block[0, 0] + block[1, 1])))
    if not candidates:
        return []
    n_arr = np.array([c[4] for c in candidates])
    chance_arr = np.array([c[5] for c in candidates])
    correct_arr = np.array([c[6] for c in candidates])
    bars = np.minimum(chance_arr + MARGIN * (1 - chance_arr), 1.0)
    p_values = binomial_cdf(correct_arr, n_arr, bars)
    out = []
    for (a, b, ab, ba, n, chance, correct), bar, p_value in zip(candidates, bars, p_values):
        names = (_name(ev, a), _name(ev, b))
        accuracy = correct / n
        kappa = (accuracy - chance) / (1 - chance) if chance < 1 else 0.0
        out.append(Finding(
            "confusable_pair", "warning",
            f"{split}: {names[0]!r} vs {names[1]!r} separated barely better than chance ({accuracy:.3f} vs "
            f"{chance:.3f}, kappa {kappa:.2f}; below {MARGIN} beyond noise, p = {p_value:.3g})",
            {"split": split, "classes": list(names), "rows_in_pair": n, "pair_accuracy": accuracy,
             "chance_accuracy": chance, "kappa": kappa, "null_accuracy": float(bar), "margin": MARGIN,
             "a_as_b": int(ab), "b_as_a": int(ba)},
            "The inputs may not carry this distinction (check how the labels were made); merge the classes, "
            "add features that separate them, or report them as one.",
            runs=(run,) if run else (), splits=(split,), classes=names, impact=(ab + ba) / ev.n,
            p_value=float(p_value), eligible=bool(accuracy < bar),
        ))
    return out


def _pairs(cm: np.ndarray) -> list[tuple[int, int, int, int]]:
    k = cm.shape[0]
    return [(a, b, int(cm[a, b]), int(cm[b, a])) for a in range(k) for b in range(a + 1, k)]


def near_perfect(ev: Evaluation, split: str, run: str = "") -> list[Finding]:
    """Accuracy >= 0.99 on a task where always predicting the majority class scores below 0.95, and above 0.98
    beyond noise (one-sided binomial test of H0: accuracy <= 0.98, on 50 rows or more): a result that usually
    means the answer leaked into the input or the test set."""
    support = np.asarray(ev.per_class["support"], dtype=float)
    majority_rate = float(support.max() / ev.n)
    if majority_rate >= 0.95 or ev.n < 50:
        return []
    correct = round(ev.accuracy * ev.n)
    p_value = float(binomial_sf(correct - 1, ev.n, NEAR_PERFECT_NULL))
    return [Finding(
        "leakage", "warning",
        f"{split}: accuracy {ev.accuracy:.4f} on a task whose majority rate is {majority_rate:.3f}"
        f" (above {NEAR_PERFECT_NULL} beyond noise, p = {p_value:.3g})",
        {"split": split, "accuracy": ev.accuracy, "threshold": NEAR_PERFECT, "null_accuracy": NEAR_PERFECT_NULL,
         "majority_rate": majority_rate, "n": ev.n},
        "Near-perfect scores are usually leakage: check for test texts in training data, label information "
        "in the features (ids, file names, templates), and duplicated rows across splits.",
        runs=(run,) if run else (), splits=(split,), p_value=p_value, eligible=ev.accuracy >= NEAR_PERFECT,
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


def miscalibrated(ev: Evaluation, split: str, run: str = "",
                  calibration: dict[str, Any] | None = None) -> list[Finding]:
    """A test of calibration: H0: the model is calibrated, judged by ECE against the ECEs a calibrated model
    with these confidences shows on these rows (`calibration_null`, 2,000 draws; p = the share of draws at
    least as large, +1 smoothed). The claim also needs an ECE of at least 0.01 (`MIN_ECE`).

    ``calibration``: what the temperature fitted on validation (``temperature``, ``ece_after``) does on this
    split; it goes into the evidence and the advice.
    """
    null = calibration_null(ev)
    p95 = float(np.percentile(null, 95))
    p_value = float((np.count_nonzero(null >= ev.ece) + 1) / (len(null) + 1))
    evidence: dict[str, Any] = {
        "split": split, "ece": ev.ece, "bins": ev.settings["bins"], "n": ev.n,
        "null_median_ece": float(np.median(null)), "null_p95_ece": p95, "null_draws": len(null),
        "mean_confidence": float(ev.reliability.confidence_sum.sum() / ev.n), "accuracy": ev.accuracy,
    }
    advice = "Fit temperature scaling on the validation split (runcard calibrate --val ... --apply ...)."
    if calibration:
        evidence.update(calibration)
        verb = "makes it worse:" if calibration["ece_after"] > ev.ece else "brings it from"
        advice = (f"Temperature scaling fitted on validation (T = {calibration['temperature']:.3f}) {verb} "
                  f"{ev.ece:.4f} to {calibration['ece_after']:.4f} on this split"
                  + ("; report the calibrated numbers." if calibration["ece_after"] <= ev.ece else
                     "; do not apply it, and look at how validation differs from this split."))
    over = evidence["mean_confidence"] > ev.accuracy
    return [Finding(
        "miscalibrated", "warning",
        f"{split}: ECE {ev.ece:.4f} exceeds what noise gives a calibrated model here (median {np.median(null):.4f}, "
        f"95th pct {p95:.4f}; p = {p_value:.3g}); the model is {'over' if over else 'under'}confident",
        evidence, advice, runs=(run,) if run else (), splits=(split,), impact=max(0.0, ev.ece - p95),
        p_value=p_value, eligible=ev.ece >= MIN_ECE,
    )]


def evaluation_findings(ev: Evaluation, split: str, run: str = "", calibration: dict[str, Any] | None = None, *,
                        test_calibration: bool = True) -> list[Finding]:
    """Every single-evaluation rule: facts and the candidates of the tests (the document's budget judges
    them, `runcard.findings.budget`). Calibration is tested once per task, on the split it concerns
    (``test_calibration``), and not on soft-label evaluations (their majority label is not a draw from the
    model's confidence: KL and JS to the human distributions judge them)."""
    out = [*zero_support(ev, split, run), *majority_collapse(ev, split, run), *minority_collapse(ev, split, run),
           *confusable_pairs(ev, split, run), *near_perfect(ev, split, run)]
    if test_calibration and ev.soft is None:
        out += miscalibrated(ev, split, run, calibration)
    return out
