"""The leaderboard of many runs (a sweep) as data: sorted, grouped, outliers set apart, takeaways derived.

Every takeaway is a sentence built from the numbers in the table; none is written by hand.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

from runcard._version import __version__
from runcard.errors import InputError
from runcard.findings import RunView, group_findings, validation_pairs
from runcard.findings.comparison import config_differences, flatten_config, rank_of
from runcard.metrics.directions import direction, is_counter

#: Preferred sort metrics, in order, when none is given.
DEFAULT_SORT = ("test/macro_f1", "test/accuracy", "test/kl", "val/macro_f1", "val/accuracy", "val/loss",
                "eval_loss", "test/loss")
#: Metric columns shown beside the sort metric.
MAX_COLUMNS = 6
#: Training internals never shown as leaderboard columns (the loss terms of a composite loss).
INTERNAL_PREFIXES = ("loss_terms/",)


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


def build_summary(views: Sequence[RunView], *, source: str, sort: str | None = None, group_by: str | None = None,
                  criterion: tuple[str, str] | None = None) -> dict[str, Any]:
    """Leaderboard, groups, takeaways and findings of ``views``."""
    if not views:
        raise InputError(f"{source}: no runs to summarise.")
    sort = sort or choose_sort(views)
    if not any(sort in v.metrics() for v in views):
        known = sorted({k for v in views for k in v.metrics()})[:20]
        raise InputError(f"--sort {sort!r}: no run has this metric; metrics found: {known}.")
    findings = group_findings(views, criterion=criterion)
    set_apart = {r for f in findings if f.kind == "outlier_run" for r in f.runs}
    counts = Counter(k for v in views for k in v.metrics() if direction(k) is not None and not is_counter(k)
                     and not k.startswith(INTERNAL_PREFIXES))
    columns = [k for k, _ in counts.most_common() if k != sort][:MAX_COLUMNS]
    ranked = [r for r in rank_of(views, sort) if r not in set_apart]
    by_id = {v.id: v for v in views}

    settings = setting_labels(views) if group_by == "config" else {}

    def row(view: RunView, rank: int | None) -> dict[str, Any]:
        m = view.metrics()
        return {"rank": rank, "id": view.id, "name": view.name, "status": view.status, sort: m.get(sort),
                **{c: m.get(c) for c in columns},
                **({"group": _group_label(view, group_by, settings)} if group_by else {})}

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
        for metric in [sort, *columns]:
            values = [v.metrics()[metric] for v in group if metric in v.metrics() and math.isfinite(v.metrics()[metric])]
            if values:
                mean, std = _mean_std(values)
                stats[metric] = {"mean": mean, "std": std, "n": len(values)}
        out.append({"value": label, "runs": [v.id for v in group], "n": len(group), "stats": stats})
    lower = direction(sort) == "lower"
    missing = math.inf if lower else -math.inf
    out.sort(key=lambda g: g["stats"][sort]["mean"] if sort in g["stats"] else missing, reverse=not lower)
    return out


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def _takeaways(doc: dict[str, Any], views: Sequence[RunView], set_apart: set[str],
               criterion: tuple[str, str] | None) -> list[str]:
    sort, board = doc["sort"], doc["leaderboard"]
    out: list[str] = []
    if not board:
        return ["No run has the sort metric outside the runs set apart."]
    best = board[0]
    out.append(f"Best on {sort}: {best['name']} ({best['id']}) with {_fmt(best[sort])} "
               f"({'lower' if doc['direction'] == 'lower' else 'higher'} is better), out of {len(board)} ranked runs.")
    if set_apart:
        out.append(f"{len(set_apart)} run(s) set apart as outliers and left out of the ranking: {', '.join(sorted(set_apart))}.")
    kept = [v for v in views if v.id not in set_apart]
    by_id = {v.id: v for v in views}
    keys = set.intersection(*(set(v.metrics()) for v in kept)) if kept else set()
    pairs = [criterion] if criterion else validation_pairs(sorted(keys))
    val_keys = [p[0] for p in pairs] or [k for k in sorted(keys) if k.startswith(("val/", "val_", "eval_")) and direction(k)]
    positions = {row["id"]: i for i, row in enumerate(board)}
    for val_key in val_keys[:1]:
        chosen = rank_of(kept, val_key)
        if chosen and chosen[0] in positions:
            row = board[positions[chosen[0]]]
            out.append(f"Selected on {val_key}: {row['name']} ({row['id']}); its {sort} is {_fmt(row[sort])}, "
                       f"rank {positions[chosen[0]] + 1} of {len(board)}.")
    shown = list(doc["columns"][:3])
    shown += [k for k in ("val/loss",) if k not in shown and k != sort and any(k in v.metrics() for v in kept)]
    for metric in shown:
        order = rank_of(kept, metric)
        if len(order) < 2 or best["id"] not in order or order[0] == best["id"]:
            continue
        other = next(r for r in board if r["id"] == order[0]) if order[0] in positions else None
        if other is not None:
            mine, theirs = by_id[best["id"]].metrics().get(metric), by_id[other["id"]].metrics().get(metric)
            out.append(f"Trade-off: the best on {sort} ranks {order.index(best['id']) + 1} of {len(order)} on {metric} "
                       f"({_fmt(mine)}); the best on {metric} is {other['name']} ({_fmt(theirs)}), "
                       f"with {sort} {_fmt(other[sort])}.")
    out += _movement(kept)
    out += _plateaus(doc)
    for f in doc["findings"]:
        if f["kind"] == "constant_metric":
            out.append(f"Plateau: {f['evidence']['metric']} is {_fmt(f['evidence']['value'])} in every run; the varied "
                       f"settings ({', '.join(f['evidence']['config_keys_that_differ'][:4])}) did not move it.")
    return out


#: Top-1 style metrics whose movement across a sweep is always reported (a sweep that never moves them
#: changed no decision).
MOVEMENT_KEYS = ("test/accuracy", "test/target_top1", "test/macro_f1", "test/top1_accuracy")


def _movement(views: Sequence[RunView]) -> list[str]:
    """Whether the decisions moved at all: the range of each top-1 metric across the runs."""
    out = []
    for key in MOVEMENT_KEYS:
        values = [v.metrics()[key] for v in views if key in v.metrics() and math.isfinite(v.metrics()[key])]
        if len(values) < 2:
            continue
        lo, hi = min(values), max(values)
        if round(lo, 4) == round(hi, 4):
            out.append(f"Did not move: {key} is {lo:.4f} in all {len(values)} runs.")
        else:
            out.append(f"Moved: {key} ranges from {lo:.4f} to {hi:.4f} across {len(values)} runs "
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
                f"moves by {spread:.4g}, less than the spread between runs of one setting (largest std {max(stds):.4g})."]
    best = groups[0]
    return [f"By {doc['group_by']}: {best['value']} leads with mean {doc['sort']} {best['stats'][doc['sort']]['mean']:.4g} "
            f"over {best['n']} run(s); the group means span {spread:.4g}."]
