"""What results look like in a notebook: short reprs and small HTML tables (`_repr_html_`), every value escaped.

Pure string building over plain values, so the result classes of every layer can use it; the rule for writing
a number (`metric`, `interval`, `with_ci`) is here once, and the documents of `runcard.report` use it too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import Any

from runcard.metrics.directions import direction

#: Decimals of every metric value and difference, in notebooks, consoles and documents alike.
DIGITS = 4


def metric(value: Any, key: str | None = None) -> str:
    """A metric value: 4 decimals; a whole-number count (no known direction) as an integer; None as a dash.
    The one rule for a number wherever runcard shows one (`runcard.report.numbers` writes documents with it)."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "∞" if value > 0 else "-∞"
        if key is not None and direction(key) is None and value.is_integer():
            return f"{int(value):,}"
        return f"{value:.{DIGITS}f}" if abs(value) < 1e6 else f"{value:.{DIGITS}g}"
    return str(value)


def interval(ci: Any, signed: bool = False) -> str:
    """``[lo, hi]`` at 4 decimals (signed for differences); empty when there is none."""
    if not ci:
        return ""
    fmt = f"{{:+.{DIGITS}f}}" if signed else f"{{:.{DIGITS}f}}"
    return f"[{fmt.format(ci[0])}, {fmt.format(ci[1])}]"


def with_ci(value: float | None, ci: Sequence[float] | None, *, signed: bool = False) -> str:
    """``0.7440 [0.7245, 0.7640]`` (signed for differences: ``+0.0120 [-0.0031, +0.0270]``)."""
    if value is None:
        return "—"
    shown = f"{value:+.{DIGITS}f}" if signed and math.isfinite(value) else metric(value)
    return shown + (f" {interval(ci, signed)}" if ci else "")


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, caption: str | None = None) -> str:
    """A small HTML table with a caption."""
    head = "".join(f"<th>{escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(metric(v) if not isinstance(v, str) else v)}</td>" for v in row)
                   + "</tr>" for row in rows)
    cap = f"<caption style='text-align:left'>{escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def framed(document: str, height: int = 640) -> str:
    """A whole HTML document shown in a notebook cell: in an iframe (srcdoc), so its styles and script stay
    inside it."""
    return (f'<iframe srcdoc="{escape(document, quote=True)}" style="width:100%;height:{height}px;border:1px solid '
            '#ddd" sandbox="allow-scripts"></iframe>')
