"""JSON that every parser reads (RFC 8259): NaN and infinities as the strings "NaN", "Infinity" and "-Infinity"
(the protobuf JSON mapping's convention), numpy scalars as plain numbers. Every ``--json`` output and every saved
JSON document goes through `dumps`."""

from __future__ import annotations

import json
import math
from typing import Any


def finite(value: Any) -> Any:
    """``value`` with every non-finite float replaced by its string, recursively (lists, tuples, dicts)."""
    if isinstance(value, float):
        if math.isfinite(value):
            return float(value)
        return "NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 0) == 0:
        return finite(value.item())  # numpy scalars
    return value


def dumps(value: Any, **kw: Any) -> str:
    """`json.dumps` of `finite` ``value``; never writes NaN or Infinity tokens."""
    return json.dumps(finite(value), allow_nan=False, **kw)
