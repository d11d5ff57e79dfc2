"""Inline SVG plots for the HTML documents: no network, every label escaped, every text inside its box.

Each function takes plain numbers and returns one ``<svg>`` element as a string. Margins are computed from
the labels they hold (`text_width`, a conservative estimate of the rendered width), so no label is clipped and
none leaves the plot; the test suite measures every text element in Chromium to hold them to it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")
SIZE = 11
FONT = f'font-family="system-ui, sans-serif" font-size="{SIZE}"'
#: Labels longer than this (in pixels) are cut with an ellipsis; the full label is in the element's title.
MAX_LABEL = 190


def text_width(text: str, size: float = SIZE) -> float:
    """A generous estimate of the width of ``text`` in pixels (proportional sans-serif)."""
    width = 0.0
    for ch in text:
        if ch in "il.,:;|!'`":
            width += 0.32
        elif ch in "mwMW@%":
            width += 0.95
        elif ch.isupper() or ch.isdigit():
            width += 0.72
        else:
            width += 0.6
    return width * size + 2


def fit(text: str, limit: float = MAX_LABEL) -> str:
    """``text``, cut with an ellipsis so it fits in ``limit`` pixels."""
    if text_width(text) <= limit:
        return text
    while text and text_width(text + "…") > limit:
        text = text[:-1]
    return text + "…"


def _label(x: float, y: float, text: str, *, anchor: str = "start", limit: float = MAX_LABEL, extra: str = "") -> str:
    """A text element, cut to ``limit`` with the full text as its tooltip."""
    shown = fit(text, limit)
    tip = f"<title>{escape(text)}</title>" if shown != text else ""
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" {FONT}{extra}>{tip}{escape(shown)}</text>'


def _ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    step = 10 ** math.floor(math.log10((hi - lo) / count))
    for factor in (1, 2, 5, 10):
        if (hi - lo) / (step * factor) <= count:
            step *= factor
            break
    start = math.ceil(lo / step) * step
    return [start + i * step for i in range(int((hi - start) / step + 1e-9) + 1)]


def _fmt(value: float) -> str:
    return f"{value:.3g}"


def _open(width: float, height: float, title: str, left: float) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" role="img" '
            f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
            + _label(left, 16, title, extra=' font-weight="bold"', limit=max(120, width - left - 4)))


def line_chart(series: Mapping[str, Sequence[Sequence[float]]], *, title: str, width: int = 640, height: int = 270,
               log_y: bool = False, x_label: str = "step", marker: float | None = None,
               marker_label: str | None = None) -> str:
    """Lines of ``(x, y)`` points, one per named series, with axes, axis titles and a legend; ``marker`` draws
    a dashed vertical line at that x (e.g. the epoch whose checkpoint was selected)."""
    points = {k: [(float(x), float(y)) for x, y in v if y is not None and math.isfinite(float(y))
                  and (not log_y or float(y) > 0)] for k, v in series.items()}
    points = {k: v for k, v in points.items() if v}
    if not points:
        return _empty(title, width, height)
    legend = min(MAX_LABEL, max(text_width(k) for k in points)) + 30
    left, top, bottom = 60, 28, 44
    plot_w, plot_h = width - left - legend - 10, height - top - bottom
    xs = [x for v in points.values() for x, _ in v]
    ys = [math.log10(y) if log_y else y for v in points.values() for _, y in v]
    x_lo, x_hi = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
    y_lo, y_hi = min(ys), max(ys) if max(ys) > min(ys) else min(ys) + 1
    pad = (y_hi - y_lo) * 0.06
    y_lo, y_hi = y_lo - pad, y_hi + pad

    def sx(x: float) -> float:
        return left + (x - x_lo) / (x_hi - x_lo) * plot_w

    def sy(y: float) -> float:
        value = math.log10(y) if log_y else y
        return top + (1 - (value - y_lo) / (y_hi - y_lo)) * plot_h

    parts = [_open(width, height, title, left),
             f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#ccc"/>']
    for t in _ticks(y_lo, y_hi):
        y = top + (1 - (t - y_lo) / (y_hi - y_lo)) * plot_h
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>'
                     + _label(left - 4, y + 4, _fmt(10**t) if log_y else _fmt(t), anchor="end", limit=left - 6))
    parts.extend(_label(sx(t), top + plot_h + 14, _fmt(t), anchor="middle", limit=60)
                 for t in _ticks(x_lo, x_hi) if x_lo <= t <= x_hi)
    if marker is not None and x_lo <= marker <= x_hi:
        x = sx(marker)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + plot_h}" stroke="#555" '
                     f'stroke-dasharray="3 3"/>' + _label(min(x + 3, left + plot_w - 4), top + 12,
                                                           marker_label or "selected",
                                                           anchor="start" if x + 80 < left + plot_w else "end",
                                                           limit=plot_w / 2))
    for i, (name, pts) in enumerate(points.items()):
        color = PALETTE[i % len(PALETTE)]
        if len(pts) == 1:
            parts.append(f'<circle cx="{sx(pts[0][0]):.1f}" cy="{sy(pts[0][1]):.1f}" r="3" fill="{color}"/>')
        else:
            path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in pts)
            parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.6" points="{path}"/>')
        ly = top + 12 + i * 15
        parts.append(f'<rect x="{left + plot_w + 10}" y="{ly - 7}" width="12" height="3" fill="{color}"/>'
                     + _label(left + plot_w + 26, ly, name, limit=legend - 30))
    parts.append(_label(left + plot_w / 2, height - 6, x_label, anchor="middle", limit=plot_w) + "</svg>")
    return "".join(parts)


def reliability_diagram(before: Sequence[dict], after: Sequence[dict] | None = None, *, title: str,
                        size: int = 360) -> str:
    """Accuracy against mean confidence per bin, before (and after) calibration, with the diagonal of perfect
    calibration, axis titles, and the rows per bin as a histogram under the plot."""
    left, top, plot, hist = 56, 28, size - 90, 60
    legend = 90 if after else 20
    width, height = left + plot + legend, top + plot + 34 + hist + 30
    parts = [_open(width, height, title, left),
             f'<rect x="{left}" y="{top}" width="{plot}" height="{plot}" fill="none" stroke="#ccc"/>']
    for t in (0.0, 0.25, 0.5, 0.75, 1.0):
        x, y = left + t * plot, top + (1 - t) * plot
        parts.append(_label(left - 4, y + 4, f"{t:g}", anchor="end", limit=40)
                     + _label(x, top + plot + 14, f"{t:g}", anchor="middle", limit=40))
    parts.append(f'<line x1="{left}" y1="{top + plot}" x2="{left + plot}" y2="{top}" stroke="#999" stroke-dasharray="4 3"/>')
    parts.append(_label(left + plot / 2, top + plot + 28, "mean confidence in the bin", anchor="middle", limit=plot)
                 + f'<text transform="translate({left - 36},{top + plot / 2}) rotate(-90)" text-anchor="middle" {FONT}>'
                 "accuracy in the bin</text>")
    total = sum(b["count"] for b in before) or 1
    for j, (bins, color, name) in enumerate(((before, PALETTE[1], "before"), (after or [], PALETTE[0], "after"))):
        pts = [(b["confidence"], b["accuracy"], b["count"]) for b in bins if b["count"]]
        if not pts:
            continue
        path = " ".join(f"{left + c * plot:.1f},{top + (1 - a) * plot:.1f}" for c, a, _ in pts)
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.2" points="{path}"/>')
        for c, a, n in pts:
            r = 2 + 5 * math.sqrt(n / total)
            parts.append(f'<circle cx="{left + c * plot:.1f}" cy="{top + (1 - a) * plot:.1f}" r="{r:.1f}" '
                         f'fill="{color}" fill-opacity="0.6"><title>{escape(name)}: confidence {c:.3f}, accuracy '
                         f'{a:.3f}, {n} rows</title></circle>')
        if after:
            parts.append(_label(left + plot + 10, top + 14 + 15 * j, name, extra=f' fill="{color}"', limit=legend - 12))
    base = top + plot + 34 + hist
    peak = max((b["count"] for b in before), default=0) or 1
    for b in before:
        if b["count"] and b.get("lower") is not None and b.get("upper") is not None:
            x0, x1 = left + b["lower"] * plot, left + b["upper"] * plot
            h = hist * b["count"] / peak
            parts.append(f'<rect x="{x0 + 0.5:.1f}" y="{base - h:.1f}" width="{max(0.5, x1 - x0 - 1):.1f}" height="{h:.1f}" '
                         f'fill="#999"><title>({b["lower"]:.2f}, {b["upper"]:.2f}]: {b["count"]} rows</title></rect>')
    parts.append(f'<line x1="{left}" x2="{left + plot}" y1="{base}" y2="{base}" stroke="#ccc"/>'
                 + _label(left + plot / 2, base + 14, f"rows per bin (most: {peak:,})", anchor="middle", limit=plot)
                 + "</svg>")
    return "".join(parts)


def heatmap(matrix: Sequence[Sequence[int]], labels: Sequence[str], *, title: str, cell_id: str | None = None) -> str:
    """A confusion matrix: rows the true class, columns the predicted one; each cell shaded by its share of the
    row and printing its count and that share. With ``cell_id``, each cell carries ``data-cell="{cell_id}:i:j"``
    (a card's examples browser opens its rows)."""
    k = len(labels)
    names = [str(c) for c in labels]
    cell = max(22, min(64, 520 // max(k, 1)))
    label_w = min(MAX_LABEL, max(text_width(n) for n in names)) + 8
    left, top = 30 + label_w, 30
    diag = label_w * 0.72  # rotated column labels reach this far down and right
    width = left + cell * k + diag + 10
    height = top + cell * k + diag + 36
    parts = [_open(width, height, title, 4)]
    parts.append(f'<text transform="translate(14,{top + k * cell / 2:.1f}) rotate(-90)" text-anchor="middle" {FONT} '
                 'font-weight="bold">true class</text>')
    for i, row in enumerate(matrix):
        total = sum(row) or 1
        parts.append(_label(left - 6, top + i * cell + cell / 2 + 4, names[i], anchor="end", limit=label_w))
        for j, count in enumerate(row):
            share = count / total
            shade = int(255 - 200 * share)
            fill = f"rgb({shade},{shade},255)" if i == j else f"rgb(255,{shade},{shade})"
            data = f' data-cell="{escape(cell_id)}:{i}:{j}" class="cell"' if cell_id is not None and count else ""
            parts.append(f'<rect x="{left + j * cell}" y="{top + i * cell}" width="{cell}" height="{cell}" fill="{fill}" '
                         f'stroke="#fff"{data}><title>true {escape(names[i])}, predicted {escape(names[j])}: '
                         f'{count} ({share:.1%} of the row)</title></rect>')
            cx, cy = left + j * cell + cell / 2, top + i * cell + cell / 2
            if cell >= 40:
                parts.append(f'<text x="{cx:.1f}" y="{cy:.1f}" text-anchor="middle" {FONT} pointer-events="none">{count}'
                             f'</text><text x="{cx:.1f}" y="{cy + 13:.1f}" text-anchor="middle" font-family="system-ui, '
                             f'sans-serif" font-size="9" fill="#444" pointer-events="none">{share:.0%}</text>')
            elif cell >= 26:
                parts.append(f'<text x="{cx:.1f}" y="{cy + 4:.1f}" text-anchor="middle" font-family="system-ui, '
                             f'sans-serif" font-size="9" pointer-events="none">{count}</text>')
    for j, name in enumerate(names):
        x = left + j * cell + cell / 2
        shown = fit(name, label_w)
        tip = f"<title>{escape(name)}</title>" if shown != name else ""
        parts.append(f'<text transform="translate({x - 3:.1f},{top + k * cell + 10}) rotate(45)" {FONT}>{tip}'
                     f'{escape(shown)}</text>')
    parts.append(_label(left + k * cell / 2, height - 6, "predicted class", anchor="middle", extra=' font-weight="bold"',
                        limit=width - left) + "</svg>")
    return "".join(parts)


def bars(labels: Sequence[str], values: Sequence[float], *, title: str,
         intervals: Sequence[Sequence[float] | None] | None = None, reference: float | None = None,
         reference_label: str = "macro") -> str:
    """Horizontal bars in [0, 1] with CI whiskers and an optional reference line (e.g. macro-F1); each value's
    label sits right of both its bar and its whisker, so no whisker crosses it."""
    names = [str(c) for c in labels]
    label_w = min(MAX_LABEL, max((text_width(n) for n in names), default=40)) + 8
    left, top, bar, plot = label_w + 6, 26, 18, 320
    height = top + len(names) * (bar + 6) + 34
    parts = [_open(left + plot + 60, height, title, 4)]
    for i, (name, value) in enumerate(zip(names, values)):
        y = top + i * (bar + 6)
        w = max(0.0, min(1.0, value)) * plot
        interval = intervals[i] if intervals else None
        end = w if not interval else max(w, max(0.0, min(1.0, interval[1])) * plot)
        parts.append(_label(left - 6, y + bar - 5, name, anchor="end", limit=label_w)
                     + f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar}" fill="{PALETTE[0]}" fill-opacity="0.85"/>')
        if interval:
            lo, hi = (max(0.0, min(1.0, v)) * plot for v in interval)
            parts.append(f'<line x1="{left + lo:.1f}" x2="{left + hi:.1f}" y1="{y + bar / 2}" y2="{y + bar / 2}" '
                         f'stroke="#333" stroke-width="1.5"/><line x1="{left + lo:.1f}" x2="{left + lo:.1f}" '
                         f'y1="{y + 4}" y2="{y + bar - 4}" stroke="#333"/><line x1="{left + hi:.1f}" '
                         f'x2="{left + hi:.1f}" y1="{y + 4}" y2="{y + bar - 4}" stroke="#333"/>')
        parts.append(_label(left + end + 5, y + bar - 5, f"{value:.3f}", limit=52))
    if reference is not None:
        x = left + reference * plot
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top - 4}" y2="{height - 26}" stroke="{PALETTE[1]}" '
                     f'stroke-dasharray="4 3"/>' + _label(x, height - 10, f"{reference_label} {reference:.3f}",
                                                            anchor="middle", extra=f' fill="{PALETTE[1]}"', limit=120))
    parts.append("</svg>")
    return "".join(parts)


def forest(rows: Sequence[tuple[str, float, float, float, bool]], *, title: str) -> str:
    """Paired differences B − A, one row per ``(label, difference, ci_lo, ci_hi, significant)``: the point, its
    95 % CI and the zero line; a difference that survives the document's correction is drawn filled."""
    label_w = min(MAX_LABEL, max((text_width(r[0]) for r in rows), default=40)) + 8
    left, top, step, plot, right = label_w + 6, 28, 22, 340, 215
    height = top + len(rows) * step + 40
    span = max([abs(v) for r in rows for v in (r[2], r[3]) if math.isfinite(v)] + [1e-3]) * 1.1
    parts = [_open(left + plot + right, height, title, 4)]

    def sx(v: float) -> float:
        return left + (v + span) / (2 * span) * plot

    parts.append(f'<line x1="{sx(0):.1f}" x2="{sx(0):.1f}" y1="{top - 6}" y2="{top + len(rows) * step}" '
                 'stroke="#999" stroke-dasharray="4 3"/>')
    for i, (name, diff, lo, hi, significant) in enumerate(rows):
        y = top + i * step + step / 2
        color = PALETTE[2] if significant and diff > 0 else PALETTE[1] if significant else "#555"
        parts.append(_label(left - 6, y + 4, name, anchor="end", limit=label_w)
                     + f'<line x1="{sx(lo):.1f}" x2="{sx(hi):.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{color}" '
                     f'stroke-width="2"/><circle cx="{sx(diff):.1f}" cy="{y:.1f}" r="4" stroke="{color}" '
                     f'fill="{color if significant else "#fff"}"><title>{escape(name)}: {diff:+.4f} [{lo:+.4f}, '
                     f'{hi:+.4f}]</title></circle>'
                     + _label(left + plot + 8, y + 4, f"{diff:+.4f} [{lo:+.4f}, {hi:+.4f}]", limit=right - 10))
    parts.extend(_label(sx(t), top + len(rows) * step + 14, f"{t:+.3f}" if t else "0", anchor="middle", limit=60)
                 for t in (-span, 0.0, span))
    parts.append(_label(left + plot / 2, height - 6, "B − A (filled: beyond noise after correction)",
                        anchor="middle", limit=plot) + "</svg>")
    return "".join(parts)


def paired_bars(labels: Sequence[str], a: Sequence[float], b: Sequence[float], *, title: str,
                names: tuple[str, str] = ("A", "B")) -> str:
    """Two bars per label (A above B), values in [0, 1], with a legend: e.g. per-class F1 of two runs."""
    label_w = min(MAX_LABEL, max((text_width(str(n)) for n in labels), default=40)) + 8
    left, top, bar, plot = label_w + 6, 40, 10, 320
    height = top + len(labels) * (2 * bar + 8) + 16
    parts = [_open(left + plot + 60, height, title, 4)]
    for j, (name, color) in enumerate(zip(names, PALETTE)):
        parts.append(f'<rect x="{left + j * 150}" y="24" width="10" height="8" fill="{color}"/>'
                     + _label(left + j * 150 + 14, 32, name, limit=130))
    for i, label in enumerate(labels):
        y = top + i * (2 * bar + 8)
        parts.append(_label(left - 6, y + bar + 4, str(label), anchor="end", limit=label_w))
        for j, value in enumerate((a[i], b[i])):
            w = max(0.0, min(1.0, value)) * plot
            parts.append(f'<rect x="{left}" y="{y + j * bar}" width="{w:.1f}" height="{bar - 1}" fill="{PALETTE[j]}"/>'
                         + _label(left + w + 4, y + j * bar + bar - 1, f"{value:.3f}", limit=52))
    parts.append("</svg>")
    return "".join(parts)


def _empty(title: str, width: int, height: int) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height // 3}" role="img">'
            + _label(10, 20, f"{title}: no finite points to plot", limit=width - 20) + "</svg>")
