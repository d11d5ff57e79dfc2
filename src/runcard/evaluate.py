"""`evaluate`: the whole metric suite on one prediction table, with confidence intervals.

The matrix of probabilities is read once (`runcard.metrics.row_scan`): in cache-sized blocks, that
pass validates it and finds each row's argmax, confidence, true-class probability and rank, and
the sum of squares (Brier); the binnings and log loss work on those length-N vectors. Every
count-based score comes from the one confusion matrix; the confidence intervals resample that
matrix's cells (`runcard.stats`), so their cost does not grow with the row count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from runcard._version import __version__
from runcard.checks import as_matrix, check_probabilities, encode_labels
from runcard.display import table, with_ci
from runcard.errors import InputError, ProbabilityError
from runcard.eval_settings import EvalSettings
from runcard.metrics.calibration_error import (
    Bins,
    calibration_bins,
    check_bins,
)
from runcard.metrics.classification import (
    cell_marginals,
    confusion_matrix,
    most_confused_pairs,
    per_class_from,
    per_class_scores,
    summary_from,
    summary_scores,
    undefined_scores,
)
from runcard.metrics.divergence import js_divergence_rows, kl_rows
from runcard.metrics.probabilistic import (
    EPS,
    brier_from_square_sum,
    log_loss_from_true_prob,
    row_statistics,
    top_k_from_rank,
)
from runcard.stats import LEVEL, percentile_interval, resample_chunks
from runcard.table import PredictionTable, check_targets

#: Scores that get a bootstrap interval under ``ci95``.
CI_KEYS: tuple[str, ...] = (
    "accuracy",
    "balanced_accuracy",
    "macro_precision",
    "macro_recall",
    "macro_f1",
    "weighted_f1",
    "cohen_kappa",
    "mcc",
)
#: Top-k accuracies reported when there are more than k classes.
TOP_KS: tuple[int, ...] = (2, 3)
#: Bootstrap confusion matrices held at once are capped at this many cells (peak memory does not grow with n_boot).
BOOT_CELLS = 4_000_000
#: Scores flattened into ``<split>/<name>`` metrics (`Evaluation.named_scores`).
NAMED_KEYS = ("accuracy", "balanced_accuracy", "macro_f1", "weighted_f1", "cohen_kappa", "mcc", "nll",
              "brier", "ece", "adaptive_ece")


@dataclass(frozen=True, eq=False)
class Evaluation:
    """Every metric of one prediction table. `to_dict` gives the documented JSON (docs/evaluation.md)."""

    n: int
    classes: tuple[Any, ...]
    confusion: np.ndarray
    scores: dict[str, float]
    per_class: dict[str, np.ndarray]
    top_k: dict[int, float]
    nll: float
    brier: float
    reliability: Bins
    adaptive_reliability: Bins
    ci95: dict[str, tuple[float, float]] | None
    per_class_f1_ci95: np.ndarray | None
    soft: dict[str, float] | None
    warnings: tuple[dict[str, Any], ...]
    settings: dict[str, Any]

    @property
    def accuracy(self) -> float:
        return self.scores["accuracy"]

    @property
    def macro_f1(self) -> float:
        return self.scores["macro_f1"]

    @property
    def ece(self) -> float:
        return self.reliability.ece()

    @property
    def mce(self) -> float:
        return self.reliability.mce()

    @property
    def adaptive_ece(self) -> float:
        return self.adaptive_reliability.ece()

    def most_confused(self, top: int = 10) -> list[dict[str, Any]]:
        """Class pairs ranked by confusions in both directions."""
        return [
            {"a": _plain(self.classes[a]), "b": _plain(self.classes[b]), "a_as_b": ab, "b_as_a": ba, "total": ab + ba}
            for a, b, ab, ba in most_confused_pairs(self.confusion, top)
        ]

    def __repr__(self) -> str:
        ci = self.ci95 or {}
        return (f"Evaluation(n={self.n:,}, classes={len(self.classes)}, "
                f"accuracy={with_ci(self.accuracy, ci.get('accuracy'))}, "
                f"macro_f1={with_ci(self.macro_f1, ci.get('macro_f1'))}, ece={self.ece:.4f}, nll={self.nll:.4f})")

    def _repr_html_(self) -> str:
        ci = self.ci95 or {}
        head = table(["metric", "value", "95 % CI"],
                     [[k, self.scores[k] if k in self.scores else getattr(self, k), with_ci(None, None)
                       if k not in ci else f"[{ci[k][0]:.4f}, {ci[k][1]:.4f}]"]
                      for k in ("accuracy", "macro_f1", "balanced_accuracy", "mcc", "nll", "brier", "ece")],
                     caption=f"Evaluation of {self.n:,} rows, {len(self.classes)} classes "
                             f"({self.settings['signature']})")
        per = table(["class", "precision", "recall", "F1", "support"],
                    [[str(c), float(self.per_class["precision"][i]), float(self.per_class["recall"][i]),
                      float(self.per_class["f1"][i]), int(self.per_class["support"][i])]
                     for i, c in enumerate(self.classes)], caption="Per class")
        return head + per

    def named_scores(self, prefix: str = "") -> dict[str, float]:
        """The scores documents rank and compare, as ``{prefix + name: value}``: the headline scores, the
        calibration errors, ``top<k>_accuracy`` and the soft-label scores."""
        out = {}
        for key in NAMED_KEYS:
            value = self.scores[key] if key in self.scores else getattr(self, key)
            out[f"{prefix}{key}"] = float(value)
        out.update({f"{prefix}top{k}_accuracy": float(v) for k, v in self.top_k.items()})
        out.update({f"{prefix}{k}": float(v) for k, v in (self.soft or {}).items()})
        return out

    def to_record(self) -> dict[str, Any]:
        """Every field, losslessly, as JSON values (NaN kept as NaN): what the store keeps (`from_record`)."""
        return {
            "n": self.n, "classes": [_plain(c) for c in self.classes], "confusion": self.confusion.tolist(),
            "scores": self.scores, "per_class": {k: v.tolist() for k, v in self.per_class.items()},
            "top_k": {str(k): v for k, v in self.top_k.items()}, "nll": self.nll, "brier": self.brier,
            "reliability": _bins_record(self.reliability),
            "adaptive_reliability": _bins_record(self.adaptive_reliability),
            "ci95": None if self.ci95 is None else {k: list(v) for k, v in self.ci95.items()},
            "per_class_f1_ci95": None if self.per_class_f1_ci95 is None else self.per_class_f1_ci95.tolist(),
            "soft": self.soft, "warnings": [dict(w) for w in self.warnings], "settings": self.settings,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Evaluation:
        """The `Evaluation` `to_record` wrote."""
        return cls(
            n=int(record["n"]), classes=tuple(record["classes"]),
            confusion=np.asarray(record["confusion"], dtype=np.int64).reshape(len(record["classes"]), -1),
            scores={k: float(v) for k, v in record["scores"].items()},
            per_class={k: np.asarray(v, dtype=np.int64 if k in ("support", "predicted") else np.float64)
                       for k, v in record["per_class"].items()},
            top_k={int(k): float(v) for k, v in record["top_k"].items()}, nll=float(record["nll"]),
            brier=float(record["brier"]), reliability=_bins_from(record["reliability"]),
            adaptive_reliability=_bins_from(record["adaptive_reliability"]),
            ci95=None if record["ci95"] is None else {k: (float(v[0]), float(v[1])) for k, v in record["ci95"].items()},
            per_class_f1_ci95=None if record["per_class_f1_ci95"] is None
            else np.asarray(record["per_class_f1_ci95"], dtype=np.float64).reshape(-1, 2),
            soft=record["soft"], warnings=tuple(record["warnings"]), settings=record["settings"],
        )

    def to_dict(self) -> dict[str, Any]:
        """The evaluation as JSON-ready Python values (NaN becomes None)."""
        names = [str(c) for c in self.classes]
        per_class = {}
        for i, name in enumerate(names):
            entry: dict[str, Any] = {
                key: _num(self.per_class[key][i]) for key in ("precision", "recall", "f1", "support", "predicted")
            }
            if self.per_class_f1_ci95 is not None:
                entry["f1_ci95"] = [_num(v) for v in self.per_class_f1_ci95[i]]
            per_class[name] = entry
        out: dict[str, Any] = {"n": self.n, "classes": [_plain(c) for c in self.classes]}
        out.update({key: _num(v) for key, v in self.scores.items()})
        out.update(
            per_class=per_class,
            confusion_matrix=self.confusion.tolist(),
            top_k_accuracy={str(k): v for k, v in self.top_k.items()},
            most_confused=self.most_confused(),
            true_distribution=dict(zip(names, self.per_class["support"].tolist())),
            pred_distribution=dict(zip(names, self.per_class["predicted"].tolist())),
            nll=self.nll,
            brier=self.brier,
            ece=self.ece,
            mce=self.mce,
            adaptive_ece=self.adaptive_ece,
            reliability=_bins_dict(self.reliability),
            adaptive_reliability=_bins_dict(self.adaptive_reliability),
            ci95=None if self.ci95 is None else {k: [lo, hi] for k, (lo, hi) in self.ci95.items()},
        )
        if self.soft is not None:
            out.update(self.soft)
        out["warnings"] = [dict(w) for w in self.warnings]
        out["settings"] = dict(self.settings)
        return out


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _num(value: Any) -> Any:
    value = _plain(value)
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def _bins_record(bins: Bins) -> dict[str, list[float]]:
    return {"lower": bins.lower.tolist(), "upper": bins.upper.tolist(), "count": bins.count.tolist(),
            "confidence_sum": bins.confidence_sum.tolist(), "correct": bins.correct.tolist()}


def _bins_from(record: dict[str, list[float]]) -> Bins:
    return Bins(lower=np.asarray(record["lower"], dtype=np.float64),
                upper=np.asarray(record["upper"], dtype=np.float64),
                count=np.asarray(record["count"], dtype=np.int64),
                confidence_sum=np.asarray(record["confidence_sum"], dtype=np.float64),
                correct=np.asarray(record["correct"], dtype=np.int64))


def _bins_dict(bins: Bins) -> list[dict[str, Any]]:
    conf, acc = bins.mean_confidence, bins.accuracy
    return [
        {
            "lower": _num(bins.lower[i]),
            "upper": _num(bins.upper[i]),
            "count": int(bins.count[i]),
            "confidence": _num(conf[i]),
            "accuracy": _num(acc[i]),
        }
        for i in range(len(bins.count))
    ]


def evaluate(
    y_true: Any,
    y_prob: Any,
    *,
    classes: Any = None,
    bins: int = 15,
    ci: bool = True,
    n_boot: int = 1000,
    seed: int = 0,
    y_target: Any = None,
    renormalize: bool = False,
) -> Evaluation:
    """Score predicted probabilities against true labels, exactly, with 95 % intervals.

    Args:
        y_true: ``(N,)`` labels: class codes ``0..K-1`` when ``classes`` is None, else values of ``classes``.
        y_prob: ``(N, K)`` probabilities, rows summing to 1 (within 1e-3).
        classes: class of each ``y_prob`` column, in order.
        bins: equal-width (ECE/MCE) and equal-mass (adaptive ECE) bin count.
        ci: compute bootstrap intervals (``n_boot`` cell-multinomial resamples, ``seed``).
        y_target: optional ``(N, K)`` soft-label distributions: adds KL, JS and agreement scores.
        renormalize: divide each probability row by its sum instead of rejecting it.

    >>> ev = evaluate([0, 1, 1], [[0.8, 0.2], [0.3, 0.7], [0.6, 0.4]], ci=False)
    >>> round(ev.accuracy, 4), ev.confusion.tolist()
    (0.6667, [[1, 0], [1, 1]])
    """
    bins, n_boot, seed = _check_options(bins, ci, n_boot, seed)
    probs = as_matrix(y_prob, "y_prob")
    if renormalize:
        probs = check_probabilities(probs, renormalize=True)
    try:
        codes, class_list = encode_labels(y_true, classes, probs.shape[1])
        if len(codes) != len(probs):
            raise InputError(f"y_true has {len(codes)} labels but y_prob has {len(probs)} rows.")
        targets = None if y_target is None else check_targets(y_target, *probs.shape)
    except Exception:
        _raise_probability_error(probs)  # a bad probability is reported first, as the door checks in that order
        raise
    # The probabilities are validated inside the one pass over them (`row_statistics(check=True)`).
    return _evaluate(codes, probs, tuple(class_list), targets, bins, ci, n_boot, seed, (),
                     check=not renormalize)


def evaluate_table(
    table: PredictionTable, *, bins: int = 15, ci: bool = True, n_boot: int = 1000, seed: int = 0,
    settings: EvalSettings | None = None,
) -> Evaluation:
    """`evaluate` on a loaded `PredictionTable` (its soft targets included). ``settings`` (a run's
    `EvalSettings`) replaces ``bins``, ``n_boot`` and ``seed`` and sets the CI level and the top-k."""
    level, top_ks = LEVEL, TOP_KS
    if settings is not None:
        bins, n_boot, seed = settings.bins, settings.n_boot, settings.seed
        level, top_ks = settings.level, settings.top_k
    bins, n_boot, seed = _check_options(bins, ci, n_boot, seed)
    extra = [{"code": "load_note", "message": f"{table.name}: {note}"} for note in table.notes]
    if table.pred is not None:
        differs = int(np.count_nonzero(table.pred != table.probs.argmax(axis=1)))
        if differs:
            extra.append({
                "code": "pred_column_differs",
                "message": f"{table.name}: the pred column differs from the argmax of the probabilities "
                f"in {differs} of {table.n} rows; every metric here scores the argmax.",
            })
    return _evaluate(table.y_true, table.probs, table.classes, table.targets, bins, ci, n_boot, seed, tuple(extra),
                     level=level, top_ks=top_ks)


def _raise_probability_error(probs: np.ndarray) -> None:
    """Raise `check_probabilities`'s error for ``probs``, if it has one, in place of the error at hand."""
    try:
        check_probabilities(probs)
    except ProbabilityError as bad:
        raise bad from None


def _check_options(bins: Any, ci: bool, n_boot: Any, seed: Any) -> tuple[int, int, int]:
    bins = check_bins(bins)
    if ci and (isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 1):
        raise InputError(f"n_boot: expected a whole number >= 1, got {n_boot!r}.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"seed: expected a whole number >= 0, got {seed!r}.")
    return bins, int(n_boot), int(seed)


def _evaluate(
    codes: np.ndarray,
    probs: np.ndarray,
    classes: tuple[Any, ...],
    targets: np.ndarray | None,
    bins: int,
    ci: bool,
    n_boot: int,
    seed: int,
    extra_warnings: tuple[dict[str, Any], ...],
    *,
    level: float = LEVEL,
    top_ks: tuple[int, ...] = TOP_KS,
    check: bool = False,
) -> Evaluation:
    """Every metric from one pass over ``probs`` (validated in that pass with ``check``)."""
    k = probs.shape[1]
    rows = row_statistics(probs, codes, check=check)
    reliability, adaptive_reliability = calibration_bins(rows.confidence, rows.correct, bins)
    cm = confusion_matrix(codes, rows.pred, k)
    ci95, f1_ci = _intervals(cm, n_boot, seed, level) if ci else (None, None)
    return Evaluation(
        n=len(codes),
        classes=classes,
        confusion=cm,
        scores={key: float(v) for key, v in summary_scores(cm).items()},
        per_class=per_class_scores(cm),
        top_k={top: top_k_from_rank(rows.rank, top) for top in top_ks if top < k},
        nll=log_loss_from_true_prob(rows.p_true),
        brier=brier_from_square_sum(rows.square_sum, rows.p_true),
        reliability=reliability,
        adaptive_reliability=adaptive_reliability,
        ci95=ci95,
        per_class_f1_ci95=f1_ci,
        soft=None if targets is None else _soft_scores(targets, probs),
        warnings=tuple(_undefined_warnings(cm, classes)) + extra_warnings,
        settings=_settings(bins, ci, n_boot, seed, level, top_ks),
    )


def _intervals(cm: np.ndarray, n_boot: int, seed: int, level: float = LEVEL
               ) -> tuple[dict[str, tuple[float, float]], np.ndarray]:
    """Percentile CIs of the summary scores and of each class's F1 over ``n_boot`` multinomial resamples
    of ``cm``'s occupied cells. Each resample is scored from its marginals (`cell_marginals`), never
    built as a K x K matrix, and the draws come in chunks of at most `BOOT_CELLS` values, so peak memory
    is O(chunk (cells + K)) whatever ``n_boot`` and K are (a chunk's draws continue the same random
    stream, so the result does not depend on the chunk size)."""
    rng = np.random.default_rng(seed)
    k = cm.shape[0]
    flat = cm.reshape(-1)
    occupied = np.flatnonzero(flat)
    true, pred = np.divmod(occupied, k)
    scores: dict[str, list[np.ndarray]] = {key: [] for key in CI_KEYS}
    f1: list[np.ndarray] = []
    for draws in resample_chunks(flat[occupied], n_boot, rng, BOOT_CELLS // max(len(occupied), k, 1)):
        tp, support, predicted = cell_marginals(draws, true, pred, k)
        summary = summary_from(tp, support, predicted)
        for key in CI_KEYS:
            scores[key].append(summary[key])
        f1.append(per_class_from(tp, support, predicted)["f1"])
    ci95 = {}
    for key in CI_KEYS:
        lo, hi = percentile_interval(np.concatenate(scores[key]), level)
        ci95[key] = (float(lo), float(hi))
    return ci95, percentile_interval(np.concatenate(f1), level).T


def _soft_scores(targets: np.ndarray, probs: np.ndarray) -> dict[str, float]:
    js = js_divergence_rows(targets, probs)
    rank = row_statistics(probs, targets.argmax(axis=1)).rank
    out = {
        "kl": float(kl_rows(targets, probs).mean()),
        "js": float(js.mean()),
        "js_divergence": float(js.mean()),
        "js_distance": float(np.sqrt(js).mean()),
        "target_top1": top_k_from_rank(rank, 1),
    }
    if probs.shape[1] > 3:
        out["target_top3"] = top_k_from_rank(rank, 3)
    return out


#: Why each per-class score is undefined, and what runcard reports instead.
UNDEFINED_CLASS_MESSAGES = {
    "f1": "class {name!r} is neither true nor predicted in any row: its precision, recall and F1 are "
    "undefined, reported as 0.0, and still counted in the macro averages.",
    "recall": "class {name!r} has no true examples: its recall is undefined, reported as 0.0 "
    "(balanced_accuracy leaves it out, as scikit-learn does).",
    "precision": "class {name!r} is never predicted: its precision is undefined, reported as 0.0.",
}


def _undefined_warnings(cm: np.ndarray, classes: tuple[Any, ...]) -> list[dict[str, Any]]:
    undefined = undefined_scores(cm)
    out: list[dict[str, Any]] = []
    for key, template in UNDEFINED_CLASS_MESSAGES.items():
        for i in undefined[key]:
            if key != "f1" and i in undefined["f1"]:
                continue  # already said: neither true nor predicted
            out.append({"code": f"undefined_{key}", "class": _plain(classes[i]),
                        "message": template.format(name=_plain(classes[i]))})
    out.extend({
        "code": f"undefined_{key}",
        "message": f"{key} is undefined (all true labels or all predictions are one class); reported as 0.0.",
    } for key in ("cohen_kappa", "mcc") if undefined[key])
    return out


def _settings(bins: int, ci: bool, n_boot: int, seed: int, level: float = LEVEL,
              top_ks: tuple[int, ...] = TOP_KS) -> dict[str, Any]:
    ci_part = f"cell-multinomial-percentile,n_boot={n_boot},seed={seed},level={level}" if ci else "off"
    return {
        "bins": bins,
        "top_k": list(top_ks),
        "ece": "top-label, equal-width bins (i/B,(i+1)/B], L1, weighted by bin size",
        "adaptive_ece": "top-label, equal-mass bins (numpy.array_split sizes, ties kept together)",
        "nll": f"natural log, probabilities clipped to [{EPS:.3g}, 1-{EPS:.3g}]",
        "top_k_ties": "lower class index ranks first (top-1 = accuracy)",
        "ci": {"method": "cell-multinomial bootstrap, percentile", "n_boot": n_boot, "seed": seed, "level": level}
        if ci else None,
        "signature": f"runcard {__version__}|bins={bins}|ci={ci_part}",
    }
