"""Plots only the UI draws, as inline SVG (no library, no script): the parallel coordinates of a sweep.

Every label is escaped; the drawing reads the values it is given (config values as stored, metric values from
the summary document) and computes nothing but their positions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from runcard.report.numbers import config_value, metric
from runcard.report.svg import fit

#: At most this many runs are drawn (the best first); the caption says when some are left out.
MAX_LINES = 1500
AXIS_GAP = 190
HEIGHT = 300
TOP, BOTTOM, LEFT = 40, 56, 60


def _axis(values: Sequence[Any]) -> tuple[str, Any]:
    """How one axis places its values: ("log", (lo, hi)), ("linear", (lo, hi)) or ("category", labels)."""
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)]
    if numbers and len(numbers) == len([v for v in values if v is not None]):
        lo, hi = min(numbers), max(numbers)
        if lo > 0 and hi / lo >= 10:  # learning rates, weight decays: a decade or more is read on a log scale
            return "log", (math.log10(lo), math.log10(hi))
        return "linear", (lo, hi)
    labels = sorted({config_value(v) for v in values if v is not None})
    return "category", labels


def _position(kind: str, spec: Any, value: Any) -> float | None:
    """0 (bottom) to 1 (top) on an axis; None when the run has no value there."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    if kind == "category":
        labels = spec
        text = config_value(value)
        return 0.5 if len(labels) == 1 else labels.index(text) / (len(labels) - 1)
    lo, hi = spec
    x = math.log10(value) if kind == "log" else float(value)
    return 0.5 if hi == lo else (x - lo) / (hi - lo)


def _ticks(kind: str, spec: Any, values: Sequence[Any] = ()) -> list[tuple[float, str]]:
    """Where an axis is labelled: its categories; a numeric axis with few distinct values (a grid of learning
    rates) at those values; else five even steps."""
    distinct = sorted({float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)
                       and math.isfinite(v)})
    if kind != "category" and 1 < len(distinct) <= 8:
        return [(_position(kind, spec, v) or 0.0, f"{v:.3g}") for v in distinct]
    if kind == "category":
        labels = spec
        step = max(1, math.ceil(len(labels) / 8))
        return [(_position(kind, spec, label) or 0.0, label) for label in labels[::step]]
    lo, hi = spec
    if hi == lo:
        return [(0.5, config_value(10**lo if kind == "log" else lo))]
    out = []
    for i in range(5):
        x = lo + (hi - lo) * i / 4
        shown = 10**x if kind == "log" else x
        out.append((i / 4, f"{shown:.3g}"))
    return out


def _colour(share: float) -> str:
    """Best (share 1) dark blue to worst (0) light orange."""
    a, b = (33, 102, 172), (244, 165, 130)
    return "#" + "".join(f"{round(b[i] + (a[i] - b[i]) * share):02x}" for i in range(3))


def parallel_coordinates(rows: Sequence[Mapping[str, Any]], keys: Sequence[str], metric_key: str, *,
                         title: str) -> str:
    """One line per run across one axis per config key and a last axis of ``metric_key``; ``rows`` are
    ``{"id", "name", "config": {key: value}, "value": metric value}``, best first (their order colours them)."""
    axes = [*keys, metric_key]
    drawn = list(rows[:MAX_LINES])
    width = LEFT + AXIS_GAP * max(1, len(axes) - 1) + 90
    specs = [_axis([r["config"].get(k) for r in drawn]) for k in keys]
    specs.append(_axis([r["value"] for r in drawn]))
    plot_h = HEIGHT - TOP - BOTTOM
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{HEIGHT}" '
             f'viewBox="0 0 {width} {HEIGHT}" role="img" aria-label="{escape(title)}" class="parallel">',
             f'<text x="{LEFT}" y="18" font-size="13" font-weight="600">{escape(fit(title, width - 2 * LEFT))}</text>']
    for index in range(len(drawn) - 1, -1, -1):  # the best drawn last, on top
        row = drawn[index]
        points = []
        for i, (key, (kind, spec)) in enumerate(zip(axes, specs)):
            where = _position(kind, spec, row["value"] if i == len(keys) else row["config"].get(key))
            if where is not None:
                points.append(f"{LEFT + AXIS_GAP * i:.1f},{TOP + (1 - where) * plot_h:.1f}")
        share = 1 - index / max(1, len(drawn) - 1)
        tip = f"{row['name']} ({row['id']}): {metric_key} = {metric(row['value'], metric_key)}"
        parts.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="{_colour(share)}" '
                     f'stroke-width="1.2" stroke-opacity="0.55"><title>{escape(tip)}</title></polyline>')
    for i, (key, (kind, spec)) in enumerate(zip(axes, specs)):
        x = LEFT + AXIS_GAP * i
        parts.append(f'<line x1="{x}" y1="{TOP}" x2="{x}" y2="{TOP + plot_h}" stroke="#444" stroke-width="1"/>')
        values = [r["value"] if i == len(keys) else r["config"].get(key) for r in drawn]
        for where, label in _ticks(kind, spec, values):
            y = TOP + (1 - where) * plot_h
            parts.append(f'<line x1="{x - 3}" y1="{y:.1f}" x2="{x + 3}" y2="{y:.1f}" stroke="#444"/>'
                         f'<text x="{x + 5}" y="{y + 4:.1f}" font-size="10" fill="#333">{escape(fit(label, AXIS_GAP - 20))}</text>')
        name = key + (" (log)" if kind == "log" else "")
        parts.append(f'<text x="{x}" y="{HEIGHT - BOTTOM + 22}" font-size="11" text-anchor="middle" '
                     f'font-weight="{600 if i == len(keys) else 400}">{escape(fit(name, AXIS_GAP - 10))}</text>')
    left_out = len(rows) - len(drawn)
    caption = (f"{len(drawn):,} runs, coloured by rank on {metric_key} (dark: best)"
               + (f"; the {left_out:,} below them are left out" if left_out else ""))
    parts.append(f'<text x="{LEFT}" y="{HEIGHT - 10}" font-size="10" fill="#555">{escape(caption)}</text></svg>')
    return "".join(parts)
