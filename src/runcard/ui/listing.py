"""The runs table as data: one page of a project's runs, filtered, sorted and (optionally) grouped.

Two ways to a page, both answering only what the page shows:

- sorted by a column of the runs themselves (start, name, status, duration) and filtered by text or status: the
  store counts the matches and returns the page's ids (`SqlStore.page_runs`, LIMIT/OFFSET in SQL); only those
  runs are read.
- sorted by a metric, filtered by a tag or a config value, or grouped: every run's *flat* values (the latest
  logged values and the flat scores of its stored evaluations, `SqlStore.run_listings`), kept in memory until
  the store changes, are filtered and sorted; then only the page's runs are read.

Either way the page's CIs come from those runs' stored evaluations, and their findings are counted per run (and
kept). A group is the runs with one value of a config key, with the mean and standard deviation of each shown
metric over them, as `runcard summary --group-by` writes them.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from runcard.findings import RunView
from runcard.metrics.directions import direction
from runcard.report.numbers import config_value as written
from runcard.report.summary import choose_sort, config_value, default_columns
from runcard.store import Run
from runcard.store.evaluations import EVALUATION, stored_evaluation
from runcard.store.runs import STATUSES, RunListing, latest_predictions, seconds_taken
from runcard.ui.source import BadRequest, UiStore

#: Columns of the runs themselves (sorted by the store), and the run field behind each.
RUN_COLUMNS = {"start": "created_at", "name": "name", "status": "status", "duration": "duration"}
PER_PAGE = 50
MAX_PER_PAGE = 500
#: Shown group members per group (the rest are counted).
GROUP_MEMBERS = 12


@dataclass(frozen=True)
class RunsQuery:
    """What the runs table is asked for (the URL's query string)."""

    project: str | None = None
    text: str = ""
    status: str | None = None
    tags: tuple[tuple[str, str], ...] = ()
    config: tuple[tuple[str, str], ...] = ()
    sort: str = "start"
    order: str | None = None  # "asc" / "desc"; None: the column's natural order
    group: str | None = None
    page: int = 1
    per_page: int = PER_PAGE
    findings: bool = False  # count findings of runs not counted yet (else they come by /api/findings)
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def descending(self) -> bool:
        if self.order is not None:
            return self.order == "desc"
        if self.sort in RUN_COLUMNS:
            return self.sort in ("start", "duration")
        return direction(self.sort) != "lower"

    @property
    def in_sql(self) -> bool:
        """Whether the store can sort, filter and page this query by itself."""
        return self.sort in RUN_COLUMNS and not self.tags and not self.config and not self.group


def _pair(value: str, what: str) -> tuple[str, str]:
    key, sep, val = value.partition("=")
    if not sep or not key.strip():
        raise BadRequest(f"{what} {value!r}: write KEY=VALUE, e.g. {'lr=1e-05' if what == 'config' else 'sweep=s1'}.")
    return key.strip(), val.strip()


def parse_query(params: Mapping[str, str], multi: Mapping[str, list[str]]) -> RunsQuery:
    """A `RunsQuery` from query parameters: ``q`` (text; ``config.KEY=VALUE``, ``tag.KEY=VALUE`` and
    ``status:S`` tokens in it filter too), ``status``, ``tag`` and ``config`` (KEY=VALUE, repeatable), ``sort``,
    ``order``, ``group``, ``page``, ``per_page``, ``project``, ``findings``."""
    words: list[str] = []
    tags = [_pair(v, "tag") for value in multi.get("tag", []) for v in value.split()]
    config = [_pair(v, "config") for value in multi.get("config", []) for v in value.split()]
    status = params.get("status") or None
    for token in (params.get("q") or "").split():
        if token.startswith("config.") and "=" in token:
            config.append(_pair(token[len("config."):], "config"))
        elif token.startswith(("tag.", "tag:")) and "=" in token:
            tags.append(_pair(token[4:], "tag"))
        elif token.startswith("status:"):
            status = token[len("status:"):]
        else:
            words.append(token)
    if status is not None and status not in STATUSES:
        raise BadRequest(f"status {status!r}: expected one of {', '.join(STATUSES)}.")
    order = params.get("order") or None
    if order not in (None, "asc", "desc"):
        raise BadRequest(f"order {order!r}: expected asc or desc.")
    try:
        page = int(params.get("page") or 1)
        per_page = int(params.get("per_page") or PER_PAGE)
    except ValueError:
        raise BadRequest("page and per_page are whole numbers (page=2&per_page=50).") from None
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise BadRequest(f"page starts at 1 and per_page is 1 to {MAX_PER_PAGE}; got page={page}, per_page={per_page}.")
    return RunsQuery(project=params.get("project") or None, text=" ".join(words), status=status,
                     tags=tuple(tags), config=tuple(config), sort=params.get("sort") or "start", order=order,
                     group=params.get("group") or None, page=page, per_page=per_page,
                     findings=params.get("findings") in ("1", "true", "yes"))


def _matches_value(value: Any, wanted: str) -> bool:
    """A config value against the text of a filter: equal as written (``1e-05``), or as numbers."""
    if value is None:
        return wanted in ("", "none", "null")
    if written(value) == wanted or (isinstance(value, str) and value == wanted):
        return True
    if isinstance(value, bool):
        return wanted.lower() == str(value).lower()
    if isinstance(value, (int, float)):
        try:
            return math.isclose(float(value), float(wanted), rel_tol=1e-12, abs_tol=0.0)
        except ValueError:
            return False
    return False


def _keep(row: RunListing, query: RunsQuery) -> bool:
    if query.status is not None and row.status != query.status:
        return False
    if query.text:
        needle = query.text.lower()
        if needle not in row.name.lower() and not row.id.startswith(needle):
            return False
    if any(row.tags.get(k) != v for k, v in query.tags):
        return False
    return all(_matches_value(config_value(row.config, k), v) for k, v in query.config)


def _sort_key(row: RunListing, sort: str, now: float) -> Any:
    if sort == "start":
        return row.created_at
    if sort == "name":
        return row.name.lower()
    if sort == "status":
        return row.status
    if sort == "duration":
        return (row.ended_at if row.ended_at is not None else now) - row.created_at
    return row.values.get(sort)


def _ordered(rows: list[RunListing], query: RunsQuery) -> list[RunListing]:
    """Sorted by the query's column; runs without the metric (or with a non-finite value) last either way."""
    now = time.time()
    present: list[tuple[Any, RunListing]] = []
    absent: list[RunListing] = []
    for row in rows:
        key = _sort_key(row, query.sort, now)
        if key is None or (isinstance(key, float) and not math.isfinite(key)):
            absent.append(row)
        else:
            present.append((key, row))
    present.sort(key=lambda kr: (kr[0], kr[1].id), reverse=query.descending)
    return [r for _, r in present] + absent


def _label(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def group_rows(rows: Sequence[RunListing], key: str, metrics: Sequence[str], sort: str) -> list[dict[str, Any]]:
    """The runs by their value of config ``key``: count, members, and per metric mean, standard deviation (of
    the group's runs, n - 1) and n, as the summary's groups; best mean of ``sort`` first."""
    members: dict[str, list[RunListing]] = {}
    for row in rows:
        members.setdefault(_label(config_value(row.config, key)), []).append(row)
    out: list[dict[str, Any]] = []
    for label, group in members.items():
        stats: dict[str, dict[str, Any]] = {}
        for name in metrics:
            values = [v for r in group if isinstance(v := r.values.get(name), float | int) and math.isfinite(v)]
            if values:
                stats[name] = {"mean": statistics.fmean(values),
                               "std": statistics.stdev(values) if len(values) > 1 else None, "n": len(values)}
        out.append({"value": label, "n": len(group), "runs": [r.id for r in group[:GROUP_MEMBERS]], "stats": stats})
    lower = direction(sort) == "lower"
    missing = math.inf if lower else -math.inf
    out.sort(key=lambda g: g["stats"][sort]["mean"] if sort in g["stats"] else missing, reverse=not lower)
    return out


def _columns(values: Sequence[tuple[str, Mapping[str, float]]], sort: str) -> tuple[str, list[str]]:
    """The metric the table leads with and up to six more, chosen as the summary chooses its columns."""
    views = [RunView(id=i, name=i, summary=v) for i, v in values if v]
    if not views:
        return (sort if sort not in RUN_COLUMNS else ""), []
    lead = sort if sort not in RUN_COLUMNS else choose_sort(views) if _has_direction(views) else ""
    columns = default_columns(views, lead) if lead else []
    return lead, columns


def _has_direction(views: Sequence[RunView]) -> bool:
    return any(direction(k) is not None for v in views for k in v.summary)


def _intervals(ui: UiStore, runs: Sequence[Run]) -> dict[str, dict[str, list[float]]]:
    """Run id -> ``<split>/<metric>`` -> the 95 % CI of its stored evaluations (one query for the page; an
    evaluation not stored yet is computed as every document computes it)."""
    store = ui.get()
    records = store.records_of([r.id for r in runs], EVALUATION)
    out: dict[str, dict[str, list[float]]] = {}
    for run in runs:
        own = {(rec.key, rec.inputs, rec.settings): rec for rec in records[run.id]}
        cis: dict[str, list[float]] = {}
        for key, art in latest_predictions(run.artifacts).items():
            rec = own.get((key, art.sha256, run.settings.key))
            found = json.loads(rec.payload)["ci95"] if rec is not None else stored_evaluation(store, run, key).ci95
            cis.update({f"{key}/{m}": [float(lo), float(hi)] for m, (lo, hi) in (found or {}).items()})
        out[run.id] = cis
    return out


def runs_page(ui: UiStore, query: RunsQuery) -> dict[str, Any]:
    """The document of one page of the runs table (the JSON of ``/api/runs``; the HTML page renders it)."""
    store = ui.get()
    offset = (query.page - 1) * query.per_page
    groups = None
    ordered: list[RunListing] = []
    all_values: list[tuple[str, Mapping[str, float]]] = []
    if query.in_sql:
        total, ids = store.page_runs(project=query.project, status=query.status, text=query.text or None,
                                     order_by=RUN_COLUMNS[query.sort], descending=query.descending, offset=offset,
                                     limit=query.per_page)
    else:
        listed = [r for r in ui.listings(query.project) if _keep(r, query)]
        if query.sort not in RUN_COLUMNS and listed and not any(query.sort in r.values for r in listed):
            known = sorted({k for r in listed[:200] for k in r.values})[:20]
            raise BadRequest(f"sort {query.sort!r}: no run here has this metric; metrics found: {known}.")
        ordered = _ordered(listed, query)
        total = len(ordered)
        ids = [r.id for r in ordered[offset:offset + query.per_page]]
        all_values = [(r.id, r.values) for r in ordered[:500]]
    runs = ui.runs(ids)
    lead, columns = _columns(all_values or [(r.id, {**r.summary, **r.evaluated}) for r in runs], query.sort)
    if query.group:
        metrics = [m for m in dict.fromkeys([lead, *columns]) if m]
        groups = {"by": query.group, "groups": group_rows(ordered, query.group, metrics, lead or query.sort)}
    counts = ui.findings_counts(runs, compute=query.findings)
    intervals = _intervals(ui, runs)
    rows = []
    for run in runs:
        values = {**run.summary, **run.evaluated}
        rows.append({"id": run.id, "name": run.name, "project": run.project, "status": ui.status(run),
                     "created_at": run.created_at, "ended_at": run.ended_at, "duration": seconds_taken(run),
                     "tags": dict(run.tags), "values": {k: values.get(k) for k in [lead, *columns] if k},
                     "ci95": {k: v for k, v in intervals[run.id].items() if k == lead or k in columns},
                     "findings": counts.get(run.id)})
    return {"kind": "runs", "store": ui.where, "project": query.project, "total": total, "page": query.page,
            "per_page": query.per_page, "pages": max(1, math.ceil(total / query.per_page)), "sort": query.sort,
            "order": "desc" if query.descending else "asc", "lead": lead, "columns": columns,
            "filters": {"text": query.text, "status": query.status, "tags": dict(query.tags),
                        "config": dict(query.config)},
            "group": groups, "rows": rows}
