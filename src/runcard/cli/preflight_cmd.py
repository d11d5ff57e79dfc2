"""`runcard preflight CONFIG`: check every resource a recipe config needs before a long run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from runcard.cli.options import AsJson, StoreUrl, print_json
from runcard.errors import InputError
from runcard.recipes.preflight import Check, failure_message, preflight

EPILOG = (
    "Examples:\n\n"
    "  runcard preflight examples/agnews_actions.toml\n\n"
    "  runcard preflight examples/stance_sentiment.toml --store sqlite:///runs/mt.db --json\n\n"
    "Checks: data files, encoder (config, weights, tokenizer; the config and tokenizer are loaded), output "
    "folders writable, free disk space, the store, the checkpoint of a top-level resume_from (checked when "
    "present), CUDA when a device = \"cuda\" key asks for it, and the Python packages the recipe imports. "
    "Exit 0 when all pass; 2 with one line per problem. `runcard run` runs the same checks first."
)

_STYLE = {"ok": "green", "FAIL": "bold red", "info": "cyan"}


def checks_table(checks: list[Check], source: str) -> Table:
    """The checks as a table: check, key, what, status, detail."""
    table = Table(title=f"Preflight of {source}", title_justify="left")
    for column in ("check", "key", "what", "status", "detail"):
        table.add_column(column, overflow="fold")
    for c in checks:
        detail = c.detail + (f" (fix: {c.fix})" if c.fix and not c.ok else "")
        table.add_row(c.name, c.key, c.target, f"[{_STYLE[c.status]}]{c.status}[/]", detail)
    return table


def preflight_command(
    config: Annotated[Path, typer.Argument(help="Recipe config (TOML).", show_default=False)],
    store: StoreUrl = None,
    min_free_gb: Annotated[float, typer.Option("--min-free-gb", min=0.0, help="Free disk space needed in each "
                                               "output folder and in the store's artifact folder, in GiB.")] = 1.0,
    as_json: AsJson = False,
) -> None:
    """Check that a run of CONFIG has everything it needs, before starting it; list what is missing."""
    checks = preflight(config, store=store, min_free_gb=min_free_gb)
    message = failure_message(checks, str(config))
    if as_json:
        print_json({"config": str(config), "ok": message is None, "checks": [c.to_dict() for c in checks]})
    else:
        Console().print(checks_table(checks, str(config)))
    if message is not None:
        raise InputError(message)
