"""Terminal rendering of a generation evaluation (rich tables). Every number comes from the result."""

from __future__ import annotations

import math
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from runcard.generation.evaluate_generations import GenerationEvaluation

#: How the metrics are named for reading.
NAMES = {"self_bleu": "Self-BLEU", "semantic_diversity": "semantic diversity", "quality": "quality (mean)"}
STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def metric_name(key: str) -> str:
    if key in NAMES:
        return NAMES[key]
    if key.startswith("distinct_"):
        n = key.split("_")[1]
        return f"distinct-{n} per prompt" if key.endswith("per_prompt") else f"distinct-{n}"
    return key


def number(key: str, value: float | None, signed: bool = False) -> str:
    """Self-BLEU on its 0..100 scale with 2 decimals, the rest with 4."""
    if value is None or math.isnan(value):
        return "—"
    digits = 2 if key == "self_bleu" else 4
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def interval(key: str, ci: Any, signed: bool = False) -> str:
    return "—" if ci is None else f"[{number(key, ci[0], signed)}, {number(key, ci[1], signed)}]"


def _left_out(ev: GenerationEvaluation, index: int) -> str:
    notes = []
    for key, m in ev.systems[index].metrics.items():
        parts = [f"{v:,} {k.replace('_', ' ')}" for k, v in m.left_out.items() if v]
        if parts:
            notes.append(f"{metric_name(key)}: {', '.join(parts)}")
    return ("prompts left out (or capped) — " + "; ".join(notes)) if notes else ""


def system_table(ev: GenerationEvaluation, index: int) -> Table:
    s = ev.systems[index]
    title = f"{s.system}: {s.n_samples:,} samples, {s.n_prompts:,} prompts" + \
        (f", {s.empty_samples:,} empty samples" if s.empty_samples else "")
    table = Table(title=title, title_justify="left", caption=_left_out(ev, index) or None, caption_justify="left")
    table.add_column("metric", no_wrap=True)
    table.add_column("value", justify="right", no_wrap=True)
    table.add_column("95 % CI", justify="right", no_wrap=True)
    table.add_column("direction")
    for key, m in s.metrics.items():
        table.add_row(metric_name(key), number(key, m.value), interval(key, m.ci95), m.label)
    return table


def difference_table(ev: GenerationEvaluation, system: str) -> Table:
    a = ev.systems[0].system
    table = Table(title=f"B − A: {system} − {a} on the same prompts (paired bootstrap over prompts)",
                  title_justify="left")
    for name in ("metric", "B − A", "95 % CI", "change"):
        table.add_column(name, justify="left" if name in ("metric", "change") else "right", no_wrap=name != "change")
    for key, d in ev.differences[system].items():
        noise = d.ci95 is not None and d.ci95[0] <= 0 <= d.ci95[1]
        change = d.change + (", within noise" if noise and d.change != "no change" else "")
        table.add_row(metric_name(key), number(key, d.b_minus_a, True), interval(key, d.ci95, True), change)
    return table


def generation_report(ev: GenerationEvaluation) -> Group:
    """Per system a table; then the differences against the first system; then findings and settings."""
    parts: list[Any] = [Text(f"{ev.source} · {len(ev.systems)} system(s); baseline {ev.systems[0].system}",
                             style="bold")]
    parts += [system_table(ev, i) for i in range(len(ev.systems))]
    parts += [difference_table(ev, system) for system in ev.differences]
    for what, why in ev.not_computed.items():
        parts.append(Text(f"not computed: {what}: {why}", style="dim"))
    if ev.findings:
        text = Text(f"Findings ({len(ev.findings)}):\n", style="bold")
        for f in ev.findings:
            text.append(f"  {f.severity} ", style=STYLE[f.severity])
            text.append(f"{f.kind}", style="bold")
            text.append(f": {f.title}\n")
        parts.append(text)
    else:
        parts.append(Text("Findings: none (every rule ran and none fired).", style="green"))
    parts.append(Text(f"signature: {ev.settings['signature']}", style="dim", overflow="fold"))
    return Group(*parts)
