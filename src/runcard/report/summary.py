"""The leaderboard of many runs (a sweep) as data: sorted, grouped, outliers set apart, takeaways derived.

Every takeaway is a sentence built from the numbers in the table; none is written by hand.
"""

from __future__ import annotations

import json
import math
import re
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

from runcard._version import __version__
from runcard.configs import config_differences, flatten_config
from runcard.errors import InputError
from runcard.findings import ALPHA, RunView, judge_group, run_findings, validation_pairs
from runcard.findings.across_runs import rank_of
from runcard.metrics.directions import direction, is_counter
from runcard.report.numbers import is_tie, metric

#: Preferred sort metrics, in order, when none is given.
DEFAULT_SORT = ("test/macro_f1", "test/accuracy", "test/kl", "val/macro_f1", "val/accuracy", "val/loss",
                "eval_loss", "test/loss")
#: Metric columns shown beside the sort metric.
MAX_COLUMNS = 6
#: Never shown as leaderboard columns: training internals and training-set scores (a column is a result).
INTERNAL_PREFIXES = ("loss_terms/", "loss_grad_cosine/", "train/", "train_", "calibration/", "model/", "derived/")
_HELD_OUT = re.compile(r"^(val|valid|validation|eval|dev|test)([/_])")


def choose_sort(views: Sequence[RunView]) -> str:
    """The first preferred metric most runs have, else the most common metric with a known direction."""
    counts = Counter(k for v in views for k in v.metrics() if direction(k) is not None and not is_counter(k))
    if not counts:
        raise InputError("no run has a metric with a known direction to sort by; pass --sort METRIC.")
    half = len(views) / 2
    for key in DEFAULT_SORT:
        if counts.get(key, 0) >= half:
            return key
    return counts.most_common(1)[0][0]


def config_value(config: dict[str, Any], key: str) -> Any:
    """``a.b.c`` looked up in a nested config."""
    node: Any = config
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _mean_std(values: list[float]) -> tuple[float, float | None]:
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else None


#: Leaf names shown first as columns, in this order (the headline scores of each held-out split).
PREFERRED = ("macro_f1", "accuracy", "kl", "js_distance", "ece", "loss")


def default_columns(views: Sequence[RunView], sort: str) -> list[str]:
    """Up to `MAX_COLUMNS` result metrics besides the sort metric: held-out (val/test) ones first, the sort
    metric's split first, headline scores (`PREFERRED`) first, then the most common; never training internals
    or training-set scores."""
    counts = Counter(k for v in views for k in v.metrics() if direction(k) is not None and not is_counter(k)
                     and not k.startswith(INTERNAL_PREFIXES) and k != sort)
    split = sort.split("/", 1)[0] if "/" in sort else None

    def order(k: str) -> tuple[bool, bool, bool, int, int, str]:
        leaf = k.rsplit("/", 1)[-1]
        return (not _HELD_OUT.match(k), leaf not in PREFERRED, k.split("/", 1)[0] != split,
                PREFERRED.index(leaf) if leaf in PREFERRED else len(PREFERRED), -counts[k], k)

    return sorted(counts, key=order)[:MAX_COLUMNS]


def separated(a: RunView, b: RunView, key: str) -> bool | None:
    """Whether two runs' values of ``key`` lie outside each other's noise: their 95 % CIs do not overlap (True),
    overlap (False); None when either has no CI (a logged value): no noise estimate, no claim either way."""
    ca, cb = a.intervals().get(key), b.intervals().get(key)
    if ca is None or cb is None:
        return None
    return ca[1] < cb[0] or cb[1] < ca[0]


def selection_key(sort: str, keys: set[str], criterion: tuple[str, str] | None) -> str | None:
    """The validation metric a selection is judged on: ``criterion``'s, else the validation counterpart of the
    sort metric (``val/macro_f1`` for ``test/macro_f1``), else the first validation metric paired with a test
    metric."""
    if criterion:
        return criterion[0]
    match = re.match(r"^test([/_])(.+)$", sort)
    if match:
        for prefix in ("val", "valid", "validation", "eval", "dev"):
            candidate = f"{prefix}{match.group(1)}{match.group(2)}"
            if candidate in keys:
                return candidate
    pairs = validation_pairs(sorted(keys))
    return pairs[0][0] if pairs else None


def build_summary(views: Sequence[RunView], *, source: str, sort: str | None = None, group_by: str | None = None,
                  criterion: tuple[str, str] | None = None, targets: dict[str, dict[str, Any]] | None = None,
                  alpha: float = ALPHA) -> dict[str, Any]:
    """Leaderboard, groups, takeaways and findings of ``views``; each row counts its run's own findings."""
    if not views:
        raise InputError(f"{source}: no runs to summarise.")
    sort = sort or choose_sort(views)
    if not any(sort in v.metrics() for v in views):
        known = sorted({k for v in views for k in v.metrics()})[:20]
        raise InputError(f"--sort {sort!r}: no run has this metric; metrics found: {known}.")
    findings, budget = judge_group(views, criterion=criterion, alpha=alpha)
    set_apart = {r for f in findings if f.kind == "outlier_run" for r in f.runs}
    columns = default_columns(views, sort)
    ranked = [r for r in rank_of(views, sort) if r not in set_apart]
    by_id = {v.id: v for v in views}

    settings = setting_labels(views) if group_by == "config" else {}

    own = {v.id: Counter(f.severity for f in run_findings(v, targets=targets, alpha=alpha)) for v in views}

    def row(view: RunView, rank: int | None) -> dict[str, Any]:
        m = view.metrics()
        counts = own[view.id]
        return {"rank": rank, "id": view.id, "name": view.name, "status": view.status, sort: m.get(sort),
                **{c: m.get(c) for c in columns},
                **({"group": _group_label(view, group_by, settings)} if group_by else {}),
                "ci95": {k: list(ci) for k, ci in view.intervals().items() if k == sort or k in columns},
                "rows": {split: ev.n for split, ev in view.evaluations.items()},
                "findings": {s: counts.get(s, 0) for s in ("error", "warning", "info")}}

    leaderboard = [row(by_id[r], i + 1) for i, r in enumerate(ranked)]
    missing = [v.id for v in views if sort not in v.metrics() and v.id not in set_apart]
    groups = _groups(views, ranked, sort, columns, group_by, settings) if group_by else []
    doc = {
        "kind": "summary",
        "source": source,
        "provenance": {"source": source, "runs": len(views), "runcard": __version__,
                       "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")},
        "sort": sort, "direction": direction(sort) or "higher", "columns": columns, "group_by": group_by,
        "findings": [f.to_dict() for f in findings],
        "budget": budget.to_dict(),
        "leaderboard": leaderboard,
        "set_apart": [{**row(by_id[r], None), "reason": "outlier_run"} for r in sorted(set_apart)],
        "missing_sort_metric": missing,
        "groups": groups,
    }
    doc["takeaways"] = _takeaways(doc, views, set_apart, criterion)
    return doc


def _label(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else value


#: ``--group-by config``: runs whose configs differ only in these (seed, name, tags) form one group.
IDENTITY_KEYS = ("experiment.seed", "experiment.name", "experiment.tags", "split.seed")


def setting_labels(views: Sequence[RunView]) -> dict[str, str]:
    """Run id -> the settings that tell its config apart from the others' (``k=v, ...``), leaving out
    seeds, names and tags: runs of one setting with several seeds share a label."""
    varied = [k for k in config_differences([dict(v.config) for v in views])
              if not any(k == i or k.startswith(i + ".") for i in IDENTITY_KEYS)]
    out = {}
    for view in views:
        flat = flatten_config(dict(view.config))
        out[view.id] = ", ".join(f"{k}={_label(flat.get(k))}" for k in varied) or "(one setting)"
    return out


def _group_label(view: RunView, key: str, settings: dict[str, str]) -> str:
    return settings[view.id] if key == "config" else _label(config_value(dict(view.config), key))


def _groups(views: Sequence[RunView], ranked: list[str], sort: str, columns: list[str], key: str,
            settings: dict[str, str]) -> list[dict[str, Any]]:
    members: dict[str, list[RunView]] = {}
    keep = set(ranked)
    for view in (v for v in views if v.id in keep):
        members.setdefault(_group_label(view, key, settings), []).append(view)
    out: list[dict[str, Any]] = []
    for label, group in members.items():
        stats: dict[str, dict[str, Any]] = {}
        for name in [sort, *columns]:
            values = [v.metrics()[name] for v in group if name in v.metrics() and math.isfinite(v.metrics()[name])]
            if values:
                mean, std = _mean_std(values)
                stats[name] = {"mean": mean, "std": std, "n": len(values)}
        out.append({"value": label, "runs": [v.id for v in group], "n": len(group), "stats": stats})
    lower = direction(sort) == "lower"
    missing = math.inf if lower else -math.inf
    out.sort(key=lambda g: g["stats"][sort]["mean"] if sort in g["stats"] else missing, reverse=not lower)
    return out


def _fmt(value: float | None, key: str | None = None) -> str:
    return metric(value, key)


def _takeaways(doc: dict[str, Any], views: Sequence[RunView], set_apart: set[str],
               criterion: tuple[str, str] | None) -> list[str]:
    """Sentences each true of the table below them; equal values (ties) make no ranking claim."""
    sort, board = doc["sort"], doc["leaderboard"]
    out: list[str] = []
    if not board:
        return ["No run has the sort metric outside the runs set apart."]
    best = board[0]
    better = "lower" if doc["direction"] == "lower" else "higher"
    by_id = {v.id: v for v in views}
    tied = [r for r in board[1:] if is_tie(r[sort], best[sort])]
    if tied:
        out.append(f"Tied at the top on {sort} ({_fmt(best[sort])}, {better} is better): {best['name']} ({best['id']}) "
                   f"and {len(tied)} other run(s) of {len(board)} ranked runs.")
    else:
        ci = by_id[best["id"]].intervals().get(sort)
        out.append(f"Best on {sort}: {best['name']} ({best['id']}) with {_fmt(best[sort])}"
                   + (f" [{_fmt(ci[0])}, {_fmt(ci[1])}]" if ci else "") + f" ({better} is better), "
                   f"out of {len(board)} ranked runs.")
        if len(board) > 1 and separated(by_id[best["id"]], by_id[board[1]["id"]], sort) is False:
            second = board[1]
            out.append(f"Not separated from the runner-up: {second['name']} ({second['id']}, {_fmt(second[sort])}) lies "
                       f"within noise of it on {sort} (their 95 % CIs overlap): the order of the two is not established.")
    if set_apart:
        out.append(f"{len(set_apart)} run(s) set apart as outliers and left out of the ranking: {', '.join(sorted(set_apart))}.")
    kept = [v for v in views if v.id not in set_apart]
    keys = set.intersection(*(set(v.metrics()) for v in kept)) if kept else set()
    positions = {row["id"]: i for i, row in enumerate(board)}
    val_key = selection_key(sort, keys, criterion)
    if val_key is not None:
        chosen = rank_of(kept, val_key)
        if chosen and chosen[0] in positions:
            row = board[positions[chosen[0]]]
            out.append(f"Selected on {val_key}: {row['name']} ({row['id']}); its {sort} is {_fmt(row[sort])}, "
                       f"rank {positions[chosen[0]] + 1} of {len(board)}.")
    shown = list(doc["columns"][:3])
    shown += [k for k in ("val/loss",) if k not in shown and k != sort and any(k in v.metrics() for v in kept)]
    for key in shown:
        order = rank_of(kept, key)
        if len(order) < 2 or best["id"] not in order or order[0] == best["id"] or order[0] not in positions:
            continue
        mine, theirs = by_id[best["id"]].metrics().get(key), by_id[order[0]].metrics().get(key)
        other = board[positions[order[0]]]
        if is_tie(mine, theirs) or is_tie(other[sort], best[sort]):
            continue  # equal numbers trade nothing off
        judged = [separated(by_id[best["id"]], by_id[order[0]], k) for k in (key, sort)]
        if False in judged:
            continue  # within noise on one of the two metrics: nothing is traded off
        caveat = "" if None not in judged else " (logged values without CIs: not judged against noise)"
        out.append(f"Trade-off{caveat}: the best on {sort} ranks {order.index(best['id']) + 1} of {len(order)} on "
                   f"{key} ({_fmt(mine)}); the best on {key} is {other['name']} ({_fmt(theirs)}), "
                   f"with {sort} {_fmt(other[sort])}.")
    out += _movement(kept, len(set_apart))
    out += _plateaus(doc)
    for f in doc["findings"]:
        if f["kind"] == "constant_metric":
            apart = f" ({len(f['evidence']['set_apart'])} outlier(s) set apart)" if f["evidence"].get("set_apart") else ""
            out.append(f"Plateau: {f['evidence']['metric']} is {_fmt(f['evidence']['value'])} in all "
                       f"{f['evidence']['runs']} runs{apart}; the varied settings "
                       f"({', '.join(f['evidence']['config_keys_that_differ'][:4])}) did not move it.")
    return out


#: Top-1 style metrics whose movement across a sweep is always reported (a sweep that never moves them
#: changed no decision).
MOVEMENT_KEYS = ("test/accuracy", "test/target_top1", "test/macro_f1", "test/top1_accuracy", "test/top1")


def _movement(views: Sequence[RunView], set_apart: int = 0) -> list[str]:
    """Whether the decisions moved at all: the range of each top-1 metric across the runs left once outliers
    are set apart."""
    out = []
    apart = f" (outliers set apart: {set_apart})" if set_apart else ""
    for key in MOVEMENT_KEYS:
        values = [v.metrics()[key] for v in views if key in v.metrics() and math.isfinite(v.metrics()[key])]
        if len(values) < 2:
            continue
        lo, hi = min(values), max(values)
        if is_tie(lo, hi):
            out.append(f"Did not move: {key} is {_fmt(lo)} in all {len(values)} runs{apart}.")
        else:
            out.append(f"Moved: {key} ranges from {_fmt(lo)} to {_fmt(hi)} across {len(values)} runs{apart} "
                       f"({len({round(x, 4) for x in values})} distinct values).")
    return out


def _plateaus(doc: dict[str, Any]) -> list[str]:
    """Groups whose means differ by less than the seed-to-seed spread inside the groups."""
    groups = [g for g in doc["groups"] if doc["sort"] in g["stats"]]
    if len(groups) < 2:
        return []
    means = [g["stats"][doc["sort"]]["mean"] for g in groups]
    stds = [g["stats"][doc["sort"]]["std"] for g in groups if g["stats"][doc["sort"]]["std"] is not None]
    spread = max(means) - min(means)
    if stds and spread <= max(stds):
        return [f"Plateau: across {doc['group_by']} = {', '.join(g['value'] for g in groups)}, the mean {doc['sort']} "
                f"moves by {_fmt(spread)}, less than the spread between runs of one setting (largest std "
                f"{_fmt(max(stds))})."]
    best = groups[0]
    if is_tie(means[0], means[1] if len(means) > 1 else None):
        return [f"By {doc['group_by']}: {best['value']} and {groups[1]['value']} are tied on mean {doc['sort']} "
                f"({_fmt(means[0])})."]
    return [f"By {doc['group_by']}: {best['value']} leads with mean {doc['sort']} {_fmt(best['stats'][doc['sort']]['mean'])} "
            f"over {best['n']} run(s); the group means span {_fmt(spread)}."]
