"""Self-contained HTML documents: one file, inline CSS and SVG, no scripts, every user string escaped."""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape
from typing import Any

from runcard.jsonsafe import dumps
from runcard.report import numbers, svg
from runcard.report import rows as R
from runcard.report.card_result import LABELS
from runcard.report.markdown import SEVERITY_MARK, cell
from runcard.report.run_generations import card_generation_lines, card_generation_rows

CSS = """
body{font-family:system-ui,-apple-system,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.8em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}th,td{border:1px solid #ddd;padding:.25em .55em;text-align:right}
th{background:#f6f6f6}td:first-child,th:first-child{text-align:left}code{background:#f4f4f4;padding:0 .25em}
.finding{border-left:5px solid #999;padding:.4em .8em;margin:.6em 0;background:#fafafa}
.error{border-color:#c0392b}.warning{border-color:#e67e22}.info{border-color:#2980b9}
.sev{font-weight:bold;font-size:.8em;letter-spacing:.05em}.muted{color:#666;font-size:.88em}
.plots{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start}details{margin:.3em 0}
.scroll{overflow-x:auto}table.text td{text-align:left}
.result{border:1px solid #ccd;border-radius:6px;padding:.6em 1em;background:#f7f9fc}
.result-entry{margin:.3em 0}.stats{display:flex;flex-wrap:wrap;gap:1.6em}.stat .label{font-size:.85em;color:#555}
.stat .value{font-size:1.9em;font-weight:600;line-height:1.1}.stat .ci{font-size:.85em;color:#555}
.badges{margin:.5em 0 .2em}.badge{display:inline-block;padding:.05em .55em;border-radius:1em;margin-right:.3em;
font-size:.85em;color:#fff;background:#2980b9}.badge.error{background:#c0392b}.badge.warning{background:#d35400}
ul.verdict{margin:.3em 0;padding-left:1.2em;font-size:.92em}ul.verdict.big{font-size:1.05em}summary{cursor:pointer}
li.v-better{color:#1e7b34}li.v-worse{color:#b03a2e}rect.cell{cursor:pointer}rect.cell:hover{stroke:#333}
.cell-rows{margin:.4em 0 1em}table.rows td{max-width:38em;vertical-align:top}
"""


def html_table(headers: Sequence[Any], rows: Sequence[Sequence[Any]], *, text: bool = False) -> str:
    """A table (in a horizontally scrolling box); ``text`` left-aligns every column."""
    head = "".join(f"<th>{escape(cell(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(cell(v))}</td>" for v in row) + "</tr>" for row in rows)
    kind = ' class="text"' if text else ""
    return f'<div class="scroll"><table{kind}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def t(rows: R.Rows) -> str:
    return html_table(*rows)


def page(title: str, sections: list[tuple[str, str, str]], *, script: str = "") -> str:
    """A complete document: ``sections`` are (id, heading, inner HTML); ``script``: inline data and code added
    at the end of the body (the page reads fully without it)."""
    body = "".join(f'<section id="{escape(sid)}"><h2>{escape(heading)}</h2>{inner}</section>'
                   for sid, heading, inner in sections)
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width, initial-scale=1"><title>{escape(title)}</title><style>{CSS}</style>'
            f"</head><body><h1>{escape(title)}</h1>{body}{script}</body></html>\n")


def json_script(element_id: str, payload: Any) -> str:
    """``payload`` as inert JSON inside the page: ``<``, ``>`` and ``&`` escaped, so no text can end the element."""
    text = dumps(payload, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f'<script type="application/json" id="{escape(element_id)}">{text}</script>'


#: The examples browser: a click on a confusion-matrix cell lists its rows. Texts go in with textContent only.
EXAMPLES_JS = """<script>(function(){
var node=document.getElementById("runcard-examples");if(!node)return;var data=JSON.parse(node.textContent);
var keys=Object.keys(data.splits);var COLS=[["text","text"],["id","id"],["true","true"],["predicted","predicted"],
["confidence","confidence"],["p_true","p(true class)"]];
function fmt(v){if(v===null||v===undefined)return"\u2014";return typeof v==="number"?v.toFixed(4):String(v);}
function table(rows){var t=document.createElement("table");t.className="text rows";var h=t.createTHead().insertRow();
COLS.forEach(function(c){var th=document.createElement("th");th.textContent=c[1];h.appendChild(th);});
var b=t.createTBody();rows.forEach(function(r){var tr=b.insertRow();COLS.forEach(function(c){var td=tr.insertCell();
if(c[0]==="text"&&r.full){var d=document.createElement("details"),s=document.createElement("summary"),f=document.createElement("div");
s.textContent=fmt(r.text)+"\u2026";f.textContent=r.full;d.appendChild(s);d.appendChild(f);td.appendChild(d);}
else{td.textContent=fmt(r[c[0]]);}});});return t;}
function show(el){var p=el.getAttribute("data-cell").split(":");var ex=data.splits[keys[+p[0]]];if(!ex)return;
var cell=ex.cells[p[1]+":"+p[2]];var panel=document.getElementById("cell-rows-"+p[0]);panel.textContent="";
var head=document.createElement("p");var n=cell?cell.count:0;head.textContent="true "+ex.classes[+p[1]]+", predicted "+
ex.classes[+p[2]]+": "+n+" rows"+(cell&&cell.rows.length<n?"; the "+cell.rows.length+" most confident shown":"")+
(cell?"":"; none kept (off: --examples 0, or beyond the card's bound)");panel.appendChild(head);
if(cell)panel.appendChild(table(cell.rows));panel.scrollIntoView({block:"nearest"});}
document.querySelectorAll("[data-cell]").forEach(function(el){el.addEventListener("click",function(){show(el);});});
})();</script>"""


def rows_table(rows: list[dict[str, Any]], columns: Sequence[tuple[str, str]]) -> str:
    """Example rows as a static table (texts cut; the whole text, when kept, behind a details element)."""
    head = "".join(f"<th>{escape(label)}</th>" for _, label in columns)
    body = []
    for r in rows:
        cells = []
        for key, _ in columns:
            value = r.get(key)
            if key == "text" and r.get("full"):
                cells.append(f"<td><details><summary>{escape(str(value))}…</summary>{escape(r['full'])}</details></td>")
            else:
                cells.append(f"<td>{escape(numbers.metric(value) if isinstance(value, float) else cell(value))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<div class="scroll"><table class="text rows"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


ROW_COLUMNS = (("text", "text"), ("id", "id"), ("true", "true"), ("predicted", "predicted"),
               ("confidence", "confidence"), ("p_true", "p(true class)"))
LABEL_COLUMNS = (("text", "text"), ("id", "id"), ("given", "given label"), ("suggested", "the model suggests"),
                 ("self_confidence", "p(given label)"))
SHARED_COLUMNS = (("text", "text"), ("a_id", "id in the first split"), ("a_true", "its label"),
                  ("b_id", "id in the second"), ("b_true", "its label"), ("b_predicted", "predicted there"))


def findings_html(findings: list[dict[str, Any]], examples: dict[str, Any] | None = None) -> str:
    if not findings:
        return "<p>No findings: every rule ran and none fired.</p>"
    out = []
    for f in findings:
        scope = R.finding_scope(f)
        out.append(
            f'<div class="finding {escape(f["severity"])}"><span class="sev">{SEVERITY_MARK[f["severity"]]}</span> '
            f'<code>{escape(f["kind"])}</code> {escape(f["title"])}'
            + (f' <span class="muted">({escape(scope)})</span>' if scope else "")
            + f'<br><span class="muted">advice:</span> {escape(f["advice"])}'
            f'<details><summary class="muted">evidence</summary><pre>{escape(json.dumps(f["evidence"], indent=1, default=str))}'
            f"</pre></details>{_finding_examples(f, examples)}</div>")
    return "".join(out)


def _finding_examples(f: dict[str, Any], examples: dict[str, Any] | None) -> str:
    """The rows behind a finding, behind a details element."""
    if f["kind"] == "label_issue" and f["evidence"].get("rows"):
        rows = f["evidence"]["rows"]
        return (f'<details><summary class="muted">the rows ({len(rows)} of {f["evidence"]["observed"]:,}, least '
                f'self-confident first)</summary>{rows_table(rows, LABEL_COLUMNS)}</details>')
    ex = f.get("examples")
    if not ex or examples is None:
        return ""
    if "shared" in ex:
        if not ex["shared"]:
            return ""
        body = rows_table(ex["shared"], SHARED_COLUMNS)
        return f'<details><summary class="muted">the shared texts ({len(ex["shared"])} shown)</summary>{body}</details>'
    split = examples["splits"][ex["split"]]
    parts = []
    for key in ex["cells"]:
        i, j = (int(v) for v in key.split(":"))
        c = split["cells"][key]
        parts.append(f"<p>true {escape(split['classes'][i])}, predicted {escape(split['classes'][j])}: {c['count']:,} "
                     f"rows ({len(c['rows'])} most confident shown)</p>" + rows_table(c["rows"], ROW_COLUMNS))
    return f'<details><summary class="muted">the rows behind it</summary>{"".join(parts)}</details>' if parts else ""


def _evaluation_html(split: str, ev: dict[str, Any], doc: dict[str, Any]) -> str:
    classes = [str(c) for c in ev["classes"]]
    per = ev["per_class"]
    shown = (doc.get("examples") or {}).get("splits") or {}
    index = list(shown).index(split) if split in shown else None
    plots = [svg.heatmap(ev["confusion_matrix"], classes, title=f"Confusion matrix ({split})",
                         cell_id=None if index is None else str(index)),
             svg.bars(classes, [per[c]["f1"] for c in per], title=f"F1 per class ({split})",
                      intervals=[per[c].get("f1_ci95") for c in per], reference=ev["macro_f1"])]
    task = split.partition("/")[2]
    cal = doc.get("calibration") or ((doc.get("tasks") or {}).get(task) or {}).get("calibration") or {}
    after = cal.get("reliability_after") if cal.get("applied_to") == split else None
    plots.append(svg.reliability_diagram(ev["reliability"], after, title=f"Reliability ({split})"))
    parts = [f'<h3 id="results-{escape(split)}">{escape(split)} ({ev["n"]:,} rows)</h3>',
             f'<p class="muted">{escape(R.provenance_line(ev["provenance"]))}</p>',
             t(R.headline_rows(ev)), t(R.per_class_rows(ev)),
             '<div class="plots">' + "".join(plots) + "</div>",
             "<p>Confusion matrix (rows = true, columns = predicted):</p>", t(R.confusion_rows(ev))]
    if index is not None:
        ex = shown[split]
        parts.append(f'<div class="cell-rows" id="cell-rows-{index}"><p class="muted">'
                     + ("Click a cell of the confusion matrix to list its rows, most confident first." if ex["has_text"]
                        else "Click a cell of the confusion matrix to list its rows (these predictions carry no text).")
                     + "</p></div>")
        if ex["confident_errors"]:
            parts.append(f"<p>The most confident errors ({len(ex['confident_errors'])} of {ex['errors']:,}):</p>"
                         + rows_table(ex["confident_errors"], ROW_COLUMNS))
    if ev["most_confused"]:
        parts += ["<p>Most confused pairs:</p>", t(R.pair_rows(ev))]
    if ev["warnings"]:
        parts.append("<ul>" + "".join(f"<li>{escape(w['message'])}</li>" for w in ev["warnings"]) + "</ul>")
    return "".join(parts)


def _loss_terms_html(terms: dict[str, Any]) -> str:
    chart = svg.line_chart(terms["curves"], title="Share of the total loss per term")
    out = (f'<p>Loss terms: each weighted term\'s share of sum |weighted term| ({terms["steps"]} steps).</p>'
           f'<div class="plots">{chart}</div>' + t(R.loss_term_rows(terms)))
    grad = terms.get("grad_norm")
    if grad:
        chart = svg.line_chart(grad["curves"], title="Share of the update (gradient norm) per term")
        out += (f"<p>Each weighted term's share of the summed gradient norms, the share of the update "
                f'({grad["steps"]} steps where they were measured).</p>'
                f'<div class="plots">{chart}</div>' + t(R.loss_term_rows(grad)))
    return out


def _generations_html(entries: list[dict[str, Any]]) -> str:
    parts = []
    for entry in entries:
        head, lines = card_generation_lines(entry)
        parts.append(f"<h3>Generations, {escape(head)}</h3>")
        if entry["evaluated"]:
            parts.append(t(card_generation_rows(entry)))
        parts += [f'<p class="muted">{escape(line)}</p>' for line in lines]
    return "".join(parts)


def _decision_html(rules: dict[str, Any]) -> str:
    return (f"<p>{escape(R.decision_line(rules))}</p>" + t(R.decision_rows(rules))
            + "<p>F1 per class under each rule (test):</p>" + t(R.decision_f1_rows(rules)))


def _curve_groups(curves: dict[str, list[list[float]]]) -> dict[str, dict[str, list[list[float]]]]:
    """Series grouped for plotting: losses together, the rest by their last path part. The series of
    `log_loss_terms` have their own groups (the weighted terms; each of their statistics; the gradient
    cosines): on the loss plot they would bury the loss."""
    groups: dict[str, dict[str, list[list[float]]]] = {}
    for key, points in curves.items():
        leaf = key.split("/")[-1]
        if key.startswith("loss_grad_cosine/"):
            group = "gradient cosine between loss terms"
        elif key.startswith("loss_terms/"):
            group = "loss terms (weighted)" if key.count("/") == 1 else f"loss terms: {leaf}"
        else:
            group = "loss" if "loss" in key.lower() else leaf
        groups.setdefault(group, {})[key] = points
    return groups


def result_html(doc: dict[str, Any]) -> str:
    """The card's Result block: each headline split's numbers large, its calibration, the findings counts."""
    result = doc["result"]
    boxes = []
    for entry in result["entries"]:
        stats = "".join(
            f'<div class="stat"><div class="label">{escape(entry["split"])} {escape(LABELS.get(m, m))}</div>'
            f'<div class="value">{escape(numbers.metric(v["value"]))}</div>'
            f'<div class="ci">{escape(numbers.interval(v["ci95"]) or "no CI")}</div></div>'
            for m, v in entry["metrics"].items())
        c = entry["calibration"]
        stats += (f'<div class="stat"><div class="label">{escape(entry["split"])} ECE ({c["bins"]} bins)</div>'
                  f'<div class="value">{escape(numbers.metric(c["ece"]))}</div><div class="ci">'
                  + (escape(f"after {c['method']} scaling: {numbers.metric(c['ece_after'])}") if c["fitted"] else
                     escape(c.get("reason", ""))) + "</div></div>")
        title = f"{entry['key']}, {entry['n']:,} rows" + (f" (task {entry['task']})" if entry["task"] else "")
        boxes.append(f'<div class="result-entry"><div class="muted">{escape(title)}</div><div class="stats">{stats}'
                     "</div></div>")
    counts = result["findings"]
    badges = "".join(f'<span class="badge {sev}">{counts[sev]} {label}</span>'
                     for sev, label in (("error", "errors"), ("warning", "warnings"), ("info", "notes")))
    lines = "".join(f"<li>{escape(line)}</li>" for line in result["lines"])
    return (f'<div class="result">{"".join(boxes)}<div class="badges">Findings: {badges} '
            f'<a href="#findings">see below</a></div><ul class="verdict">{lines}</ul></div>')


def config_html(config: dict[str, Any]) -> str:
    """The config, one collapsed block per top-level table, values as written."""
    if not config:
        return "<p>No config was recorded.</p>"
    return "".join(f"<details><summary>{escape(section)} ({len(rows)} keys)</summary>"
                   + html_table(["key", "value"], rows, text=True) + "</details>"
                   for section, rows in R.config_sections(config))


def card_html(doc: dict[str, Any]) -> str:
    """The run card as one HTML file, in the order of `card_markdown`."""
    run = doc["run"]
    splits = doc["data"]["splits"]
    training = doc["training"]
    sections = [("result", "Result", result_html(doc)),
                ("findings", f"Findings ({len(doc['findings'])})", findings_html(doc["findings"], doc.get("examples")))]
    results = "".join(_evaluation_html(s, ev, doc) for s, ev in doc["evaluation"].items())
    results += _generations_html(doc.get("generations", []))
    sections.append(("results", "Results per split", results or "<p>No predictions to evaluate.</p>"))
    sections += _posthoc_html(doc)
    sections.append(("data", "Data", (f"<p>{escape(doc['data']['description'])}</p>" if doc["data"].get("description") else "")
                     + ("".join((f"<p>Task <b>{escape(task)}</b>:</p>" if task else "") + t(rows)
                                for task, rows in R.data_tables(splits)) if splits else
                        "<p>No predictions were logged" + ("; its generations are under Results.</p>"
                                                           if doc.get("generations") else ".</p>"))))
    unit, selected = training.get("step_unit", "step"), training.get("selected_step")
    curves = "".join(svg.line_chart(group, title=name, log_y=name == "loss" and _spans_decades(group), x_label=unit,
                                    marker=selected, marker_label=None if selected is None else
                                    f"checkpoint ({unit} {selected})")
                     for name, group in _curve_groups(training["curves"]).items())
    sections.append(("training", "Training",
                     (f'<div class="plots">{curves}</div>' + t(R.curve_rows(training["curves"])) if training["curves"]
                      else "<p>No metric series were logged.</p>")
                     + (_loss_terms_html(training["loss_terms"]) if training.get("loss_terms") else "")
                     + (t(R.stage_rows(training["stages"], training["total_seconds"])) if training["stages"] else "")))
    model = doc["model"]
    sections.append(("model", "Model", f"<p>Parameters: {escape(cell(model['parameters'])) if model['parameters'] else 'not logged'}.</p>"
                     + (html_table(["checkpoint", "sha256", "bytes"], [[c["name"], c["sha256"], c["size"]]
                                                                       for c in model["checkpoints"]])
                        if model["checkpoints"] else "")))
    if doc["logged_metrics"]:
        sections.append(("metrics", "Logged metrics", html_table(
            ["metric", "value"], [[k, numbers.metric(v, k)] for k, v in doc["logged_metrics"].items()])))
    sections.append(("config", "Config", config_html(doc["config"])))
    sections.append(("provenance", "Provenance", t(R.provenance_rows(doc))
                     + f'<p class="muted">{escape(R.settings_line(doc["settings"]))} {escape(numbers.PRECISION_NOTE)}</p>'))
    if run.get("error"):
        sections.append(("error", "Error", f"<pre>{escape(run['error'][-4000:])}</pre>"))
    script = ""
    if doc.get("examples"):
        script = json_script("runcard-examples", {"splits": {k: {"classes": v["classes"], "cells": v["cells"]}
                                                             for k, v in doc["examples"]["splits"].items()}}) + EXAMPLES_JS
    return page(f"Run card: {run['project']}/{run['name']} ({run['id']}), {run['status']}", sections, script=script)


def _posthoc_html(doc: dict[str, Any]) -> list[tuple[str, str, str]]:
    sections = []
    cal = doc.get("calibration")
    if cal:
        sections.append(("calibration", "Calibration", f"<p>{escape(R.calibration_line(cal))}</p>" + t(R.calibration_rows(cal))))
    if doc.get("soft_labels"):
        soft = doc["soft_labels"]
        body = (f"<p>On {escape(soft['split'])}: KL(human ‖ model) in nats, the model clipped at 1e-15; JS distance = "
                "scipy's jensenshannon (natural log), the ChaosNLI scoreboard's “JSD”.</p>" + t(R.soft_comparison_rows(soft))
                + "".join(f"<p>By human agreement on {escape(split)} (terciles of the human entropy, nats):</p>"
                          + t(R.soft_bin_rows(bins)) for split, bins in soft["bins"].items()))
        sections.append(("soft-labels", "Soft labels: against the human distribution", body))
    if doc.get("decision_rules"):
        sections.append(("decision", "Decision rules (fitted on validation)", _decision_html(doc["decision_rules"])))
    for task, entry in (doc.get("tasks") or {}).items():
        body = ""
        if entry["calibration"]:
            body += f"<p>{escape(R.calibration_line(entry['calibration']))}</p>" + t(R.calibration_rows(entry["calibration"]))
        if entry["decision_rules"]:
            body += _decision_html(entry["decision_rules"])
        sections.append((f"task-{task}", f"Task {task}: calibration and decision rules", body))
    if doc.get("cross_task"):
        body = "".join(f"<p><b>{escape(e['task'])}</b> given each class of <b>{escape(e['given'])}</b> "
                       f"(exact, from the rows):</p>" + t(R.given_rows(e)) for e in doc["cross_task"])
        seen: set[frozenset[str]] = set()
        for e in doc["cross_task"]:
            if frozenset((e["task"], e["given"])) not in seen:
                seen.add(frozenset((e["task"], e["given"])))
                body += f"<p>True-label counts, {escape(e['given'])} × {escape(e['task'])}:</p>" + t(R.joint_rows(e))
        sections.append(("cross-task", "Cross-task breakdown (test)", body))
    if doc.get("targets"):
        sections.append(("targets", "Targets", t(R.target_table(doc["targets"]))))
    if doc.get("construction"):
        sections.append(("construction", "Labels made by construction",
                         "".join(f"<p>{escape(line)}</p>" for line in R.construction_lines(doc["construction"]))))
    if doc.get("derived"):
        sections.append(("derived", "Derived metrics", t(R.derived_rows(doc["derived"]))))
    return sections


def _spans_decades(group: dict[str, list[list[float]]]) -> bool:
    values = [v for pts in group.values() for _, v in pts if v is not None and v == v and v > 0]
    return bool(values) and max(values) / min(values) > 100
