"""`runcard.cli.coercion`: every parameter of every command coerces each value exactly as typer's own (pydantic)
coercion does, the value or the error word for word, whichever of the two paths the value takes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("typer._coercion", reason="a typer that coerces through pydantic (0.29 on)")

from typer._click import Context
from typer._click.exceptions import ClickException
from typer._coercion import build_runtime_param

from runcard.cli.app import COMMANDS, app, load_command
from runcard.cli.coercion import PlainCoercion

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "agnews_tfidf_lr" / "test.csv"

#: Plain spellings (coerced here), others pydantic accepts (" 3", "3.0", "1_000": typer's path), wrong ones, values
#: out of every range the commands declare, and the Python values defaults arrive as.
VALUES: list[Any] = [
    None, "", "0", "1", "2", "15", "-3", "+7", "3.0", " 3", "1_000", "1e3", ".5", "5.", "0.05", "1e-7", "0.6", "inf",
    "nan", "65536", "abc", "true", "no", str(EXAMPLE), str(ROOT / "no" / "such.csv"), str(ROOT), "-",
    0, 1, 15, -1, 0.05, 2.5, True, False, Path("runs.db"), ("a", "b"), ["x"], (), ("a", 1),
]


def outcome(runtime: Any, value: Any, param: Any, ctx: Any) -> tuple[str, Any, Any]:
    try:
        result = runtime.coerce(value, param=param, ctx=ctx)
    except ClickException as exc:  # the error typer shows: its class and words
        return ("error", type(exc).__name__, exc.format_message())
    return ("value", type(result).__name__, result)


def parameters() -> list[Any]:
    out = []
    for name in COMMANDS:
        command = load_command(name)
        ctx = Context(command)
        out += [pytest.param(command, p, ctx, id=f"{name}:{p.name}")
                for p in [*command.params, command.get_help_option(ctx)]]
    root = app_command()
    ctx = Context(root)
    out += [pytest.param(root, p, ctx, id=f"runcard:{p.name}") for p in [*root.params, root.get_help_option(ctx)]]
    return out


def app_command() -> Any:
    import typer

    return typer.main.get_command(app)


@pytest.mark.parametrize(("command", "param", "ctx"), parameters())
def test_each_value_as_typer_coerces_it(command: Any, param: Any, ctx: Any) -> None:
    plain = param._runtime_param
    assert isinstance(plain, PlainCoercion), "every parameter gets the plain coercion"
    typer_own = build_runtime_param(param.type_descriptor)
    for value in VALUES:
        assert outcome(plain, value, param, ctx) == outcome(typer_own, value, param, ctx), value


def test_a_bad_value_is_typers_error_through_the_real_entry_point() -> None:
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "runcard", "eval", str(EXAMPLE), "--bins", "0"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 2
    assert "Invalid value for '--bins': Input should be greater than or equal to 1" in result.stderr
