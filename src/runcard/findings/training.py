"""Rules over one run's records: texts across splits, training curves, loss terms, checkpoints."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from runcard.findings.finding import Finding
from runcard.findings.view import RunView
from runcard.metrics.directions import direction, is_counter

#: overfitting: validation points after the minimum, all above it, while training loss still fell.
PATIENCE = 3
#: weak_regularizer: a weighted term's mean share of the total loss below this.
WEAK_SHARE = 0.05
#: Pairs of (training, validation) loss series names recognised for overfitting.
LOSS_PAIRS = (("train/loss", "val/loss"), ("train_loss", "val_loss"), ("loss", "eval_loss"),
              ("train/loss", "eval/loss"), ("loss", "val_loss"))


def overfitting(series: Mapping[str, list[tuple[int, float]]], run: str = "",
                patience: int = PATIENCE) -> list[Finding]:
    """Validation loss above its minimum for ``patience`` evaluations in a row at the end of
    training, while training loss kept falling after that minimum."""
    for train_key, val_key in LOSS_PAIRS:
        if train_key not in series or val_key not in series:
            continue
        val = [(s, v) for s, v in series[val_key] if math.isfinite(v)]
        train = [(s, v) for s, v in series[train_key] if math.isfinite(v)]
        if len(val) <= patience or len(train) < 2:
            continue
        best = int(np.argmin([v for _, v in val]))
        after = val[best + 1:]
        if len(after) < patience or not all(v > val[best][1] for _, v in after):
            continue
        best_step = val[best][0]
        train_at_best = min((v for s, v in train if s <= best_step), default=None)
        train_end = train[-1][1]
        if train_at_best is None or not train_end < train_at_best:
            continue
        return [Finding(
            "overfitting", "warning",
            f"{val_key} rose from {val[best][1]:.4g} (step {best_step}) to {after[-1][1]:.4g} while {train_key} "
            f"fell to {train_end:.4g}",
            {"validation_key": val_key, "training_key": train_key, "best_step": best_step,
             "best_validation": val[best][1], "final_validation": after[-1][1],
             "evaluations_after_best": len(after), "training_at_best": train_at_best, "final_training": train_end},
            f"Use the checkpoint from step {best_step} (early stopping), or regularise more; report the "
            "validation-selected checkpoint, not the last one.",
            runs=(run,) if run else (), metrics=(train_key, val_key),
        )]
    return []


def loss_term_shares(series: Mapping[str, list[tuple[int, float]]], of: str = "value"
                     ) -> tuple[list[str], list[int], np.ndarray] | None:
    """Each logged loss term's share of ``sum |weighted term|`` (``of="value"``) or of the sum of the
    weighted terms' gradient norms (``of="grad_norm"``) at every step all terms were logged:
    (term names, steps, shares of shape (steps, terms)); None with fewer than two terms."""
    if of == "value":
        terms = {k.split("/", 1)[1]: dict(v) for k, v in series.items()
                 if k.startswith("loss_terms/") and k.count("/") == 1}
    else:
        terms = {k.split("/")[1]: dict(v) for k, v in series.items()
                 if k.startswith("loss_terms/") and k.count("/") == 2 and k.endswith(f"/{of}")}
    if len(terms) < 2:
        return None
    steps = sorted(set.intersection(*(set(v) for v in terms.values())))
    if not steps:
        return None
    matrix = np.abs(np.array([[terms[name][s] for name in terms] for s in steps]))
    totals = matrix.sum(axis=1)
    return list(terms), steps, np.divide(matrix, totals[:, None], out=np.zeros_like(matrix), where=totals[:, None] > 0)


def _has_grad(series: Mapping[str, list[tuple[int, float]]]) -> dict[str, dict[int, float]]:
    return {k.split("/")[1]: dict(v) for k, v in series.items()
            if k.startswith("loss_terms/") and k.endswith("/has_grad") and k.count("/") == 2}


def detached_term(series: Mapping[str, list[tuple[int, float]]], run: str = "") -> list[Finding]:
    """A weighted loss term logged without a gradient path (``loss_terms/<name>/has_grad`` = 0).

    Error: such a term (a float, ``.item()``, a tensor computed under ``torch.no_grad()`` or
    detached) adds a constant to the loss; no weight on it can change what the model learns.
    """
    out = []
    for name, points in _has_grad(series).items():
        without = sorted(s for s, v in points.items() if v != 1.0)
        if not without:
            continue
        weighted = dict(series.get(f"loss_terms/{name}", []))
        raw = dict(series.get(f"loss_terms/{name}/raw", []))
        weights = sorted({round(weighted[s] / raw[s], 12) for s in without if s in weighted and s in raw and raw[s]})
        out.append(Finding(
            "detached_term", "error",
            f"loss term {name!r} has no gradient path at {len(without)} of {len(points)} logged steps: it shifts the "
            "loss value and changes nothing the model learns",
            {"term": name, "steps_without_gradient": len(without), "steps_logged": len(points),
             "first_step_without": without[0], "weights": weights},
            "The term was a Python float, .item(), a detached tensor or computed under torch.no_grad(): it only shifts "
            "the loss value, so no weight on it can help. Compute it from tensors that keep their graph (a "
            "differentiable surrogate, or a policy-gradient estimator for a non-differentiable score).",
            runs=(run,) if run else (), metrics=(f"loss_terms/{name}",),
        ))
    return out


def weak_regularizer(series: Mapping[str, list[tuple[int, float]]], run: str = "",
                     threshold: float = WEAK_SHARE) -> list[Finding]:
    """An auxiliary term (``loss_terms/<name>``, weighted values) averaging under 5 % of the total.

    The largest term is the main objective; every other term whose mean share of
    ``sum |weighted term|`` is below the threshold barely moves the optimisation.
    """
    by_gradient = loss_term_shares(series, "grad_norm")
    table = by_gradient or loss_term_shares(series)
    if table is None:
        return []
    judged_on = "gradient-norm share" if by_gradient else "value share"
    terms, steps, per_step = table
    shares = per_step.mean(axis=0)
    main = int(np.argmax(shares))
    detached = {name for name, pts in _has_grad(series).items() if not all(v == 1.0 for v in pts.values())}
    out = []
    for i, name in enumerate(terms):
        if i != main and shares[i] < threshold and name not in detached:  # detached_term says more
            what = "gradient norm" if by_gradient else "weighted total loss"
            out.append(Finding(
                "weak_regularizer", "warning",
                f"loss term {name!r} is {shares[i]:.1%} of the {what} (mean over {len(steps)} steps, judged on the "
                f"{judged_on})",
                {"term": name, "mean_share": float(shares[i]), "threshold": threshold, "steps": len(steps),
                 "shares": {n: float(x) for n, x in zip(terms, shares)}, "judged_on": judged_on},
                "At this weight the term barely changes the objective: raise its weight, or check that it carries "
                "a gradient at all (a value computed without gradient tracking only shifts the loss).",
                runs=(run,) if run else (), metrics=(f"loss_terms/{name}",),
            ))
    return out


def all_zero_series(series: Mapping[str, list[tuple[int, float]]], run: str = "") -> list[Finding]:
    """A result series that is exactly 0 or NaN at every step: a pipeline failure, not a result."""
    out = []
    for key, values in series.items():
        if is_counter(key) or key.startswith(("loss_terms/", "loss_grad_cosine/")) or not values:  # NaN: no gradient
            continue
        if all((not math.isfinite(v)) or v == 0.0 for _, v in values) and direction(key) is not None:
            out.append(Finding(
                "all_zero_metric", "error", f"{key} is 0 or NaN at all {len(values)} logged steps",
                {"metric": key, "points": len(values), "nan_points": sum(1 for _, v in values if not math.isfinite(v))},
                "Something upstream failed silently (a missing resource, an empty input, a wrong column). Find it "
                "and recompute; do not report this value.",
                runs=(run,) if run else (), metrics=(key,),
            ))
    return out


def missing_checkpoint(view: RunView) -> list[Finding]:
    """Predictions tied to a checkpoint hash the store does not hold, or to none after training."""
    out = []
    for split, sha in view.prediction_checkpoints.items():
        if sha and sha not in view.known_checkpoints:
            out.append(Finding(
                "missing_checkpoint", "error",
                f"{split} predictions name checkpoint {sha[:12]}, which is not in the store",
                {"split": split, "checkpoint": sha, "known_checkpoints": sorted(view.known_checkpoints)},
                "These predictions cannot be traced to stored weights: they may come from an untrained or different "
                "model. Log the checkpoint with run.log_checkpoint() and re-run the evaluation from it.",
                runs=(view.id,), splits=(split,),
            ))
        elif not sha and view.trained:
            out.append(Finding(
                "missing_checkpoint", "error",
                f"{split} predictions were logged after training without naming a checkpoint",
                {"split": split, "checkpoint": None, "known_checkpoints": sorted(view.known_checkpoints)},
                "Pass checkpoint=<sha256 from run.log_checkpoint()> to log_predictions, so the card can show which "
                "weights were evaluated.",
                runs=(view.id,), splits=(split,),
            ))
    return out
