"""The UI's pages as HTML: the data first (every page reads fully with curl), `/static/app.js` as enhancement.

Every value is escaped here (`html.escape`, quotes included) or by the report renderers; no page carries an
inline script or style, so the Content-Security-Policy allows the app's own files only.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any
from urllib.parse import urlencode

from runcard.report import svg
from runcard.report.numbers import config_value, interval, metric
from runcard.store import Run

STATUS_CLASS = {"running": "running", "finished": "finished", "failed": "failed", "crashed": "crashed"}


def e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def layout(title: str, main: str, *, store: str, nav: str = "", scripts: Sequence[str] = ()) -> str:
    """A complete page: the report stylesheet, the app's own, and its scripts (files served by the app)."""
    tags = "".join(f'<script src="/static/{e(name)}" defer></script>' for name in ("app.js", *scripts))
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width, initial-scale=1"><title>{e(title)}</title>'
            '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">'
            '<link rel="stylesheet" href="/static/report.css"><link rel="stylesheet" href="/static/app.css">'
            f'{tags}</head><body class="ui"><header class="top"><a class="home" href="/">runcard</a>'
            f'<span class="muted">store {e(store)}</span>{nav}</header><main>{main}</main></body></html>\n')


def when(ts: float | None) -> str:
    return "—" if ts is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def _stamp(ts: float | None) -> str:
    """A start time as date over time (keeps the runs table narrow)."""
    day, _, clock = when(ts).partition(" ")
    return e(day) + (f"<br>{e(clock)}" if clock else "")


def took(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds:.1f}s" if seconds < 120 else f"{seconds / 60:.1f}m" if seconds < 7200 else f"{seconds / 3600:.1f}h"


def status_badge(status: str, run_id: str | None = None) -> str:
    live = f' data-live-run="{e(run_id)}"' if run_id and status == "running" else ""
    return f'<span class="status {STATUS_CLASS.get(status, "")}"{live}>{e(status)}</span>'


def findings_badge(counts: Mapping[str, int] | None, run_id: str) -> str:
    if counts is None:
        return f'<span class="findings pending" data-findings-run="{e(run_id)}">…</span>'
    parts = [f'<span class="badge {sev}" title="{label}">{counts[sev]}</span>'
             for sev, label in (("error", "errors"), ("warning", "warnings")) if counts.get(sev)]
    return f'<span class="findings">{"".join(parts) or "<span class=muted>none</span>"}</span>'


def error_page(status: int, message: str, store: str) -> str:
    main = (f'<section class="error-page"><h1>{status}: {e(_REASON.get(status, "error"))}</h1>'
            f'<p class="message">{e(message)}</p><p><a href="/">back to the runs</a></p></section>')
    return layout(f"{status}: {message[:60]}", main, store=store)


_REASON = {400: "bad request", 401: "token needed", 403: "forbidden", 404: "not found", 405: "read-only",
           500: "internal error"}


# -- the runs table -------------------------------------------------------------------------------

def _link(params: Mapping[str, Any], **changes: Any) -> str:
    merged = {k: v for k, v in {**params, **changes}.items() if v not in (None, "", [])}
    pairs = [(k, item) for k, v in merged.items() for item in (v if isinstance(v, list) else [v])]
    return "/runs?" + urlencode(pairs)


def _filter_form(doc: Mapping[str, Any], params: Mapping[str, Any]) -> str:
    f = doc["filters"]
    status = "".join(f'<option value="{s}"{" selected" if f["status"] == s else ""}>{s or "any"}</option>'
                     for s in ("", "running", "finished", "failed", "crashed"))
    hidden = "".join(f'<input type="hidden" name="{k}" value="{e(params[k])}">' for k in ("project", "sort", "order")
                     if params.get(k))
    tag = " ".join(f"{k}={v}" for k, v in f["tags"].items())
    config = " ".join(f"{k}={v}" for k, v in f["config"].items())
    return (f'<form class="filters" method="get" action="/runs">{hidden}'
            f'<label>text <input name="q" value="{e(f["text"])}" placeholder="name or id"></label>'
            f'<label>status <select name="status">{status}</select></label>'
            f'<label>tag <input name="tag" value="{e(tag)}" placeholder="sweep=s1"></label>'
            f'<label>config <input name="config" value="{e(config)}" placeholder="lr=1e-05"></label>'
            f'<label>group by <input name="group" value="{e(params.get("group"))}" placeholder="regulariser"></label>'
            '<button type="submit">Apply</button></form>')


def _header_cell(label: str, column: str, doc: Mapping[str, Any], params: Mapping[str, Any]) -> str:
    active = doc["sort"] == column
    order = ("asc" if doc["order"] == "desc" else "desc") if active else None
    arrow = (" ▼" if doc["order"] == "desc" else " ▲") if active else ""
    return (f'<th data-sort="{e(column)}"{" class=sorted" if active else ""}>'
            f'<a href="{e(_link(params, sort=column, order=order, page=None))}">{e(label)}{arrow}</a></th>')


def _metric_cell(row: Mapping[str, Any], key: str) -> str:
    value = row["values"].get(key)
    ci = row["ci95"].get(key)
    return (f'<td class="metric" data-value="{e(value)}">{e(metric(value, key))}'
            + (f'<span class="ci">{e(interval(ci))}</span>' if ci else "") + "</td>")


def runs_table(doc: Mapping[str, Any], params: Mapping[str, Any]) -> str:
    """The table of one page of runs inside the compare form (tick runs, then Compare)."""
    metrics = [k for k in [doc["lead"], *doc["columns"]] if k]
    head = ('<th class="tick" title="tick two or more runs, then Compare"><span class="muted">pick</span></th>'
            + "".join(_header_cell(lbl, col, doc, params) for lbl, col in
                      (("status", "status"), ("name", "name"), ("start", "start"), ("duration", "duration")))
            + '<th title="errors / warnings among the run\'s own findings">findings</th>'
            + "".join(_header_cell(m, m, doc, params) for m in metrics))
    body = []
    for row in doc["rows"]:
        body.append(f'<tr data-run="{e(row["id"])}"><td class="tick"><input type="checkbox" name="runs" '
                    f'value="{e(row["id"])}" aria-label="compare {e(row["name"])}"></td>'
                    f'<td>{status_badge(row["status"], row["id"])}</td>'
                    f'<td class="name"><a href="/runs/{e(row["id"])}">{e(row["name"])}</a> '
                    f'<code class="muted">{e(row["id"])}</code></td><td class="start">{_stamp(row["created_at"])}</td>'
                    f'<td>{e(took(row["duration"]))}</td><td>{findings_badge(row["findings"], row["id"])}</td>'
                    + "".join(_metric_cell(row, m) for m in metrics) + "</tr>")
    empty = "" if body else f'<tr><td colspan="{6 + len(metrics)}">No run matches.</td></tr>'
    return (f'<form method="get" action="/compare" id="compare-form"><div class="compare-bar">'
            '<button type="submit" id="compare-button">Compare ticked runs</button> <span class="muted">the first '
            'ticked is the baseline A</span></div><div class="scroll"><table class="runs"><thead><tr>'
            f'{head}</tr></thead><tbody>{"".join(body)}{empty}</tbody></table></div></form>')


def _pager(doc: Mapping[str, Any], params: Mapping[str, Any]) -> str:
    page, pages = doc["page"], doc["pages"]
    links = []
    for label, target in (("« first", 1), ("‹ previous", page - 1), ("next ›", page + 1), ("last »", pages)):
        if 1 <= target <= pages and target != page:
            links.append(f'<a href="{e(_link(params, page=target))}">{label}</a>')
    return (f'<nav class="pager">page {page:,} of {pages:,} ({doc["total"]:,} runs, {doc["per_page"]} a page) '
            + " ".join(links) + "</nav>")


def _groups(doc: Mapping[str, Any], params: Mapping[str, Any]) -> str:
    group = doc["group"]
    if not group:
        return ""
    metrics = [k for k in [doc["lead"], *doc["columns"]] if k]

    def stat(s: Mapping[str, Any] | None, runs: int) -> str:
        """mean ± std, and over how many runs when not all of the group's have the metric."""
        if not s:
            return "—"
        spread = "" if s["std"] is None else f" ± {e(metric(s['std']))}"
        over = "" if s["n"] == runs else f' <span class="n">n={s["n"]:,}</span>'
        return f'{e(metric(s["mean"]))}{spread}{over}'

    by = group["by"]
    rows = "".join(f'<tr><td><a href="{e(_link(params, group=None, config=by + "=" + g["value"], page=None))}">'
                   f'{e(g["value"])}</a></td><td>{g["n"]:,}</td>'
                   + "".join(f"<td>{stat(g['stats'].get(m), g['n'])}</td>" for m in metrics) + "</tr>"
                   for g in group["groups"])
    head = f"<th>{e(group['by'])}</th><th>runs</th>" + "".join(f"<th>{e(m)}</th>" for m in metrics)
    return (f'<section id="groups"><h2>By {e(group["by"])}: mean ± std over each group\'s runs</h2>'
            f'<div class="scroll"><table class="groups"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'
            '</div><p class="muted">Over every run that matches the filter (the sweep page sets outliers apart '
            'first, as <code>runcard summary --group-by</code> does). A value opens its runs; n is shown where '
            'fewer of them have the metric.</p></section>')


def runs_page(doc: Mapping[str, Any], params: Mapping[str, Any], projects: Sequence[tuple[str, int]],
              sweeps: Sequence[tuple[str, int]], store: str) -> str:
    project = doc["project"]
    tabs = " ".join(f'<a href="{e(_link({}, project=p))}"{" class=current" if p == project else ""}>{e(p)} '
                    f'<span class="muted">({n:,})</span></a>' for p, n in projects)
    sweep_links = " ".join(f'<a href="/summary?{e(urlencode({"project": project or "", "sweep": s}))}">{e(s)} '
                           f'<span class="muted">({n:,} runs)</span></a>' for s, n in sweeps)
    api = "/api/runs?" + urlencode([(k, v) for k, v in params.items() if isinstance(v, str)])
    main = (f'<h1>Runs{": " + e(project) if project else ""}</h1><nav class="projects">projects: {tabs}</nav>'
            + (f'<nav class="sweeps">sweeps: {sweep_links}</nav>' if sweep_links else "")
            + _filter_form(doc, params) + _groups(doc, params) + _pager(doc, params) + runs_table(doc, params)
            + _pager(doc, params)
            + f'<p class="muted">Values are the runs\' stored evaluations (95 % CI below each), else the latest '
            f'logged value. The same page as JSON: <a href="{e(api)}">{e(api)}</a></p>')
    return layout(f"runcard: runs{' of ' + project if project else ''}", main, store=store)


# -- one run ----------------------------------------------------------------------------------------

def _series_groups(series: Mapping[str, list[tuple[int, float]]]) -> dict[str, dict[str, list[list[float]]]]:
    groups: dict[str, dict[str, list[list[float]]]] = {}
    for key, points in series.items():
        name = "loss" if "loss" in key.lower() else key.rsplit("/", 1)[-1]
        groups.setdefault(name, {})[key] = [[float(s), float(v)] for s, v in points]
    return groups


def series_fragment(series: Mapping[str, list[tuple[int, float]]], run: Run) -> str:
    """Each group of logged series as a line chart, and the latest point of each (refreshed while running)."""
    if not series:
        return '<p class="muted">No metric series logged yet.</p>'
    charts = "".join(svg.line_chart(group, title=name) for name, group in _series_groups(series).items())
    latest = "".join(f'<tr><td>{e(k)}</td><td>{e(pts[-1][0])}</td><td>{e(metric(pts[-1][1], k))}</td>'
                     f'<td>{len(pts):,}</td></tr>' for k, pts in series.items() if pts)
    return (f'<div class="plots">{charts}</div><table class="latest"><thead><tr><th>series</th><th>last step</th>'
            f'<th>last value</th><th>points</th></tr></thead><tbody>{latest}</tbody></table>')


def _artifacts(run: Run) -> str:
    if not run.artifacts:
        return "<p>No artifacts.</p>"
    rows = []
    for art in run.artifacts:
        detail = ""
        if art.kind == "predictions":
            detail = f"split {art.meta.get('split')}, {art.meta.get('n')} rows"
        elif art.meta.get("step") is not None:
            detail = f"step {art.meta['step']}"
        rows.append(f"<tr><td>{e(art.name)}</td><td>{e(art.kind)}</td><td><code>{e(art.sha256)}</code></td>"
                    f"<td>{art.size:,}</td><td>{e(detail)}</td></tr>")
    return ('<div class="scroll"><table class="text"><thead><tr><th>name</th><th>kind</th><th>sha256</th>'
            f'<th>bytes</th><th>detail</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div>')


def _config(run: Run) -> str:
    from runcard.configs import flatten_config

    flat = flatten_config(dict(run.config))
    if not flat:
        return "<p>No config was recorded.</p>"
    rows = "".join(f"<tr><td>{e(k)}</td><td>{e(config_value(v))}</td></tr>" for k, v in flat.items())
    return f'<table class="text"><thead><tr><th>key</th><th>value</th></tr></thead><tbody>{rows}</tbody></table>'


def run_page(run: Run, status: str, card: str, series: Mapping[str, list[tuple[int, float]]], store: str,
             examples: bool) -> str:
    """The run's header (status live), its card, its series, artifacts with hashes, and config."""
    duration = (run.ended_at or time.time()) - run.created_at if run.ended_at or status == "running" else None
    head = (f'<div class="run-head"><h1>{e(run.name)}</h1> {status_badge(status, run.id)} <code>{e(run.id)}</code> '
            f'<span class="muted">{e(run.project)} · started {e(when(run.created_at))} · took '
            f'<span id="run-duration">{e(took(duration))}</span>'
            + (f" · {e(run.host)} pid {e(run.pid)}" if run.host else "")
            + '</span> <nav class="jump"><a href="#series">series</a> <a href="#artifacts">artifacts</a> '
            f'<a href="#run-config">config</a> <a href="/api/runs/{e(run.id)}/card">card JSON</a> '
            f'<a href="/api/runs/{e(run.id)}">run JSON</a></nav></div>')
    live = f' data-run="{e(run.id)}" data-status="{e(status)}"'
    main = (f'<div id="run"{live}>{head}<div class="doc">{card}</div>'
            f'<section id="series"><h2>Series</h2><div id="series-body">{series_fragment(series, run)}</div></section>'
            f'<section id="artifacts"><h2>Artifacts ({len(run.artifacts)})</h2>{_artifacts(run)}</section>'
            f'<section id="run-config"><h2>Config</h2>{_config(run)}</section></div>')
    return layout(f"{run.name} ({run.id}): {status}", main, store=store, scripts=("examples.js",) if examples else ())


# -- documents of several runs ---------------------------------------------------------------------

def compare_page(doc: Mapping[str, Any], body: str, store: str, query: str) -> str:
    names = ", ".join(f"{r['name']} ({r['id']})" for r in doc["runs"])
    links = " ".join(f'<a href="/runs/{e(r["id"])}">{e(r["name"])}</a>' for r in doc["runs"])
    head = (f'<div class="doc-head muted">runs: {links} · this comparison\'s address names its runs: bookmark or '
            f'share it · <a href="/api/compare?{e(query)}">JSON</a></div>')
    return layout(f"Comparison: {names}", head + f'<div class="doc">{body}</div>', store=store)


def summary_page(doc: Mapping[str, Any], body: str, store: str, query: str) -> str:
    head = f'<div class="doc-head muted"><a href="/api/summary?{e(query)}">JSON</a></div>'
    return layout(f"Summary: {doc['source']}", head + f'<div class="doc">{body}</div>', store=store)


def projects_page(projects: Sequence[tuple[str, int]], store: str) -> str:
    rows = "".join(f'<li><a href="{e(_link({}, project=p))}">{e(p)}</a> <span class="muted">({n:,} runs)</span></li>'
                   for p, n in projects)
    main = f"<h1>Projects</h1><ul>{rows}</ul>" if rows else "<h1>No runs yet</h1><p>The store holds no run.</p>"
    return layout("runcard: projects", main, store=store)
