"""Rules over several runs (a comparison, a sweep) and over targets."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

import numpy as np

from runcard.configs import config_differences
from runcard.findings.finding import Finding
from runcard.findings.view import RunView
from runcard.metrics.directions import direction, is_counter
from runcard.stats import normal_sf

#: constant_metric: runs needed, and the rounding that counts as identical.
CONSTANT_MIN_RUNS = 3
CONSTANT_DECIMALS = 4
#: ceiling_effect: every system at or above this on a bounded higher-is-better metric.
CEILING = 0.98
#: outlier_run: how far off the group median (factor) and how many robust standard deviations.
OUTLIER_FACTOR = 10.0
OUTLIER_MIN_RUNS = 4


#: Config keys that name or seed a run rather than set the experiment (leaf names), and top-k accuracies.
IDENTITY_LEAVES = ("seed", "name", "run_name")
_TOP_K = re.compile(r"(^|/)(top\d+_accuracy|target_top\d+)$")


def is_identity(key: str) -> bool:
    """Whether a flattened config key only names, tags or seeds a run (``experiment.seed``, ``tags.x``)."""
    parts = key.split(".")
    return parts[-1] in IDENTITY_LEAVES or "tags" in parts[:-1] or parts[-1] == "tags"


def _shared_metrics(views: Sequence[RunView]) -> dict[str, list[float]]:
    tables = [v.metrics() for v in views]
    keys = set.intersection(*(set(t) for t in tables)) if tables else set()
    return {k: [t[k] for t in tables] for k in sorted(keys) if not is_counter(k)}


def constant_metric(views: Sequence[RunView], *, set_apart: Sequence[str] = ()) -> list[Finding]:
    """A result metric identical to 4 decimals in 3 or more runs whose configs differ: the change did
    not reach the model's decisions (a collapsed model, a flag that is ignored, a cached result).
    ``views`` are the runs left once outliers are set apart (``set_apart``, named in the evidence): a diverged
    run must not hide that all the others never moved."""
    if len(views) < CONSTANT_MIN_RUNS:
        return []
    differing = [k for k in config_differences([v.config for v in views]) if not is_identity(k)]
    if not differing:
        return []  # runs of one setting (seeds, names): an equal metric is no surprise
    out = []
    for key, values in _shared_metrics(views).items():
        if direction(key) is None or not all(math.isfinite(x) for x in values) or _TOP_K.search(key):
            continue
        if len({round(x, CONSTANT_DECIMALS) for x in values}) == 1:
            apart = f" ({len(set_apart)} outlier run(s) set apart)" if set_apart else ""
            out.append(Finding(
                "constant_metric", "warning",
                f"{key} is {values[0]:.4f} in all {len(views)} runs{apart} although their configs differ",
                {"metric": key, "value": values[0], "runs": len(views), "run_ids": [v.id for v in views],
                 "set_apart": list(set_apart), "decimals": CONSTANT_DECIMALS,
                 "config_keys_that_differ": differing[:20]},
                "The varied settings did not change this metric at all: check that they reach the model (and that "
                "the model does not predict one class); compare on a metric that can move, or with a paired test.",
                runs=tuple(v.id for v in views), metrics=(key,),
            ))
    return out


def ceiling_effect(views: Sequence[RunView]) -> list[Finding]:
    """A bounded higher-is-better metric at >= 0.98 for every system compared (at least two)."""
    if len(views) < 2:
        return []
    out = []
    for key, values in _shared_metrics(views).items():
        if direction(key) != "higher" or key.startswith("train") or not all(math.isfinite(x) for x in values) \
                or _TOP_K.search(key):
            continue  # a training-set fit at 1.0 is memory; top-k accuracies are meant to be near 1
        if all(CEILING <= x <= 1.0 for x in values):
            out.append(Finding(
                "ceiling_effect", "warning", f"{key} is at least {min(values):.4f} for every system compared",
                {"metric": key, "values": dict(zip((v.id for v in views), values)), "ceiling": CEILING},
                "This benchmark cannot separate the systems: use a harder test set, a stricter checker, or a metric "
                "with headroom.",
                runs=tuple(v.id for v in views), metrics=(key,),
            ))
    return out


def all_zero_across(views: Sequence[RunView]) -> list[Finding]:
    """A result metric that is exactly 0 or NaN in every run (two or more)."""
    if len(views) < 2:
        return []
    out = []
    for key, values in _shared_metrics(views).items():
        if direction(key) is not None and all((not math.isfinite(x)) or x == 0.0 for x in values):
            out.append(Finding(
                "all_zero_metric", "error", f"{key} is 0 or NaN in all {len(views)} runs",
                {"metric": key, "runs": len(views)},
                "A pipeline failure, not a result: find the step that produced nothing (a missing resource, an empty "
                "input) and recompute.",
                runs=tuple(v.id for v in views), metrics=(key,),
            ))
    return out


def outliers(views: Sequence[RunView]) -> list[Finding]:
    """Runs orders of magnitude off the group on a metric: one test per run and metric (with a known direction,
    positive values, shared by all runs), to be judged by the document's budget and merged per run
    (`merge_outliers`).

    On log10 of the values: the robust z of each run (distance to the median over the median absolute
    deviation x 1.4826; Iglewicz-Hoaglin), two-sided normal p-value (0 when most runs are equal, MAD 0); the
    claim also needs the run to be at least 10x from the group median.
    """
    if len(views) < OUTLIER_MIN_RUNS:
        return []
    out = []
    for key, values in _shared_metrics(views).items():
        x = np.array(values, dtype=float)
        if direction(key) is None or not np.all(np.isfinite(x)) or not np.all(x > 0):
            continue
        logs = np.log10(x)
        median = float(np.median(logs))
        mad = float(np.median(np.abs(logs - median))) * 1.4826
        for view, value, lg in zip(views, x, logs):
            distance = abs(lg - median)
            factor = 10**distance
            z = distance / mad if mad > 0 else (math.inf if distance > 0 else 0.0)
            p_value = 0.0 if math.isinf(z) else float(2 * normal_sf(z))
            out.append(Finding(
                "outlier_run", "warning", f"run {view.id} ({view.name}) is {factor:.0f}x off the group on {key}",
                {"run": view.id, "deviations": [{"metric": key, "value": float(value),
                                                 "group_median": float(10**median), "factor": float(factor),
                                                 "robust_z": None if math.isinf(z) else z}],
                 "factor_threshold": OUTLIER_FACTOR},
                "Set this run apart when choosing the best (it is excluded from 'best' in the summary); look for a "
                "diverged optimisation, a unit mix-up or a different data size before keeping it.",
                runs=(view.id,), metrics=(key,), impact=distance, p_value=p_value, eligible=factor >= OUTLIER_FACTOR,
            ))
    return out


def merge_outliers(findings: Sequence[Finding]) -> list[Finding]:
    """One `outlier_run` finding per run out of the per-metric ones that passed the budget (others as they are)."""
    by_run: dict[str, list[Finding]] = {}
    rest = []
    for f in findings:
        if f.kind == "outlier_run":
            by_run.setdefault(f.runs[0], []).append(f)
        else:
            rest.append(f)
    merged = []
    for run_id, hits in by_run.items():
        deviations = [{**f.evidence["deviations"][0], "p_value": f.p_value, "budget": f.evidence.get("budget")}
                      for f in hits]
        name = hits[0].title.split(" is ", 1)[0]
        merged.append(Finding(
            "outlier_run", "warning",
            f"{name} is {max(d['factor'] for d in deviations):.0f}x off the group on "
            f"{', '.join(d['metric'] for d in deviations[:3])}",
            {"run": run_id, "deviations": deviations, "factor_threshold": OUTLIER_FACTOR, "p_value": hits[0].p_value},
            hits[0].advice, runs=(run_id,), metrics=tuple(d["metric"] for d in deviations),
            impact=max(f.impact or 0.0 for f in hits)))
    return rest + merged


def rank_of(views: Sequence[RunView], key: str) -> list[str]:
    """Run ids from best to worst on ``key`` (runs without it are left out)."""
    have = [(v.id, v.metrics()[key]) for v in views if key in v.metrics() and math.isfinite(v.metrics()[key])]
    reverse = direction(key) != "lower"
    return [run_id for run_id, _ in sorted(have, key=lambda p: p[1], reverse=reverse)]


def val_test_disagreement(views: Sequence[RunView], val_key: str, test_key: str) -> list[Finding]:
    """The run best on the validation criterion ranks outside the best ``ceil(n/4)`` runs on test (the single
    best for up to four runs), among at least three runs having both metrics, and its test value is worse than
    the best one beyond noise: a test of H0 "the chosen run is as good on test as the best", z from the two
    runs' 95 % CIs, one-sided, times the n - 1 runs the best was picked from (Bonferroni: the best of many is
    optimistic). Without CIs (logged values) there is no noise estimate: a note, outside the budget."""
    val_rank, test_rank = rank_of(views, val_key), rank_of(views, test_key)
    shared = [r for r in val_rank if r in test_rank]
    if len(shared) < 3:
        return []
    chosen = shared[0]
    test_order = [r for r in test_rank if r in shared]
    position = test_order.index(chosen)
    allowed = max(1, math.ceil(len(shared) / 4))
    by_id = {v.id: v for v in views}
    best = test_order[0]
    metrics = {v.id: v.metrics() for v in views}
    ci_best, ci_chosen = by_id[best].intervals().get(test_key), by_id[chosen].intervals().get(test_key)
    p_value = None
    if ci_best is not None and ci_chosen is not None:
        se = math.hypot(ci_best[1] - ci_best[0], ci_chosen[1] - ci_chosen[0]) / (2 * 1.959963984540054)
        gap = abs(metrics[best][test_key] - metrics[chosen][test_key])
        p_value = min(1.0, (len(shared) - 1) * float(normal_sf(gap / se))) if se > 0 else (0.0 if gap > 0 else 1.0)
    elif position < allowed or by_id[best].intervals() or by_id[chosen].intervals():
        return []  # agreeing, or evaluated runs whose metric has no CI: another metric of theirs is judged
    return [Finding(
        "val_test_disagreement", "warning" if p_value is not None else "info",
        f"the run best on {val_key} ({chosen}) ranks {position + 1} of {len(shared)} on {test_key}"
        + (f" (worse than the best beyond noise, p = {p_value:.3g})" if p_value is not None
           else " (values without CIs: not judged against noise)"),
        {"validation_key": val_key, "test_key": test_key, "chosen_by_validation": chosen,
         "its_test_value": metrics[chosen][test_key], "test_rank": position + 1, "runs": len(shared),
         "best_on_test": best, "best_test_value": metrics[best][test_key]},
        "Validation and test disagree: the validation split may be too small or differently distributed. Select on "
        "validation and report that run's test score, not the best test score (which is optimistic).",
        runs=(chosen, best), metrics=(val_key, test_key),
        impact=abs(metrics[best][test_key] - metrics[chosen][test_key]), p_value=p_value,
        eligible=position >= allowed,
    )]


def not_significant(metric: str, difference: float, ci95: Sequence[float], runs: Sequence[str] = (),
                    p_value: float | None = None, mde: float | None = None) -> list[Finding]:
    """A compared difference whose 95 % interval contains zero: no evidence of a change (a note: the verdict says
    "within noise"; ``mde``, the smallest difference the test could have seen at 80 % power, tells whether
    "within noise" means "the same" or "this test cannot tell")."""
    lo, hi = float(ci95[0]), float(ci95[1])
    if not lo <= 0.0 <= hi:
        return []
    seen = "" if mde is None else f"; this test could only have seen differences above {mde:.4f}"
    return [Finding(
        "not_significant", "info",
        f"{metric}: the difference {difference:+.4f} is within noise (95 % CI {lo:+.4f} to {hi:+.4f}){seen}",
        {"metric": metric, "difference": difference, "ci95": [lo, hi], "p_value": p_value,
         "minimum_detectable_difference": mde},
        "Do not report this as an improvement: the data cannot tell the systems apart on this metric. Use more "
        "test data or seeds, or report the interval.",
        runs=tuple(runs), metrics=(metric,), impact=abs(difference),
    )]


def target_gap(metric: str, value: float, tiers: Mapping[str, float], run: str = "",
               higher_is_better: bool | None = None) -> list[Finding]:
    """A metric short of a tier (tiers in order of ambition, e.g. minimum < target < stretch).

    Severity: error below ``minimum``, warning below ``target``, info below any other tier only.
    """
    higher = higher_is_better if higher_is_better is not None else direction(metric) != "lower"
    missed = {name: goal for name, goal in tiers.items() if (value < goal if higher else value > goal)}
    if not missed:
        return []
    severity = "error" if "minimum" in missed else "warning" if "target" in missed else "info"
    gaps = {name: {"goal": goal, "gap": goal - value if higher else value - goal,
                   "share_reached": value / goal if goal and higher else (goal / value if value else None)}
            for name, goal in tiers.items()}
    focus = "target" if "target" in missed else next(iter(missed))
    return [Finding(
        "target_gap", severity,
        f"{metric} = {value:.4f} is short of its {focus} {tiers[focus]:.4f} (gap {gaps[focus]['gap']:.4f})",
        {"metric": metric, "value": value, "tiers": gaps, "missed": sorted(missed),
         "direction": "higher" if higher else "lower"},
        "Report the gap beside the number; compare it with the noise (the metric's CI) before claiming progress.",
        runs=(run,) if run else (), metrics=(metric,),
    )]


def best_excluding(views: Sequence[RunView], key: str, excluded: set[str]) -> str | None:
    """The best run on ``key`` among those not excluded (e.g. outliers)."""
    ranked = [r for r in rank_of(views, key) if r not in excluded]
    return ranked[0] if ranked else None

