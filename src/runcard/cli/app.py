"""The Typer application, the one place commands are registered, and error-to-exit-code mapping.

Exit codes: 0 success, 2 bad input (an `InputError`, or a usage error), 1 any other failure.
Tracebacks are shown only with ``RUNCARD_DEBUG=1``.

A command's module is imported only when that command runs or shows its help: `runcard --help` lists the
commands from the names and one-line summaries registered here, so the CLI starts without importing any command
module, nor the store, numpy or the recipes they use (tests/test_imports.py holds it to that).
"""

from __future__ import annotations

import os
import sys
import traceback
from importlib import import_module
from typing import Any, NamedTuple

import typer
from typer.core import TyperCommand, TyperGroup

from runcard._version import __version__
from runcard.cli.coercion import install as install_plain_coercion
from runcard.errors import InputError, RunCardError


class Command(NamedTuple):
    """A registered command: where its function and examples are, and the line `runcard --help` lists."""

    module: str  # in runcard.cli
    function: str
    epilog: str  # the module's attribute holding the examples
    summary: str  # the first paragraph of the function's docstring


COMMANDS = {
    "eval": Command("eval_cmd", "eval_command", "EPILOG", "Evaluate a prediction file: exact metrics, per-class "
                    "scores, calibration errors, 95 % CIs, findings."),
    "eval-gen": Command("evalgen_cmd", "evalgen_command", "EPILOG", "Evaluate generations: distinct-n, Self-BLEU, "
                        "semantic diversity, pass@k; differences between systems."),
    "calibrate": Command("calibrate_cmd", "calibrate_command", "EPILOG", "Fit post-hoc calibration on validation "
                         "predictions, apply it to test, report before/after."),
    "compare": Command("compare_cmd", "compare_command", "EPILOG", "Compare runs (the first is the baseline) or two "
                       "prediction files: the verdict, paired CIs, findings."),
    "runs": Command("runs_cmd", "runs_command", "RUNS_EPILOG", "List runs, oldest first (runs whose process died "
                    "show as crashed)."),
    "show": Command("runs_cmd", "show_command", "SHOW_EPILOG", "Show one run: status, config, summary metrics, "
                    "stage timings, artifacts with hashes."),
    "rm": Command("runs_cmd", "rm_command", "RM_EPILOG", "Remove a run, its metrics and records, and artifact "
                  "files no other run uses."),
    "import": Command("import_cmd", "import_command", "EPILOG", "Import runs (config, metric series, summaries, "
                      "predictions, checkpoints) into the store."),
    "run": Command("run_cmd", "run_command", "EPILOG", "Run the experiment a config describes: data, audit, "
                   "training, evaluation, calibration, card."),
    "preflight": Command("preflight_cmd", "preflight_command", "EPILOG", "Check that a run of CONFIG has "
                         "everything it needs, before starting it; list what is missing."),
    "card": Command("report_cmd", "card_command", "CARD_EPILOG", "The run card: the result first, then findings, "
                    "results per split with CIs, data, training, config."),
    "summary": Command("report_cmd", "summary_command", "SUMMARY_EPILOG", "Leaderboard of many runs or a sweep: "
                       "takeaways first, sorted, grouped, outliers set apart, findings."),
    "sweep": Command("sweep_cmd", "sweep_command", "EPILOG", "Run a sweep: every trial a recipe run tagged with the "
                     "sweep id, in parallel; then its summary."),
    "ui": Command("ui_cmd", "ui_command", "EPILOG", "Browse the store's runs in a local web app: runs table, run "
                  "cards, comparisons, sweeps, live status."),
}


def load_command(name: str) -> Any:
    """The Typer command ``name``, built from its module (imported now)."""
    spec = COMMANDS[name]
    module = import_module(f"runcard.cli.{spec.module}")
    single = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    single.command(name, cls=_Command, epilog=getattr(module, spec.epilog))(getattr(module, spec.function))
    return typer.main.get_command(single)


class _PlainCoercion:
    """Mixed into a Typer command or group: its plain values (numbers, strings, paths, flags) are coerced without
    pydantic, which typer 0.29 would import for them (0.1-0.2 s); any other value as typer does
    (runcard.cli.coercion)."""

    params: list[Any]

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        install_plain_coercion(self.params)

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]  # made on first use: coerced plainly too
        install_plain_coercion([option])
        return option


class _Command(_PlainCoercion, TyperCommand):
    """A registered command, built from its module."""


class _Listed(TyperCommand):
    """A command as the listing shows it, before its module is imported: its name and summary."""


class _Commands(_PlainCoercion, TyperGroup):
    """The registered commands, each built from its module when it is the one to run (a Ctrl-C while it is
    imported ends as any other does: `main` says so)."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for name, spec in COMMANDS.items():
            self.add_command(_Listed(name=name, short_help=spec.summary))

    def resolve_command(self, ctx: Any, args: list[str]) -> tuple[str | None, Any, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if name is not None and isinstance(command, _Listed):
            command = self.commands[name] = load_command(name)
        return name, command, rest


app = typer.Typer(
    name="runcard",
    help="Exact evaluation, calibration and comparison of ML predictions, with confidence intervals.",
    cls=_Commands,
    rich_markup_mode=None,  # the listing in plain click: `runcard --help` imports no rich (0.25 s); commands keep theirs
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"runcard {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """runcard: turn ML experiment runs into trustworthy write-ups."""


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the app and map errors to exit codes and one-line messages."""
    try:
        app(args=argv, prog_name="runcard")
    except SystemExit as exc:
        # Typer turns a Ctrl-C it did not expect (while parsing, or in a command that does not handle it) into a
        # silent exit 130, raised from the KeyboardInterrupt; say it. Commands that handle it raise from None.
        if exc.code == 130 and isinstance(getattr(exc.__context__, "__cause__", None), KeyboardInterrupt):
            sys.stderr.write("runcard: interrupted\n")
        raise
    except InputError as exc:
        _fail(exc, 2)
    except RunCardError as exc:
        _fail(exc, 1)
    except KeyboardInterrupt:
        sys.stderr.write("runcard: interrupted\n")
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 -- the last line of defence: one message, exit 1
        if os.environ.get("RUNCARD_DEBUG") == "1":
            traceback.print_exc()
        sys.stderr.write(
            f"runcard: internal error: {type(exc).__name__}: {exc}\n"
            "Rerun with RUNCARD_DEBUG=1 for the traceback, and report it.\n"
        )
        sys.exit(1)


def _fail(exc: Exception, code: int) -> None:
    if os.environ.get("RUNCARD_DEBUG") == "1":
        traceback.print_exc()
    sys.stderr.write(f"runcard: error: {exc}\n")
    sys.exit(code)


if __name__ == "__main__":
    main()
