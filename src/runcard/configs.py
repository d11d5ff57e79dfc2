"""Run configs as flat dotted keys, and the keys on which several configs differ (for config tables
and diffs in every document, and for the findings that read configs)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any


def flatten_config(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested config as ``a.b.c`` keys; an empty dict is a value of its own."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, Mapping) and value:
            out.update(flatten_config(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def config_differences(configs: Sequence[Mapping[str, Any]]) -> list[str]:
    """Flattened config keys whose values are not the same in every config."""
    flat = [flatten_config(c) for c in configs]
    keys = sorted(set().union(*flat)) if flat else []
    return [k for k in keys if len({json.dumps(f.get(k), sort_keys=True, default=str) for f in flat}) > 1]
