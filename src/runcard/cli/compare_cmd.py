"""`runcard compare`: paired comparison of two prediction files on the same examples."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from runcard.cli.options import AsJson, NBoot, Seed, print_json
from runcard.cli.render import comparison_report, print_group
from runcard.compare import compare_tables
from runcard.data.predictions import load_predictions

EPILOG = (
    "Examples:\n\n"
    "  runcard compare baseline_test.csv candidate_test.csv\n\n"
    "  runcard compare a.parquet b.parquet --json\n\n"
    "Rows are paired by the id column (or by row order when neither file has one)."
)


def compare_command(
    a: Annotated[Path, typer.Argument(help="Predictions of system A (the baseline).", show_default=False)],
    b: Annotated[Path, typer.Argument(help="Predictions of system B (the candidate).", show_default=False)],
    n_boot: NBoot = 1000,
    seed: Seed = 0,
    as_json: AsJson = False,
) -> None:
    """B − A in accuracy and macro-F1 with paired-bootstrap 95 % CIs, and McNemar's exact test."""
    result = compare_tables(load_predictions(a), load_predictions(b), n_boot=n_boot, seed=seed)
    if as_json:
        print_json(result.to_dict())
        return
    print_group(comparison_report(result))
