"""The read-only queries behind listings of runs (`runcard runs`, `runcard ui`): a page of run ids, counts per
project and per tag, a version that moves when a listing would, and every run's flat values as `RunListing`
records. Functions over an open connection; `SqlStore` opens it (with its retries and error naming) and calls
them. Each reads only the columns a listing shows, one SELECT per table, never a query per run.
"""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import Connection, and_, func, select, true

from runcard.store import schema
from runcard.store.runs import Artifact, RunListing, current_scores, resolve_settings, scores_by_run, summaries_by_run


def page_runs(conn: Connection, *, project: str | None = None, status: str | None = None, text: str | None = None,
              order_by: str = "created_at", descending: bool = True, offset: int = 0,
              limit: int = 50) -> tuple[int, list[str]]:
    """(how many runs match, the ids of one page of them): ``text`` is a case-insensitive part of the
    name or the start of the id; ``order_by`` one of created_at, name, status, duration."""
    r = schema.runs
    where = [r.c.project == project] if project is not None else []
    if status is not None:
        where.append(r.c.status == status)
    if text:
        like = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append(func.lower(r.c.name).like(f"%{like}%", escape="\\") | r.c.id.like(f"{like}%", escape="\\"))
    column = {"created_at": r.c.created_at, "name": r.c.name, "status": r.c.status,
              "duration": func.coalesce(r.c.ended_at, time.time()) - r.c.created_at}[order_by]
    order = [column.desc() if descending else column.asc(), r.c.id.desc() if descending else r.c.id.asc()]
    total = conn.execute(select(func.count()).select_from(r).where(and_(true(), *where))).scalar_one()
    ids = conn.execute(select(r.c.id).where(and_(true(), *where)).order_by(*order)
                       .offset(offset).limit(limit)).scalars().all()
    return int(total), list(ids)


def project_counts(conn: Connection) -> dict[str, int]:
    """Project -> how many runs it has."""
    r = schema.runs
    rows = conn.execute(select(r.c.project, func.count()).group_by(r.c.project)).all()
    return {row[0]: int(row[1]) for row in rows}


def tag_counts(conn: Connection, key: str, project: str | None = None) -> dict[str, int]:
    """Value of the tag ``key`` (e.g. ``sweep``) -> how many runs (of ``project``) carry it."""
    r = schema.runs
    texts = conn.execute(select(r.c.tags).where(true() if project is None else r.c.project == project,
                                                r.c.tags.like(f"%{json.dumps(key)}%"))).scalars().all()
    counts: dict[str, int] = {}
    for text in texts:
        value = json.loads(text).get(key)
        if value is not None:
            counts[value] = counts.get(value, 0) + 1
    return counts


def listing_version(conn: Connection) -> tuple[Any, ...]:
    """A value that changes whenever a listing of the runs would: runs added, ended or beating, points
    logged, predictions or evaluations stored (a few aggregate queries)."""
    r, s = schema.runs, schema.summary
    runs = conn.execute(select(func.count(), func.max(r.c.created_at), func.sum(r.c.ended_at),
                               func.sum(r.c.heartbeat_at), func.count(r.c.ended_at))).one()
    points = conn.execute(select(func.count(), func.sum(s.c.seq))).one()
    arts = conn.execute(select(func.count()).select_from(schema.artifacts)).scalar_one()
    recs = conn.execute(select(func.count()).select_from(schema.records)).scalar_one()
    return (*runs, *points, arts, recs)


def run_listings(conn: Connection, project: str | None = None) -> list[RunListing]:
    """Every run (of ``project``), oldest first, with its flat values: the latest logged ones and the scores
    of its stored evaluations (`Run.summary`, `Run.evaluated`), read from the flat scores, never from the
    evaluations themselves."""
    r, a, rec, s = schema.runs, schema.artifacts, schema.records, schema.summary
    mine = select(r.c.id).where(r.c.project == project) if project is not None else None
    rows = conn.execute(select(r.c.id, r.c.project, r.c.name, r.c.status, r.c.config, r.c.tags, r.c.created_at,
                               r.c.ended_at, r.c.eval_settings)
                        .where(true() if mine is None else r.c.project == project)
                        .order_by(r.c.created_at, r.c.id)).all()
    arts = conn.execute(select(a.c.run_id, a.c.sha256, a.c.meta).where(
        a.c.kind == "predictions", true() if mine is None else a.c.run_id.in_(mine))
        .order_by(a.c.run_id, a.c.position)).all()
    recs = conn.execute(select(rec.c.run_id, rec.c.key, rec.c.inputs, rec.c.settings, rec.c.scores).where(
        rec.c.kind == "evaluation", true() if mine is None else rec.c.run_id.in_(mine))).all()
    sums = conn.execute(select(s.c.run_id, s.c.key, s.c.value).where(
        true() if mine is None else s.c.run_id.in_(mine))).all()
    preds: dict[str, list[Artifact]] = {}
    for run_id, sha256, meta in arts:  # unpacked: a Row's attributes cost 10,000 runs 50 ms
        preds.setdefault(run_id, []).append(Artifact("", "predictions", sha256, 0, "", 0.0, json.loads(meta)))
    scores, summaries = scores_by_run(recs), summaries_by_run(sums)
    out = []
    for run_id, project_name, name, status, config_json, tags, created_at, ended_at, settings_json in rows:
        evaluated = {}
        if run_id in scores:  # the evaluation settings are resolved only for runs with evaluations
            settings = None if settings_json is None else json.loads(settings_json)
            key = resolve_settings(settings, json.loads(config_json)).key
            evaluated = current_scores(preds.get(run_id, []), key, scores[run_id])
        out.append(RunListing(run_id, project_name, name, status, config_json, tags, created_at, ended_at,
                              summaries.get(run_id, {}), evaluated))
    return out
