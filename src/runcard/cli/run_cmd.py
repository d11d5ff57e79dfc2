"""`runcard run CONFIG`: run a reference experiment from a typed TOML config."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from runcard.cli.options import AsJson, StoreUrl, print_json
from runcard.recipes import run_config
from runcard.store import open_store

EPILOG = (
    "Examples:\n\n"
    "  runcard run examples/agnews_actions.toml\n\n"
    "  runcard run examples/agnews_actions_logreg.toml --store sqlite:///runs/agnews.db\n\n"
    "Config reference: docs/recipes.md. The card is written to [report] out_dir and its path printed."
)


def run_command(
    config: Annotated[Path, typer.Argument(help="Recipe config (TOML).", show_default=False)],
    store: StoreUrl = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or tables on stderr.")] = False,
    as_json: AsJson = False,
) -> None:
    """Run the experiment a config describes: data, audit, training, evaluation, calibration, card."""
    result = run_config(config, open_store(store), quiet=quiet)
    if as_json:
        print_json({"run": result.run_id, "card": str(result.card_markdown),
                    "card_html": None if result.card_html is None else str(result.card_html),
                    "metrics": result.metrics})
        return
    console = Console()
    console.print(f"run {result.run_id}: card written to {result.card_markdown}"
                  + (f" and {result.card_html}" if result.card_html else ""))
