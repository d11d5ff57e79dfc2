"""How numbers are written in every document: one rule each for metrics, differences, config values.

Metric values have 4 decimals (`DIGITS`) in every document; a count (a value with no direction, such as
``model/n_parameters``, that is a whole number) is an integer; a config value is written exactly as it was
given (``1e-05`` stays ``1e-05``). A difference smaller than what the metric can resolve is a tie. The metric
rule itself (`metric`, `interval`, `with_ci`) lives in `runcard.display`, so notebook views and console tables of
lower layers write a number exactly as the documents do.
"""

from __future__ import annotations

import json
import math
from typing import Any

from runcard.display import DIGITS, interval, metric, with_ci

__all__ = ["DIGITS", "PRECISION_NOTE", "PRINT_RESOLUTION", "config_value", "difference", "interval", "is_tie",
           "metric", "plain", "resolution", "with_ci"]

#: Differences below this are ties whatever the metric (half the last printed digit).
PRINT_RESOLUTION = 0.5 * 10**-DIGITS
PRECISION_NOTE = f"Metric values are rounded to {DIGITS} decimals; differences below a metric's resolution are ties."


def config_value(value: Any) -> str:
    """A config value as written: floats in their shortest exact form (``1e-05``, ``0.0001``), integers as
    integers, booleans as TOML writes them, lists and tables as JSON."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def difference(value: float | None, tie: bool = False) -> str:
    """A signed difference at 4 decimals; a tie is written as one."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if tie:
        return "0 (tie)"
    return f"{value:+.{DIGITS}f}"


def resolution(n: int | None) -> float:
    """The smallest difference a count-based score on ``n`` rows can show (one row in ``n``), never below the
    printed precision; without ``n``, the printed precision."""
    return max(PRINT_RESOLUTION, 1.0 / n) if n else PRINT_RESOLUTION


def is_tie(a: float | None, b: float | None, n: int | None = None) -> bool:
    """Whether two values are the same for a reader: both missing, or closer than the metric's resolution."""
    if a is None or b is None or not (math.isfinite(a) and math.isfinite(b)):
        return a is b or (a is not None and b is not None and str(a) == str(b))
    return abs(a - b) < resolution(n)


def plain(value: Any, key: str | None = None) -> str:
    """A metric value for machine-readable tables (CSV): as `metric` writes it, without thousands separators;
    empty when there is none."""
    return "" if value is None else metric(value, key).replace(",", "")
