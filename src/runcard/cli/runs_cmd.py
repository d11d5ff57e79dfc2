"""`runcard runs`, `runcard show`, `runcard rm`: read and remove stored runs."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from runcard.cli.options import AsJson, StoreUrl, print_json
from runcard.cli.render_runs import PLAIN_ABOVE, run_detail, runs_lines, runs_table
from runcard.runs import get_run, list_runs, remove_run, run_listings

RUNS_EPILOG = (
    "Examples:\n\n"
    "  runcard runs\n\n"
    "  runcard runs --project agnews-actions --status crashed\n\n"
    "  runcard runs --json --store postgresql+psycopg://me@db/runcard"
)
SHOW_EPILOG = "Examples:\n\n  runcard show 3fa9\n\n  runcard show 3fa9c1d2 --json"
RM_EPILOG = "Examples:\n\n  runcard rm 3fa9"


def runs_command(
    project: Annotated[str | None, typer.Option("--project", help="Only runs of this project.")] = None,
    status: Annotated[str | None, typer.Option("--status", help="Only runs with this status: "
                                               "running, finished, failed, crashed.")] = None,
    store: StoreUrl = None,
    as_json: AsJson = False,
) -> None:
    """List runs, oldest first (runs whose process died show as crashed)."""
    if as_json:
        print_json([r.to_dict() for r in list_runs(project, store, status=status)])
        return
    runs = run_listings(project, store, status=status)  # what the listing shows, without stages and artifacts
    if len(runs) > PLAIN_ABOVE:  # rich is not even imported
        sys.stdout.write("\n".join(runs_lines(runs)) + "\n")
        return
    from rich.console import Console

    if not runs:
        Console(stderr=True).print("no runs" + (f" in project {project!r}" if project else "") +
                                   (f" with status {status!r}" if status else ""))
        return
    Console().print(runs_table(runs))


def show_command(
    run: Annotated[str, typer.Argument(help="Run id or a unique prefix of one.", show_default=False)],
    store: StoreUrl = None,
    as_json: AsJson = False,
) -> None:
    """Show one run: status, config, summary metrics, stage timings, artifacts with hashes."""
    found = get_run(run, store)
    if as_json:
        print_json(found.to_dict())
        return
    from runcard.cli.render import print_group

    print_group(run_detail(found))


def rm_command(
    run: Annotated[str, typer.Argument(help="Run id or a unique prefix of one.", show_default=False)],
    force: Annotated[bool, typer.Option("--force", help="Remove even if the run looks alive.")] = False,
    store: StoreUrl = None,
) -> None:
    """Remove a run, its metrics and records, and artifact files no other run uses."""
    removed, left = remove_run(run, store, force=force)
    from rich.console import Console

    console = Console(stderr=True)
    console.print(f"removed run {removed.id} ({removed.project}/{removed.name})", markup=False)
    for problem in left:
        console.print(problem, markup=False)
