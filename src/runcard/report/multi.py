"""Markdown and HTML for the documents about several runs: the comparison and the summary."""

from __future__ import annotations

from html import escape
from typing import Any

from runcard.report import svg
from runcard.report.comparison import targets_gap_rows
from runcard.report.generations import generations_html, generations_markdown
from runcard.report.html import findings_html, html_table, page
from runcard.report.markdown import findings_section, table
from runcard.report.rows import Rows


def _metric_rows(doc: dict[str, Any]) -> Rows:
    runs = doc["runs"]
    headers = ["metric", *[f"{r['name']} ({r['id']})" for r in runs]]
    headers += [f"Δ {r['id']} (rel.)" for r in runs[1:]]
    rows = []
    for m in doc["metrics"]:
        arrow = {"higher": " ↑", "lower": " ↓"}.get(m["direction"] or "", "")
        changes = ["" if c is None else f"{c['absolute']:+.4g}" + ("" if c["relative"] is None else f" ({c['relative']:+.1%})")
                   for c in m["changes"]]
        rows.append([m["metric"] + arrow, *m["values"], *changes])
    return headers, rows


def _paired_rows(doc: dict[str, Any]) -> Rows:
    rows = []
    for p in doc["paired"]:
        if not p["paired"]:
            rows.append([p["split"], p["a"], p["b"], "not paired", "", "", p["reason"][:120]])
            continue
        for metric in ("accuracy", "macro_f1"):
            d = p["difference"][metric]
            rows.append([p["split"], p["a"], p["b"], metric, d["b_minus_a"],
                         f"[{d['ci95'][0]:+.4f}, {d['ci95'][1]:+.4f}]", p["mcnemar"]["p_value"]])
    return ["split", "A", "B", "metric", "B − A", "95 % CI", "McNemar p"], rows


def _per_class_rows(doc: dict[str, Any]) -> Rows:
    """Each class's F1 in A and B with the paired CI of the difference: minority classes made visible."""
    rows = []
    for p in doc["paired"]:
        for cls, d in (p.get("per_class_f1") or {}).items() if p["paired"] else ():
            excludes_zero = d["ci95"][0] > 0 or d["ci95"][1] < 0
            rows.append([p["split"], cls, d["a"], d["b"], d["b_minus_a"], f"[{d['ci95'][0]:+.4f}, {d['ci95'][1]:+.4f}]",
                         "yes" if excludes_zero else "no (within noise)"])
    return ["split", "class", "F1 A", "F1 B", "B − A", "95 % CI", "CI excludes 0"], rows


def _target_rows(doc: dict[str, Any]) -> Rows:
    tiers = list(doc["targets"][0]["tiers"]) if doc["targets"] else []
    return ["metric", "run", "value", *[f"gap to {t}" for t in tiers]], targets_gap_rows(doc)


def comparison_markdown(doc: dict[str, Any]) -> str:
    names = ", ".join(f"{r['name']} ({r['id']})" for r in doc["runs"])
    parts = [f"# Comparison: {names}\n", f"Baseline: {doc['runs'][0]['name']} ({doc['runs'][0]['id']}); every change "
             "is measured against it.\n", findings_section(doc["findings"]), "## Config differences\n"]
    parts.append(table(["key", *[r["id"] for r in doc["runs"]]], [[d["key"], *d["values"]] for d in doc["config_diff"]])
                 if doc["config_diff"] else "The configs are identical.")
    parts += ["\n## Metrics\n", table(*_metric_rows(doc))]
    if doc["paired"]:
        parts += ["\n## Paired tests (same examples)\n", table(*_paired_rows(doc))]
        parts += ["\nF1 per class, paired (B − A with its bootstrap CI):\n", table(*_per_class_rows(doc))]
    if doc.get("generations"):
        parts += ["\n## Generations (paired over prompts)\n", generations_markdown(doc["generations"])]
    if doc["targets"]:
        parts += ["\n## Targets\n", table(*_target_rows(doc))]
    return "\n".join(parts).rstrip() + "\n"


def comparison_html(doc: dict[str, Any]) -> str:
    names = ", ".join(f"{r['name']} ({r['id']})" for r in doc["runs"])
    sections = [("findings", f"Findings ({len(doc['findings'])})", findings_html(doc["findings"])),
                ("config", "Config differences", html_table(["key", *[r["id"] for r in doc["runs"]]],
                                                            [[d["key"], *d["values"]] for d in doc["config_diff"]])
                 if doc["config_diff"] else "<p>The configs are identical.</p>"),
                ("metrics", "Metrics", html_table(*_metric_rows(doc)))]
    if doc["paired"]:
        sections.append(("paired", "Paired tests (same examples)", html_table(*_paired_rows(doc))
                         + "<p>F1 per class, paired (B − A with its bootstrap CI):</p>" + html_table(*_per_class_rows(doc))))
    if doc.get("generations"):
        sections.append(("generations", "Generations (paired over prompts)", generations_html(doc["generations"])))
    if doc["targets"]:
        sections.append(("targets", "Targets", html_table(*_target_rows(doc))))
    return page(f"Comparison: {names}", sections)


def _board_rows(doc: dict[str, Any], rows: list[dict[str, Any]]) -> Rows:
    extra = ["group"] if doc["group_by"] else []
    headers = ["rank", "id", "name", "status", doc["sort"], *doc["columns"], *extra]
    return headers, [[r["rank"], r["id"], r["name"], r["status"], r[doc["sort"]], *[r.get(c) for c in doc["columns"]],
                      *[r.get("group") for _ in extra]] for r in rows]


def _group_rows(doc: dict[str, Any]) -> Rows:
    metrics = [doc["sort"], *doc["columns"]]

    def fmt(stats: dict[str, Any] | None) -> str:
        if not stats:
            return "—"
        return f"{stats['mean']:.4g}" + ("" if stats["std"] is None else f" ± {stats['std']:.2g}") + f" (n={stats['n']})"

    return ([doc["group_by"], "runs", *metrics],
            [[g["value"], g["n"], *[fmt(g["stats"].get(m)) for m in metrics]] for g in doc["groups"]])


def summary_markdown(doc: dict[str, Any]) -> str:
    parts = [f"# Summary: {doc['source']}\n",
             f"{doc['provenance']['runs']} runs, sorted by {doc['sort']} ({doc['direction']} is better).\n",
             "## Key takeaways\n", *[f"- {t}" for t in doc["takeaways"]], "", findings_section(doc["findings"]),
             "## Leaderboard\n", table(*_board_rows(doc, doc["leaderboard"]))]
    if doc["set_apart"]:
        parts += ["\n## Set apart (outliers)\n", table(*_board_rows(doc, doc["set_apart"]))]
    if doc["missing_sort_metric"]:
        parts.append(f"\n{len(doc['missing_sort_metric'])} run(s) lack {doc['sort']}: {', '.join(doc['missing_sort_metric'][:20])}.")
    if doc["groups"]:
        parts += [f"\n## By {doc['group_by']} (mean ± std over runs)\n", table(*_group_rows(doc))]
    return "\n".join(parts).rstrip() + "\n"


def summary_html(doc: dict[str, Any]) -> str:
    board = doc["leaderboard"][:40]
    plot = svg.bars([f"{r['name']}"[:22] for r in board], [float(r[doc["sort"]]) for r in board],
                    title=f"{doc['sort']} (top {len(board)})") if board and all(
        0 <= (r[doc["sort"]] or 0) <= 1 for r in board) else ""
    sections = [("takeaways", "Key takeaways", "<ul>" + "".join(f"<li>{escape(t)}</li>" for t in doc["takeaways"]) + "</ul>"),
                ("findings", f"Findings ({len(doc['findings'])})", findings_html(doc["findings"])),
                ("leaderboard", "Leaderboard", plot + html_table(*_board_rows(doc, doc["leaderboard"])))]
    if doc["set_apart"]:
        sections.append(("set-apart", "Set apart (outliers)", html_table(*_board_rows(doc, doc["set_apart"]))))
    if doc["groups"]:
        sections.append(("groups", f"By {doc['group_by']}", html_table(*_group_rows(doc))))
    return page(f"Summary: {doc['source']} ({doc['provenance']['runs']} runs, by {doc['sort']})", sections)
