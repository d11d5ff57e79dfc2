"""What a recipe tells the person running it, on stderr: progress bars, tables, findings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from runcard.findings import Finding


class Bar:
    """One progress bar; `advance` moves it and shows the running loss."""

    def __init__(self, progress: Progress, task: Any) -> None:
        self._progress, self._task = progress, task

    def advance(self, n: int, **fields: float) -> None:
        shown = " ".join(f"{k} {v:.4f}" for k, v in fields.items())
        self._progress.update(self._task, advance=n, status=shown)


class Reporter:
    """Console output of a recipe; ``quiet`` keeps only what matters (findings and the end)."""

    def __init__(self, quiet: bool = False) -> None:
        self.console = Console(stderr=True)
        self.quiet = quiet

    def line(self, text: str) -> None:
        self.console.print(text)

    def table(self, title: str, rows: dict[str, dict[str, int]]) -> None:
        if self.quiet or not rows:
            return
        columns = list(next(iter(rows.values())))
        table = Table(title=title, title_justify="left")
        table.add_column("split")
        for c in columns:
            table.add_column(c, justify="right")
        table.add_column("total", justify="right")
        for split, counts in rows.items():
            table.add_row(split, *[f"{counts[c]:,}" for c in columns], f"{sum(counts.values()):,}")
        self.console.print(table)

    def findings(self, findings: list[Finding]) -> None:
        if not findings:
            self.console.print("data audit: no findings (no empty classes, no text shared across splits)")
        for f in findings:
            style = {"error": "bold red", "warning": "yellow", "info": "cyan"}[f.severity]
            self.console.print(f"[{style}]{f.severity}[/] [bold]{f.kind}[/]: {f.title}", highlight=False)

    @contextmanager
    def progress(self, description: str, total: int) -> Iterator[Bar]:
        columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[status]}"),
                   TimeElapsedColumn()]
        with Progress(*columns, console=self.console, disable=self.quiet, transient=False) as progress:
            task = progress.add_task(description, total=total, status="")
            yield Bar(progress, task)
