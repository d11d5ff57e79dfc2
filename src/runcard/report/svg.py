"""Inline SVG plots for the HTML documents: no JavaScript, no network, every label escaped.

Each function takes plain numbers and returns one ``<svg>`` element as a string.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")
FONT = 'font-family="system-ui, sans-serif" font-size="11"'


def _ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    step = 10 ** math.floor(math.log10((hi - lo) / count))
    for factor in (1, 2, 5, 10):
        if (hi - lo) / (step * factor) <= count:
            step *= factor
            break
    start = math.ceil(lo / step) * step
    return [start + i * step for i in range(int((hi - start) / step) + 1)]


def _fmt(value: float) -> str:
    return f"{value:.3g}"


def line_chart(series: Mapping[str, Sequence[Sequence[float]]], *, title: str, width: int = 640, height: int = 260,
               log_y: bool = False) -> str:
    """Lines of ``(x, y)`` points, one per named series, with axes and a legend."""
    points = {k: [(float(x), float(y)) for x, y in v if y is not None and math.isfinite(float(y))
                  and (not log_y or float(y) > 0)] for k, v in series.items()}
    points = {k: v for k, v in points.items() if v}
    left, right, top, bottom = 56, 150, 24, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    if not points:
        return _empty(title, width, height)
    xs = [x for v in points.values() for x, _ in v]
    ys = [math.log10(y) if log_y else y for v in points.values() for _, y in v]
    x_lo, x_hi = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
    y_lo, y_hi = min(ys), max(ys) if max(ys) > min(ys) else min(ys) + 1
    pad = (y_hi - y_lo) * 0.05
    y_lo, y_hi = y_lo - pad, y_hi + pad

    def sx(x: float) -> float:
        return left + (x - x_lo) / (x_hi - x_lo) * plot_w

    def sy(y: float) -> float:
        value = math.log10(y) if log_y else y
        return top + (1 - (value - y_lo) / (y_hi - y_lo)) * plot_h

    parts = [_frame(title, width, height, left, top, plot_w, plot_h)]
    for t in _ticks(y_lo, y_hi):
        y = top + (1 - (t - y_lo) / (y_hi - y_lo)) * plot_h
        label = _fmt(10**t) if log_y else _fmt(t)
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>'
                     f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" {FONT}>{label}</text>')
    for t in _ticks(x_lo, x_hi):
        x = sx(t)
        parts.append(f'<text x="{x:.1f}" y="{top + plot_h + 14}" text-anchor="middle" {FONT}>{_fmt(t)}</text>')
    for i, (name, pts) in enumerate(points.items()):
        color = PALETTE[i % len(PALETTE)]
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in pts)
        if len(pts) == 1:
            parts.append(f'<circle cx="{sx(pts[0][0]):.1f}" cy="{sy(pts[0][1]):.1f}" r="3" fill="{color}"/>')
        else:
            parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.6" points="{path}"/>')
        ly = top + 12 + i * 15
        parts.append(f'<rect x="{left + plot_w + 10}" y="{ly - 8}" width="10" height="3" fill="{color}"/>'
                     f'<text x="{left + plot_w + 24}" y="{ly}" {FONT}>{escape(name[:22])}</text>')
    parts.append(f'<text x="{left + plot_w / 2}" y="{height - 4}" text-anchor="middle" {FONT}>step</text></svg>')
    return "".join(parts)


def reliability_diagram(before: Sequence[dict], after: Sequence[dict] | None = None, *, title: str,
                        size: int = 300) -> str:
    """Accuracy against mean confidence per bin (dots sized by rows), with the diagonal of perfect calibration."""
    left, top, plot = 44, 24, size - 70
    parts = [_frame(title, size + (90 if after else 20), size, left, top, plot, plot)]
    for t in (0.0, 0.25, 0.5, 0.75, 1.0):
        x, y = left + t * plot, top + (1 - t) * plot
        parts.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" {FONT}>{t:g}</text>'
                     f'<text x="{x:.1f}" y="{top + plot + 14}" text-anchor="middle" {FONT}>{t:g}</text>')
    parts.append(f'<line x1="{left}" y1="{top + plot}" x2="{left + plot}" y2="{top}" stroke="#999" stroke-dasharray="4 3"/>')
    total = sum(b["count"] for b in before) or 1
    for j, (bins, color, label) in enumerate(((before, PALETTE[1], "before"), (after or [], PALETTE[0], "after"))):
        pts = [(b["confidence"], b["accuracy"], b["count"]) for b in bins if b["count"]]
        if not pts:
            continue
        path = " ".join(f"{left + c * plot:.1f},{top + (1 - a) * plot:.1f}" for c, a, _ in pts)
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.2" points="{path}"/>')
        for c, a, n in pts:
            r = 2 + 6 * math.sqrt(n / total)
            parts.append(f'<circle cx="{left + c * plot:.1f}" cy="{top + (1 - a) * plot:.1f}" r="{r:.1f}" '
                         f'fill="{color}" fill-opacity="0.6"><title>{escape(label)}: confidence {c:.3f}, accuracy '
                         f'{a:.3f}, {n} rows</title></circle>')
        if after:
            parts.append(f'<text x="{left + plot + 10}" y="{top + 14 + 15 * j}" fill="{color}" {FONT}>{label}</text>')
    parts.append(f'<text x="{left + plot / 2}" y="{size - 4}" text-anchor="middle" {FONT}>confidence</text></svg>')
    return "".join(parts)


def heatmap(matrix: Sequence[Sequence[int]], labels: Sequence[str], *, title: str) -> str:
    """A confusion matrix: cells shaded by share of their row, counts printed."""
    k = len(labels)
    cell = max(18, min(56, 480 // max(k, 1)))
    left, top = 120, 30
    width, height = left + cell * k + 20, top + cell * k + 90
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
             f'<text x="{left}" y="16" {FONT} font-weight="bold">{escape(title)}</text>']
    for i, row in enumerate(matrix):
        total = sum(row) or 1
        parts.append(f'<text x="{left - 6}" y="{top + i * cell + cell / 2 + 4:.1f}" text-anchor="end" {FONT}>'
                     f'{escape(str(labels[i])[:18])}</text>')
        for j, count in enumerate(row):
            share = count / total
            shade = int(255 - 200 * share)
            fill = f"rgb({shade},{shade},255)" if i == j else f"rgb(255,{shade},{shade})"
            parts.append(f'<rect x="{left + j * cell}" y="{top + i * cell}" width="{cell}" height="{cell}" fill="{fill}" '
                         f'stroke="#fff"><title>true {escape(str(labels[i]))}, predicted {escape(str(labels[j]))}: '
                         f'{count} ({share:.1%} of the row)</title></rect>')
            if cell >= 28:
                parts.append(f'<text x="{left + j * cell + cell / 2:.1f}" y="{top + i * cell + cell / 2 + 4:.1f}" '
                             f'text-anchor="middle" {FONT}>{count}</text>')
    for j, label in enumerate(labels):
        x = left + j * cell + cell / 2
        parts.append(f'<text transform="translate({x:.1f},{top + k * cell + 8}) rotate(45)" {FONT}>'
                     f'{escape(str(label)[:18])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def bars(labels: Sequence[str], values: Sequence[float], *, title: str,
         intervals: Sequence[Sequence[float] | None] | None = None, reference: float | None = None) -> str:
    """Horizontal bars in [0, 1] with optional CI whiskers and a reference line (e.g. macro-F1)."""
    left, top, bar, plot = 150, 24, 18, 320
    height = top + len(labels) * (bar + 6) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + plot + 70}" height="{height}" role="img" '
             f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
             f'<text x="{left}" y="16" {FONT} font-weight="bold">{escape(title)}</text>']
    for i, (label, value) in enumerate(zip(labels, values)):
        y = top + i * (bar + 6)
        w = max(0.0, min(1.0, value)) * plot
        parts.append(f'<text x="{left - 6}" y="{y + bar - 5}" text-anchor="end" {FONT}>{escape(str(label)[:22])}</text>'
                     f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar}" fill="{PALETTE[0]}"/>'
                     f'<text x="{left + w + 4:.1f}" y="{y + bar - 5}" {FONT}>{value:.3f}</text>')
        interval = intervals[i] if intervals else None
        if interval:
            lo, hi = interval
            parts.append(f'<line x1="{left + lo * plot:.1f}" x2="{left + hi * plot:.1f}" y1="{y + bar / 2}" '
                         f'y2="{y + bar / 2}" stroke="#333" stroke-width="1.5"/>')
    if reference is not None:
        x = left + reference * plot
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top - 4}" y2="{height - 24}" stroke="{PALETTE[1]}" '
                     f'stroke-dasharray="4 3"/><text x="{x:.1f}" y="{height - 10}" text-anchor="middle" {FONT} '
                     f'fill="{PALETTE[1]}">macro {reference:.3f}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _frame(title: str, width: int, height: int, left: int, top: int, plot_w: int, plot_h: int) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
            f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
            f'<text x="{left}" y="16" {FONT} font-weight="bold">{escape(title)}</text>'
            f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#ccc"/>')


def _empty(title: str, width: int, height: int) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height // 3}" role="img">'
            f'<text x="10" y="20" {FONT}>{escape(title)}: no finite points to plot</text></svg>')
