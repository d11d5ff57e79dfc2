"""Typer's coercion of command-line values, without pydantic for the plain ones.

Typer (0.29) turns every value into its parameter's type through a pydantic ``TypeAdapter``: importing pydantic
and building the adapters costs each command 0.1-0.2 s before it starts, more than reading and evaluating a
7,600-row file. The values runcard's commands take are almost always plain: a whole number, a decimal, a
string, a path, a flag. `PlainCoercion` returns for those exactly what typer's adapter returns (the same
``int(text)``, ``float(text)``, ``Path(text)``, then typer's own range and path checks), and hands any other value
(an unusual spelling, one out of range, a wrong one) to typer's own coercion, so that every error is typer's,
word for word (tests/cli/test_coercion.py compares the two on every parameter of every command).

This reaches into typer's private modules; where a typer release lacks them, `install` does nothing and typer
coerces as it does by itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args, get_origin

try:
    from typer._coercion import RuntimeParam, TypeDescriptor, build_runtime_param
    from typer._param_types import coerce_cli_path
except ImportError:  # pragma: no cover - another typer: its own coercion throughout
    RuntimeParam = None  # type: ignore[assignment,misc]

#: The spellings pydantic parses as ``int(text)`` and ``float(text)``; other spellings it also accepts
#: ("3.0" or "1_000" for an int) go to typer's coercion.
_INT = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_MISS = object()


def install(params: Iterable[Any]) -> None:
    """Give each typer parameter in ``params`` a `PlainCoercion` (nothing where typer's internals differ)."""
    if RuntimeParam is None:  # pragma: no cover
        return
    for param in params:
        descriptor = getattr(param, "type_descriptor", None)
        if isinstance(descriptor, TypeDescriptor) and getattr(param, "_runtime_param", _MISS) is None:
            param._runtime_param = PlainCoercion(descriptor.parameter_info, descriptor.annotation, descriptor)


if RuntimeParam is not None:

    @dataclass(frozen=True)
    class PlainCoercion(RuntimeParam):
        """A plain value as typer's adapter would return it; anything else through typer's coercion."""

        descriptor: TypeDescriptor

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            plain = _plain(self.descriptor, value, param, ctx)
            if plain is not _MISS:
                return plain
            return build_runtime_param(self.descriptor)._coerce_value(value, param=param, ctx=ctx)


def _plain(descriptor: Any, value: Any, param: Any, ctx: Any) -> Any:
    """``value`` coerced as typer would, or `_MISS` where this cannot tell what typer would do."""
    annotation, info = descriptor.annotation, descriptor.parameter_info
    if descriptor.file_annotation is not None or info.parser is not None:
        return _MISS
    if get_origin(annotation) is list and get_args(annotation) == (str,):
        items = value if isinstance(value, (list, tuple)) else [value]
        return list(items) if all(type(v) is str for v in items) else _MISS
    if annotation is bool:
        return value if type(value) is bool else _MISS
    if annotation is str:
        return value if type(value) is str else _MISS
    if annotation is int or annotation is float:
        return _number(annotation, info, value)
    if isinstance(annotation, type) and issubclass(annotation, Path):
        path_type = info.path_type or annotation
        if type(value) is str and value:
            value = path_type(value)  # what pydantic's Path validation does with a string
        if isinstance(value, path_type):
            return coerce_cli_path(value, info, path_type=path_type, param=param, ctx=ctx)
    return _MISS


def _number(kind: type, info: Any, value: Any) -> Any:
    if info.clamp:
        return _MISS
    if type(value) is kind:
        number = value
    elif type(value) is str and (_INT if kind is int else _FLOAT).fullmatch(value):
        number = kind(value)
    else:
        return _MISS
    if (info.min is not None and number < info.min) or (info.max is not None and number > info.max):
        return _MISS  # typer words the error
    return number
