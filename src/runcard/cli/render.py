"""Terminal rendering of evaluations, calibrations and comparisons (rich tables).

Rendering only: every number shown comes from the result objects, rounded for reading.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from runcard.compare import Comparison
from runcard.evaluate import Evaluation
from runcard.posthoc import CalibrationResult

#: (key, label, direction) of the headline rows; direction tells the reader which way is better.
HEADLINE: tuple[tuple[str, str, str], ...] = (
    ("accuracy", "accuracy", "↑"),
    ("balanced_accuracy", "balanced accuracy", "↑"),
    ("macro_f1", "macro-F1", "↑"),
    ("weighted_f1", "weighted-F1", "↑"),
    ("macro_precision", "macro precision", "↑"),
    ("macro_recall", "macro recall", "↑"),
    ("cohen_kappa", "Cohen's kappa", "↑"),
    ("mcc", "MCC", "↑"),
)


def _f(value: float | None, digits: int = 4) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _ci(interval: Sequence[float] | None) -> str:
    return "" if interval is None else f"[{interval[0]:.4f}, {interval[1]:.4f}]"


def headline_table(evals: dict[str, Evaluation]) -> Table:
    """One column (value and CI) per split; rows are the headline scores."""
    table = Table(title="Headline scores (95 % CI: cell-multinomial bootstrap)", title_justify="left")
    table.add_column("metric", no_wrap=True)
    for split in evals:
        table.add_column(split, justify="right")
        if any(ev.ci95 for ev in evals.values()):
            table.add_column(f"{split} 95 % CI", justify="right", style="dim", no_wrap=True)
    with_ci = any(ev.ci95 for ev in evals.values())

    def row(label: str, values: list[tuple[float | None, Sequence[float] | None]]) -> None:
        cells = [label]
        for value, interval in values:
            cells.append(_f(value))
            if with_ci:
                cells.append(_ci(interval))
        table.add_row(*cells)

    for key, label, arrow in HEADLINE:
        row(f"{label} {arrow}", [(ev.scores[key], (ev.ci95 or {}).get(key)) for ev in evals.values()])
    first = next(iter(evals.values()))
    for k in first.top_k:
        row(f"top-{k} accuracy ↑", [(ev.top_k.get(k), None) for ev in evals.values()])
    bins = first.settings["bins"]
    row("NLL ↓", [(ev.nll, None) for ev in evals.values()])
    row("Brier ↓", [(ev.brier, None) for ev in evals.values()])
    row(f"ECE ({bins} bins) ↓", [(ev.ece, None) for ev in evals.values()])
    row("MCE ↓", [(ev.mce, None) for ev in evals.values()])
    row("adaptive ECE ↓", [(ev.adaptive_ece, None) for ev in evals.values()])
    if first.soft is not None:
        for key in ("kl", "js_divergence", "js_distance", "target_top1", "target_top3"):
            if key in first.soft:
                arrow = "↑" if key.startswith("target") else "↓"
                row(f"{key} {arrow}", [((ev.soft or {}).get(key), None) for ev in evals.values()])
    return table


def per_class_table(ev: Evaluation, split: str) -> Table:
    """Precision, recall, F1 (with CI), support and predicted count of every class."""
    table = Table(title=f"Per class ({split})", title_justify="left")
    for name in ("class", "prec.", "recall", "F1", "F1 95 % CI", "support", "pred."):
        table.add_column(name, justify="left" if name == "class" else "right", no_wrap=name != "class")
    for i, cls in enumerate(ev.classes):
        interval = None if ev.per_class_f1_ci95 is None else ev.per_class_f1_ci95[i]
        table.add_row(
            str(cls), _f(ev.per_class["precision"][i]), _f(ev.per_class["recall"][i]), _f(ev.per_class["f1"][i]),
            _ci(interval), f"{int(ev.per_class['support'][i]):,}", f"{int(ev.per_class['predicted'][i]):,}",
        )
    return table


def confusion_table(ev: Evaluation, split: str) -> Table:
    """The confusion matrix, rows = true class, columns = predicted class."""
    table = Table(title=f"Confusion matrix ({split}; rows = true, columns = predicted)", title_justify="left")
    table.add_column("true \\ pred")
    for cls in ev.classes:
        table.add_column(str(cls), justify="right")
    for i, cls in enumerate(ev.classes):
        cells = []
        for j in range(len(ev.classes)):
            value = f"{int(ev.confusion[i, j]):,}"
            cells.append(Text(value, style="bold") if i == j else value)
        table.add_row(str(cls), *cells)
    return table


def confused_pairs_table(ev: Evaluation, split: str, top: int = 5) -> Table | None:
    """The class pairs most often confused, both directions."""
    pairs = ev.most_confused(top)
    if not pairs:
        return None
    table = Table(title=f"Most confused pairs ({split})", title_justify="left")
    for name in ("a", "b", "a → b", "b → a", "total"):
        table.add_column(name, justify="left" if name in ("a", "b") else "right")
    for p in pairs:
        table.add_row(str(p["a"]), str(p["b"]), f"{p['a_as_b']:,}", f"{p['b_as_a']:,}", f"{p['total']:,}")
    return table


def warnings_text(ev: Evaluation, split: str) -> Text | None:
    """Every warning of the evaluation, one per line."""
    if not ev.warnings:
        return None
    text = Text(f"Warnings ({split}):\n", style="bold yellow")
    for w in ev.warnings:
        text.append(f"  • {w['message']}\n", style="yellow")
    return text


def evaluation_report(evals: dict[str, Evaluation], sources: dict[str, str]) -> Group:
    """The full terminal report for one or more splits."""
    parts: list[Any] = []
    for split, ev in evals.items():
        parts.append(Text(f"{split}: {sources[split]} · {ev.n:,} rows · {len(ev.classes)} classes", style="bold"))
    parts.append(headline_table(evals))
    for split, ev in evals.items():
        parts.append(per_class_table(ev, split))
        parts.append(confusion_table(ev, split))
        pairs = confused_pairs_table(ev, split)
        if pairs is not None:
            parts.append(pairs)
        warn = warnings_text(ev, split)
        if warn is not None:
            parts.append(warn)
    signature = next(iter(evals.values())).settings["signature"]
    parts.append(Text(f"signature: {signature}", style="dim", overflow="fold"))
    return Group(*parts)


def calibration_report(result: CalibrationResult, sources: dict[str, str]) -> Group:
    """Fitted parameters and before/after scores per split, with the argmax check."""
    parts: list[Any] = []
    params = result.scaler.params()
    if result.method == "temperature":
        line = f"temperature scaling fitted on {sources['val']}: T = {params['temperature']:.4f}"
        if getattr(result.scaler, "at_bound", False):
            line += " (at the search bound: the optimum lies outside [0.01, 100])"
    else:
        line = f"vector scaling fitted on {sources['val']}: weights {[f'{w:.3f}' for w in params['weights']]}, " \
               f"bias {[f'{b:.3f}' for b in params['bias']]}"
    parts.append(Text(line, style="bold"))
    table = Table(title=f"Before → after calibration ({result.bins}-bin ECE)", title_justify="left")
    for name in ("split", "metric", "before", "after", "change"):
        table.add_column(name, justify="left" if name in ("split", "metric") else "right")
    labels = {"accuracy": "accuracy ↑", "nll": "NLL ↓", "brier": "Brier ↓", "ece": "ECE ↓"}
    for split in result.before:
        for key, label in labels.items():
            b, a = result.before[split][key], result.after[split][key]
            table.add_row(f"{split} ({result.calibrated[split].n:,})" if key == "accuracy" else "", label,
                          f"{b:.4f}", f"{a:.4f}", f"{a - b:+.4f}")
        table.add_section()
    parts.append(table)
    if result.argmax_invariant:
        parts.append(Text("accuracy unchanged: no row's predicted class changed (argmax invariance checked row by row).",
                          style="green"))
    else:
        changed = ", ".join(f"{split} {n:,} rows" for split, n in result.argmax_changed.items())
        parts.append(Text(f"predicted class changed: {changed}; accuracy before and after is shown above.",
                          style="yellow"))
    return Group(*parts)


SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def findings_text(findings: list[dict[str, Any]], *, limit: int | None = None) -> Text:
    """One line per finding, errors first: severity, kind, title."""
    text = Text()
    shown = findings if limit is None else findings[:limit]
    for f in shown:
        text.append(f"{f['severity'].upper():8}", style=SEVERITY_STYLE.get(f["severity"], ""))
        text.append(f"{f['kind']}: {f['title']}\n")
    if limit is not None and len(findings) > limit:
        text.append(f"... and {len(findings) - limit} more\n", style="dim")
    return text


def comparison_document_report(doc: dict[str, Any]) -> Group:
    """A comparison document on the terminal: the verdict, the paired scores, F1 per class, its findings."""
    parts: list[Any] = [Text(f"A: {doc['runs'][0]['name']}\nB: {doc['runs'][1]['name']}", style="bold")]
    parts.append(Text("Verdict:", style="bold"))
    for v in doc["verdict"]:
        style = {"better": "green", "worse": "red"}.get(v["verdict"], "")
        parts.append(Text(f"  {v['sentence']}", style=style))
    for p in doc["paired"]:
        if not p["paired"]:
            continue
        table = Table(title=f"B − A on {p['n']:,} paired rows of {p['split']} (paired by {p['paired_by']})",
                      title_justify="left")
        for name in ("metric", "A", "B", "B − A", "95 % CI"):
            table.add_column(name, justify="left" if name == "metric" else "right")
        for key, d in p["difference"].items():
            table.add_row(key, f"{p['scores']['a'][key]:.4f}", f"{p['scores']['b'][key]:.4f}", f"{d['b_minus_a']:+.4f}",
                          _ci(d["ci95"]))
        per_class = Table(title="F1 per class", title_justify="left")
        for name in ("class", "A", "B", "B − A", "95 % CI"):
            per_class.add_column(name, justify="left" if name == "class" else "right")
        for cls, d in p["per_class_f1"].items():
            per_class.add_row(cls, f"{d['a']:.4f}", f"{d['b']:.4f}", f"{d['b_minus_a']:+.4f}", _ci(d["ci95"]))
        m = p["mcnemar"]
        verdict = "the error rates differ" if m["p_value"] < 0.05 else "no evidence that the error rates differ"
        parts += [table, per_class, Text(f"McNemar exact test (accuracy): only A right on {m['only_a_correct']:,} rows, "
                                         f"only B right on {m['only_b_correct']:,}; p = {m['p_value']:.4g} ({verdict} "
                                         "at the 5 % level).")]
    parts.append(Text(f"Findings of the comparison ({len(doc['findings'])}):", style="bold"))
    parts.append(findings_text(doc["findings"]) if doc["findings"] else Text("  none"))
    for r in doc["runs"]:
        f = r["findings"]
        parts.append(Text(f"{r['name']}: {f['error']} error(s), {f['warning']} warning(s), {f['info']} note(s) of its "
                          f"own ({r['card']})", style="dim"))
    return Group(*parts)


def comparison_report(cmp: Comparison) -> Group:
    """Scores of A and B, the paired difference with its CI, and McNemar's test."""
    table = Table(title=f"B − A on {cmp.n:,} paired rows (paired by {cmp.paired_by})", title_justify="left")
    for name in ("metric", "A", "B", "B − A", "95 % CI"):
        table.add_column(name, justify="left" if name == "metric" else "right")
    for key, (a, b) in cmp.scores.items():
        table.add_row(key, f"{a:.4f}", f"{b:.4f}", f"{cmp.difference[key]:+.4f}", _ci(cmp.ci95[key]))
    per_class = Table(title="F1 per class", title_justify="left")
    for name in ("class", "A", "B", "B − A", "95 % CI"):
        per_class.add_column(name, justify="left" if name == "class" else "right")
    for cls, (a, b) in cmp.f1.items():
        per_class.add_row(cls, f"{a:.4f}", f"{b:.4f}", f"{b - a:+.4f}", _ci(cmp.f1_ci95[cls]))
    verdict = "the error rates differ" if cmp.p_value < 0.05 else "no evidence that the error rates differ"
    return Group(
        Text(f"A: {cmp.names[0]}\nB: {cmp.names[1]}", style="bold"),
        table,
        per_class,
        Text(f"McNemar exact test: only A right on {cmp.only_a_correct:,} rows, only B right on "
             f"{cmp.only_b_correct:,}; p = {cmp.p_value:.4g} ({verdict} at the 5 % level)."),
    )


def print_group(group: Group, console: Console | None = None) -> None:
    """Print to stdout (results go to stdout; diagnostics to stderr)."""
    (console or Console()).print(group)
