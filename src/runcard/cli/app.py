"""The Typer application, the one place commands are registered, and error-to-exit-code mapping.

Exit codes: 0 success, 2 bad input (an `InputError`, or a usage error), 1 any other failure.
Tracebacks are shown only with ``RUNCARD_DEBUG=1``.
"""

from __future__ import annotations

import os
import sys
import traceback

import typer

from runcard._version import __version__
from runcard.cli import (
    calibrate_cmd,
    compare_cmd,
    eval_cmd,
    evalgen_cmd,
    import_cmd,
    preflight_cmd,
    report_cmd,
    run_cmd,
    runs_cmd,
    sweep_cmd,
)
from runcard.errors import InputError, RunCardError

app = typer.Typer(
    name="runcard",
    help="Exact evaluation, calibration and comparison of ML predictions, with confidence intervals.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command("eval", epilog=eval_cmd.EPILOG)(eval_cmd.eval_command)
app.command("eval-gen", epilog=evalgen_cmd.EPILOG)(evalgen_cmd.evalgen_command)
app.command("calibrate", epilog=calibrate_cmd.EPILOG)(calibrate_cmd.calibrate_command)
app.command("compare", epilog=compare_cmd.EPILOG)(compare_cmd.compare_command)
app.command("runs", epilog=runs_cmd.RUNS_EPILOG)(runs_cmd.runs_command)
app.command("show", epilog=runs_cmd.SHOW_EPILOG)(runs_cmd.show_command)
app.command("rm", epilog=runs_cmd.RM_EPILOG)(runs_cmd.rm_command)
app.command("import", epilog=import_cmd.EPILOG)(import_cmd.import_command)
app.command("run", epilog=run_cmd.EPILOG)(run_cmd.run_command)
app.command("preflight", epilog=preflight_cmd.EPILOG)(preflight_cmd.preflight_command)
app.command("card", epilog=report_cmd.CARD_EPILOG)(report_cmd.card_command)
app.command("summary", epilog=report_cmd.SUMMARY_EPILOG)(report_cmd.summary_command)
app.command("sweep", epilog=sweep_cmd.EPILOG)(sweep_cmd.sweep_command)


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
    except InputError as exc:
        _fail(exc, 2)
    except RunCardError as exc:
        _fail(exc, 1)
    except KeyboardInterrupt:
        sys.stderr.write("runcard: interrupted\n")
        sys.exit(130)
    except Exception as exc:
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
