"""Reading TOML files (configs, targets, sweeps) with errors that name the file."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from runcard.errors import InputError


def read_toml(path: str | Path, what: str = "file", hint: str = "") -> dict[str, Any]:
    """The parsed TOML of ``path``; a missing file or bad TOML is an `InputError` naming it (``what``
    says what kind of file, ``hint`` how to find the right one)."""
    path = Path(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such {what}{hint}.") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML ({exc}).") from None
