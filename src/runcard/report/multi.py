"""Markdown and HTML for the documents about several runs: the comparison and the summary."""

from __future__ import annotations

from html import escape
from typing import Any

from runcard.report import numbers, svg
from runcard.report.comparison import targets_gap_rows
from runcard.report.generations import generations_html, generations_markdown
from runcard.report.html import findings_html, html_table, page, rows_table
from runcard.report.markdown import cell, findings_section, table
from runcard.report.rows import Rows


def _metric_rows(doc: dict[str, Any]) -> Rows:
    runs = doc["runs"]
    headers = ["metric", *[f"{r['name']} ({r['id']})" for r in runs]]
    headers += [f"Δ {r['id']} (rel.)" for r in runs[1:]]
    rows = []
    for m in doc["metrics"]:
        arrow = {"higher": " ↑", "lower": " ↓"}.get(m["direction"] or "", "")
        changes = ["" if c is None else numbers.difference(c["absolute"], c["tie"])
                   + ("" if c["tie"] or c["relative"] is None else f" ({c['relative']:+.1%})") for c in m["changes"]]
        rows.append([m["metric"] + arrow, *[numbers.metric(v, m["metric"]) for v in m["values"]], *changes])
    return headers, rows


def _paired_rows(doc: dict[str, Any]) -> Rows:
    """B − A per split and metric with its paired CI; McNemar's exact test on the accuracy row only (it tests
    whether the error rates differ)."""
    rows = []
    for p in doc["paired"]:
        if not p["paired"]:
            rows.append([p["split"], p["a"], p["b"], "not paired", "", "", "", "", p["reason"][:120]])
            continue
        for metric in ("accuracy", "macro_f1"):
            d = p["difference"][metric]
            mcnemar = (f"{p['mcnemar']['p_value']:.3g} ({p['mcnemar']['only_a_correct']:,} vs "
                       f"{p['mcnemar']['only_b_correct']:,})") if metric == "accuracy" else ""
            rows.append([p["split"], p["a"], p["b"], metric, numbers.metric(p["scores"]["a"][metric]),
                         numbers.metric(p["scores"]["b"][metric]), numbers.difference(d["b_minus_a"]),
                         numbers.interval(d["ci95"], signed=True), _holm(d), numbers.metric(d["mde"]), mcnemar])
    return (["split", "A", "B", "metric", "A", "B", "B − A", "95 % CI", "significant (Holm)",
             "detectable at 80 % power", "McNemar p (only A right vs only B right)"], rows)


def _holm(d: dict[str, Any]) -> str:
    """Whether a paired difference survives the document's Holm correction, with its p-value."""
    return f"{'yes' if d.get('significant') else 'no'} (p = {d['p_value']:.3g})" if d.get("p_value") is not None else ""


def _per_class_rows(doc: dict[str, Any]) -> Rows:
    """Each class's F1 in A and B with the paired CI of the difference: minority classes made visible."""
    rows = []
    for p in doc["paired"]:
        for cls, d in (p.get("per_class_f1") or {}).items() if p["paired"] else ():
            rows.append([p["split"], cls, numbers.metric(d["a"]), numbers.metric(d["b"]), numbers.difference(d["b_minus_a"]),
                         numbers.interval(d["ci95"], signed=True), _holm(d)])
    return ["split", "class", "F1 A", "F1 B", "B − A", "95 % CI", "significant (Holm)"], rows


def _forest_rows(doc: dict[str, Any]) -> list[tuple[str, float, float, float, bool]]:
    """Every paired difference of the document (per class on the first paired split, at most 20 classes)."""
    rows: list[tuple[str, float, float, float, bool]] = []
    first = True
    many = len(doc["runs"]) > 2
    for p in doc["paired"]:
        if not p["paired"]:
            continue
        who = f" ({p['b']})" if many else ""
        for metric in ("macro_f1", "accuracy"):
            d = p["difference"][metric]
            rows.append((f"{p['split']} {metric}{who}", d["b_minus_a"], *d["ci95"], bool(d.get("significant"))))
        if first:
            for cls, d in list(p["per_class_f1"].items())[:20]:
                rows.append((f"{p['split']} F1 {cls}{who}", d["b_minus_a"], *d["ci95"], bool(d.get("significant"))))
            first = False
    return rows


DISCORDANT_COLUMNS = (("text", "text"), ("id", "id"), ("true", "true"), ("a_predicted", "A predicted"),
                      ("a_confidence", "A's confidence"), ("b_predicted", "B predicted"),
                      ("b_confidence", "B's confidence"))


def _discordant_html(doc: dict[str, Any]) -> str:
    """Per paired split: the rows behind McNemar's test, each way, and where the two disagree most."""
    parts = []
    for p in doc["paired"]:
        if not p["paired"] or "discordant" not in p:
            continue
        d = p["discordant"]
        parts.append(f"<h3>{escape(p['split'])}: {d['a_right_b_wrong']['count']:,} rows only A ({escape(p['a'])}) gets "
                     f"right, {d['b_right_a_wrong']['count']:,} only B ({escape(p['b'])}); McNemar p = "
                     f"{p['mcnemar']['p_value']:.3g}</h3>")
        for key, label in (("a_right_b_wrong", "A right, B wrong"), ("b_right_a_wrong", "B right, A wrong")):
            rows = d[key]["rows"]
            if rows:
                parts.append(f"<details><summary>{escape(label)}: the {len(rows)} where the wrong one was most "
                             f"confident</summary>{rows_table(rows, DISCORDANT_COLUMNS)}</details>")
        if d["by_classes"]:
            parts.append("<p>Where the two differ most (true class, A's prediction, B's prediction):</p>"
                         + html_table(["true", "A predicted", "B predicted", "rows"],
                                      [[c["true"], c["a_predicted"], c["b_predicted"], c["rows"]] for c in d["by_classes"]]))
    return "".join(parts)


def _per_class_bars(doc: dict[str, Any]) -> str:
    p = next((p for p in doc["paired"] if p["paired"]), None)
    if p is None:
        return ""
    classes = list(p["per_class_f1"])[:30]
    return svg.paired_bars(classes, [p["per_class_f1"][c]["a"] for c in classes],
                           [p["per_class_f1"][c]["b"] for c in classes], title=f"F1 per class, {p['split']}",
                           names=(f"A {p['a']}", f"B {p['b']}"))


def _run_rows(doc: dict[str, Any]) -> Rows:
    """One line per run: its own findings counted (they are on its card), and how to see them."""
    rows = []
    for i, r in enumerate(doc["runs"]):
        f = r["findings"]
        rows.append(["A" if i == 0 else "B" if len(doc["runs"]) == 2 else f"B{i}", r["id"], r["name"], r["status"],
                     f["error"], f["warning"], f["info"], r["top_finding"] or "—", r["card"]])
    return ["", "run", "name", "status", "errors", "warnings", "notes", "first finding", "its card"], rows


def _target_rows(doc: dict[str, Any]) -> Rows:
    tiers = list(doc["targets"][0]["tiers"]) if doc["targets"] else []
    return ["metric", "run", "value", *[f"gap to {t}" for t in tiers]], targets_gap_rows(doc)


def _config_rows(doc: dict[str, Any]) -> Rows:
    return (["key", *[r["id"] for r in doc["runs"]]],
            [[d["key"], *[numbers.config_value(v) for v in d["values"]]] for d in doc["config_diff"]])


def _settings_line(doc: dict[str, Any]) -> str:
    s = doc["settings"]
    return (f"Paired tests: paired cell-multinomial bootstrap ({s['n_boot']} resamples, seed {s['seed']}, "
            f"{s['level']:.0%} percentile intervals) on {', '.join(s['splits']) or 'no split'}; the verdict leads "
            f"with {s['primary']}. \"Better\" and \"worse\" need the difference to survive Holm's correction at "
            f"{s['alpha']:g} over the {s['paired_tests']} paired tests reported here (p-values from the bootstrap "
            f"standard error); the CIs are uncorrected. Detectable differences: at {s['power']:.0%} power, two-sided "
            f"5 %, accuracy from the discordant pairs, macro-F1 from the bootstrap standard error. The findings share "
            f"a false-alarm level of {s['alpha']:g} ({_budget_words(s['budget'])}). {numbers.PRECISION_NOTE}")


def _budget_words(budget: dict[str, Any]) -> str:
    tests = ", ".join(f"{k} {v}" for k, v in budget["tests"].items()) or "no test"
    return f"tests: {tests}; kept {budget['kept']}"


def comparison_markdown(doc: dict[str, Any]) -> str:
    """Verdict, the comparison's own findings, one line per run, paired tests, metrics, config diff."""
    names = ", ".join(f"{cell(r['name'])} ({cell(r['id'])})" for r in doc["runs"])
    parts = [f"# Comparison: {names}\n", f"Baseline A: {cell(doc['runs'][0]['name'])} ({cell(doc['runs'][0]['id'])}); "
             "every change is B − A.\n", "## Verdict\n", *[f"- {cell(v['sentence'])}" for v in doc["verdict"]], "",
             findings_section(doc["findings"]),
             "## Runs (each run's own findings are on its card)\n", table(*_run_rows(doc))]
    if doc["paired"]:
        parts += ["\n## Paired tests (same examples)\n", table(*_paired_rows(doc))]
        parts += ["\nF1 per class, paired (B − A with its bootstrap CI):\n", table(*_per_class_rows(doc))]
        parts += _discordant_markdown(doc)
    if doc.get("generations"):
        parts += ["\n## Generations (paired over prompts)\n", generations_markdown(doc["generations"])]
    parts += ["\n## Metrics\n", table(*_metric_rows(doc))]
    if doc["targets"]:
        parts += ["\n## Targets\n", table(*_target_rows(doc))]
    parts += ["\n## Config differences\n", table(*_config_rows(doc)) if doc["config_diff"] else "The configs are identical."]
    parts += ["", _settings_line(doc)]
    return "\n".join(parts).rstrip() + "\n"


def comparison_html(doc: dict[str, Any]) -> str:
    """The comparison as one HTML file, in the order of `comparison_markdown`."""
    names = ", ".join(f"{r['name']} ({r['id']})" for r in doc["runs"])
    verdict = "".join(f'<li class="v-{escape(v["verdict"].replace(" ", "-"))}">{escape(v["sentence"])}</li>'
                      for v in doc["verdict"])
    forest = _forest_rows(doc)
    sections = [("verdict", "Verdict", f'<div class="result"><ul class="verdict big">{verdict}</ul></div>'
                 + (f'<div class="plots">{svg.forest(forest, title="Paired differences B − A (95 % CI)")}</div>'
                    if forest else "")),
                ("findings", f"Findings ({len(doc['findings'])})", findings_html(doc["findings"])),
                ("runs", "Runs (each run's own findings are on its card)", _runs_html(doc))]
    if doc["paired"]:
        sections.append(("paired", "Paired tests (same examples)", html_table(*_paired_rows(doc))
                         + "<p>F1 per class, paired (B − A with its bootstrap CI):</p>" + html_table(*_per_class_rows(doc))
                         + f'<div class="plots">{_per_class_bars(doc)}</div>'))
        discordant = _discordant_html(doc)
        if discordant:
            sections.append(("discordant", "The rows behind the difference", discordant))
    if doc.get("generations"):
        sections.append(("generations", "Generations (paired over prompts)", generations_html(doc["generations"])))
    sections.append(("metrics", "Metrics", html_table(*_metric_rows(doc))))
    if doc["targets"]:
        sections.append(("targets", "Targets", html_table(*_target_rows(doc))))
    sections.append(("config", "Config differences", html_table(*_config_rows(doc), text=True) if doc["config_diff"]
                     else "<p>The configs are identical.</p>"))
    sections.append(("settings", "Settings", f'<p class="muted">{escape(_settings_line(doc))}</p>'))
    return page(f"Comparison: {names}", sections)


def _discordant_markdown(doc: dict[str, Any]) -> list[str]:
    parts = []
    for p in doc["paired"]:
        if not p["paired"] or "discordant" not in p:
            continue
        d = p["discordant"]
        parts.append(f"\n{p['split']}: {d['a_right_b_wrong']['count']:,} rows only A gets right, "
                     f"{d['b_right_a_wrong']['count']:,} only B. Where they differ most:\n")
        parts.append(table(["true", "A predicted", "B predicted", "rows"],
                           [[c["true"], c["a_predicted"], c["b_predicted"], c["rows"]] for c in d["by_classes"][:5]]))
    return parts


def _runs_html(doc: dict[str, Any]) -> str:
    headers, rows = _run_rows(doc)
    body = []
    for row, run in zip(rows, doc["runs"]):
        link = (f'<a href="{escape(run["id"])}.html">{escape(run["id"])}.html</a> or <code>{escape(run["card"])}'
                "</code>" if run["source"] is None else f"<code>{escape(run['card'])}</code>")
        cells = "".join(f"<td>{escape(str(v))}</td>" for v in row[:-1])
        body.append(f"<tr>{cells}<td>{link}</td></tr>")
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def _board_rows(doc: dict[str, Any], rows: list[dict[str, Any]]) -> Rows:
    """One line per run: its rank and metrics, and its own findings counted (errors/warnings/notes; its card
    has them)."""
    extra = ["group"] if doc["group_by"] else []
    metrics = [doc["sort"], *doc["columns"]]
    headers = ["rank", "id", "name", "status", *metrics, *extra, "findings (E/W/N)"]
    return headers, [[r["rank"] if r["rank"] is not None else "—", r["id"], r["name"], r["status"],
                      *[numbers.metric(r.get(c), c) for c in metrics], *[r.get("group") for _ in extra],
                      "{error}/{warning}/{info}".format(**r["findings"])] for r in rows]


def _group_rows(doc: dict[str, Any]) -> Rows:
    metrics = [doc["sort"], *doc["columns"]]

    def fmt(stats: dict[str, Any] | None) -> str:
        if not stats:
            return "—"
        spread = "" if stats["std"] is None else f" ± {numbers.metric(stats['std'])}"
        return f"{numbers.metric(stats['mean'])}{spread} (n={stats['n']})"

    return ([doc["group_by"], "runs", *metrics],
            [[g["value"], g["n"], *[fmt(g["stats"].get(m)) for m in metrics]] for g in doc["groups"]])


def summary_markdown(doc: dict[str, Any]) -> str:
    """Takeaways, leaderboard (outliers set apart, groups), the summary's own findings."""
    parts = [f"# Summary: {cell(doc['source'])}\n",
             f"{doc['provenance']['runs']} runs, sorted by {doc['sort']} ({doc['direction']} is better).\n",
             "## Key takeaways\n", *[f"- {cell(t)}" for t in doc["takeaways"]], "",
             "## Leaderboard\n", table(*_board_rows(doc, doc["leaderboard"]))]
    if doc["set_apart"]:
        parts += ["\n## Set apart (outliers)\n", table(*_board_rows(doc, doc["set_apart"]))]
    if doc["missing_sort_metric"]:
        parts.append(f"\n{len(doc['missing_sort_metric'])} run(s) lack {doc['sort']}: {', '.join(doc['missing_sort_metric'][:20])}.")
    if doc["groups"]:
        parts += [f"\n## By {doc['group_by']} (mean ± std over runs)\n", table(*_group_rows(doc))]
    parts += ["", findings_section(doc["findings"]),
              "The findings column counts each run's own findings; `runcard card RUN` shows them. "
              + numbers.PRECISION_NOTE]
    return "\n".join(parts).rstrip() + "\n"


def summary_html(doc: dict[str, Any]) -> str:
    board = doc["leaderboard"][:40]
    plot = svg.bars([f"{r['name']}"[:22] for r in board], [float(r[doc["sort"]]) for r in board],
                    title=f"{doc['sort']} (top {len(board)})") if board and all(
        0 <= (r[doc["sort"]] or 0) <= 1 for r in board) else ""
    takeaways = "".join(f"<li>{escape(t)}</li>" for t in doc["takeaways"])
    sections = [("takeaways", "Key takeaways", f'<div class="result"><ul class="verdict big">{takeaways}</ul></div>'),
                ("leaderboard", "Leaderboard", plot + html_table(*_board_rows(doc, doc["leaderboard"])))]
    if doc["set_apart"]:
        sections.append(("set-apart", "Set apart (outliers)", html_table(*_board_rows(doc, doc["set_apart"]))))
    if doc["groups"]:
        sections.append(("groups", f"By {doc['group_by']}", html_table(*_group_rows(doc))))
    sections.append(("findings", f"Findings ({len(doc['findings'])})", findings_html(doc["findings"])))
    sections.append(("settings", "Notes", '<p class="muted">The findings column counts each run\'s own findings; '
                     f"<code>runcard card RUN</code> shows them. {escape(numbers.PRECISION_NOTE)}</p>"))
    return page(f"Summary: {doc['source']} ({doc['provenance']['runs']} runs, by {doc['sort']})", sections)
