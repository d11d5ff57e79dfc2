"""What results look like in a notebook: short reprs and small HTML tables (`_repr_html_`), every value escaped.

Pure string building over plain values, so the result classes of every layer can use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any


def number(value: Any) -> str:
    """4 decimals for floats, thousands separators for integers, a dash for None."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def with_ci(value: float | None, ci: Sequence[float] | None, *, signed: bool = False) -> str:
    """``0.7440 [0.7245, 0.7640]`` (signed for differences)."""
    if value is None:
        return "—"
    f = "{:+.4f}" if signed else "{:.4f}"
    return f.format(value) + ("" if not ci else f" [{f.format(ci[0])}, {f.format(ci[1])}]")


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, caption: str | None = None) -> str:
    """A small HTML table with a caption."""
    head = "".join(f"<th>{escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(number(v) if not isinstance(v, str) else v)}</td>" for v in row)
                   + "</tr>" for row in rows)
    cap = f"<caption style='text-align:left'>{escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def framed(document: str, height: int = 640) -> str:
    """A whole HTML document shown in a notebook cell: in an iframe (srcdoc), so its styles and script stay
    inside it."""
    return (f'<iframe srcdoc="{escape(document, quote=True)}" style="width:100%;height:{height}px;border:1px solid '
            '#ddd" sandbox="allow-scripts"></iframe>')
