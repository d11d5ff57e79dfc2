"""Terminal rendering of stored runs."""

from __future__ import annotations

import json
import time
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from runcard.metrics.directions import direction
from runcard.report.numbers import metric
from runcard.store.runs import seconds_taken

if TYPE_CHECKING:
    from rich.console import Group
    from rich.table import Table

    from runcard.store import Run
    from runcard.store.runs import RunListing

STATUS_STYLE = {"running": "cyan", "finished": "green", "failed": "red", "crashed": "bold red"}


def _when(ts: float | None) -> str:
    return "—" if ts is None else _minute(int(ts // 60))


@lru_cache(maxsize=4096)
def _minute(minute: int) -> str:
    """A start time to the minute: the runs of a sweep share a few minutes, so each is written once."""
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(minute * 60))


def _duration(run: Run | RunListing) -> str:
    seconds = seconds_taken(run)
    if seconds is None:
        return "—"
    return f"{seconds:.1f}s" if seconds < 120 else f"{seconds / 60:.1f}m" if seconds < 7200 else f"{seconds / 3600:.1f}h"


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


#: Metrics shown first in the runs table, when a run has them.
HEADLINE_KEYS = ("test/macro_f1", "test/accuracy", "test/kl", "val/macro_f1", "val/accuracy", "val/loss", "train/loss")


def headline(summary: dict[str, float], count: int = 2) -> list[tuple[str, float]]:
    """The most telling results of a run: preferred keys first, then any result with a known direction."""
    return [(k, summary[k]) for k in _headline_keys(tuple(summary), count)]


@lru_cache(maxsize=256)
def _headline_keys(keys: tuple[str, ...], count: int) -> tuple[str, ...]:
    """`headline`'s choice, which depends on the keys alone: the runs of a sweep share them, so it is made once."""
    chosen = [k for k in HEADLINE_KEYS if k in keys]
    chosen += sorted(k for k in keys if k not in chosen and direction(k) is not None and "/" in k
                     and not k.startswith(("calibration/", "derived/", "model/")))
    chosen += sorted(k for k in keys if k not in chosen)
    return tuple(chosen[:count])


def runs_table(runs: list[RunListing]) -> Table:
    """One line per run: id, project/name with its start, status, duration, the telling metrics."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"{len(runs)} runs", title_justify="left")
    table.add_column("id", no_wrap=True)
    table.add_column("project/name, started", overflow="fold", max_width=26)
    table.add_column("status", no_wrap=True)
    table.add_column("took", no_wrap=True, justify="right")
    table.add_column("results (evaluated, else latest logged)", overflow="fold")
    for run in runs:
        who = Text(f"{run.project}/{run.name}\n")
        who.append(_when(run.created_at), style="dim")
        table.add_row(run.id, who, Text(run.status, style=STATUS_STYLE.get(run.status, "")), _duration(run),
                      "\n".join(results_cell(run)))
    return table


def results_cell(run: RunListing) -> list[str]:
    """A run's telling results, ``key=value`` each, and how many more it has: the last column of both listings."""
    values = run.values  # computed from the stored predictions wins over a logged copy
    shown = [f"{k}={metric(v, k)}" for k, v in headline(values)]
    more = len(values) - 2
    return shown + ([f"(+{more} more)"] if more > 0 else [])


#: Above this many runs, `runcard runs` prints plain aligned lines (without importing rich): rich lays a table out at
#: about 1 ms a row.
PLAIN_ABOVE = 500


def runs_lines(runs: list[RunListing]) -> list[str]:
    """`runs_table` as plain aligned lines, one per run, for long listings (10,000 runs in well under a second)."""
    rows = [("id", "project/name", "started", "status", "took", "results (evaluated, else latest logged)")]
    rows += [(run.id, f"{run.project}/{run.name}", _when(run.created_at), run.status, _duration(run),
              "  ".join(results_cell(run))) for run in runs]
    w0, w1, w2, w3, w4 = (max(map(len, column)) for column in list(zip(*rows))[:5])
    return [f"{len(runs)} runs"] + [f"{i:<{w0}}  {who:<{w1}}  {at:<{w2}}  {st:<{w3}}  {took:>{w4}}  {shown}".rstrip()
                                    for i, who, at, st, took, shown in rows]


def run_detail(run: Run) -> Group:
    """Everything recorded about one run."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    parts: list[Any] = [
        Text.assemble((f"run {run.id}", "bold"), f"  {run.project}/{run.name}  ",
                      (run.status, STATUS_STYLE.get(run.status, ""))),
        Text(f"started {_when(run.created_at)}, ended {_when(run.ended_at)}, duration {_duration(run)}"
             + (f", host {run.host} pid {run.pid}" if run.host else "")
             + (f", imported from {run.source}" if run.source else ""), style="dim"),
    ]
    if run.tags:
        parts.append(Text("tags: " + ", ".join(f"{k}={v}" for k, v in run.tags.items())))
    parts.append(Text("config:", style="bold"))
    parts.append(Text(json.dumps(run.config, indent=2, sort_keys=True) if run.config else "  (none)"))
    if run.evaluated:
        settings = run.settings
        table = Table(title=f"Evaluated from the stored predictions ({settings.bins} ECE bins, {settings.n_boot} "
                      f"resamples, seed {settings.seed}; the numbers every card shows)", title_justify="left")
        table.add_column("key")
        table.add_column("value", justify="right")
        for key, value in run.evaluated.items():
            table.add_row(key, metric(value, key))
        parts.append(table)
    if run.summary:
        table = Table(title="Latest logged metric values", title_justify="left")
        table.add_column("key")
        table.add_column("value", justify="right")
        for key, value in sorted(run.summary.items()):
            table.add_row(key, metric(value, key))
        parts.append(table)
    if run.stages:
        table = Table(title="Stages (wall time)", title_justify="left")
        table.add_column("stage")
        table.add_column("seconds", justify="right")
        table.add_column("share", justify="right")
        total = sum(run.stages.values()) or 1.0
        for name, seconds in run.stages.items():
            table.add_row(name, f"{seconds:.2f}", f"{seconds / total:.0%}")
        parts.append(table)
    if run.artifacts:
        table = Table(title="Artifacts", title_justify="left")
        for name in ("name", "kind", "sha256", "size", "detail"):
            table.add_column(name, no_wrap=name == "sha256")
        for art in run.artifacts:
            detail = ""
            if art.kind == "predictions":
                detail = f"split {art.meta.get('split')}, {art.meta.get('n')} rows"
                if art.meta.get("checkpoint"):
                    detail += f", checkpoint {str(art.meta['checkpoint'])[:12]}"
            table.add_row(art.name, art.kind, art.sha256[:16], _size(art.size), detail)
        parts.append(table)
    if run.error:
        parts.append(Text("error:", style="bold red"))
        parts.append(Text(run.error.rstrip()[-3000:], style="red"))
    return Group(*parts)
