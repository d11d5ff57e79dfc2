"""`runcard compare`: runs side by side, or two prediction files paired on their examples."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from runcard.cli.options import AsJson, NBoot, Seed, StoreUrl, print_json
from runcard.cli.render import comparison_report, print_group
from runcard.cli.report_cmd import Html, Out, Targets, emit
from runcard.compare import compare_tables
from runcard.data.predictions import FORMATS, load_predictions
from runcard.errors import InputError
from runcard.report.comparison import build_comparison, load_targets
from runcard.report.multi import comparison_html, comparison_markdown
from runcard.runs import get_run
from runcard.store import open_store

EPILOG = (
    "Examples:\n\n"
    "  runcard compare 3fa9 7c21                      (stored runs: config diff, metrics, paired tests)\n\n"
    "  runcard compare 3fa9 7c21 b004 --targets targets.toml --html --out compare.html\n\n"
    "  runcard compare baseline_test.csv candidate_test.csv   (two prediction files)\n\n"
    "Prediction files are paired by their id column (or by row order when neither has one)."
)


def _is_file(item: str) -> bool:
    path = Path(item)
    return path.suffix.lower() in FORMATS and path.is_file()


def compare_command(
    items: Annotated[list[str], typer.Argument(help="Run ids (or prefixes), or two prediction files.",
                                               show_default=False)],
    targets: Targets = None,
    html: Html = False,
    out: Out = None,
    n_boot: NBoot = 1000,
    seed: Seed = 0,
    store: StoreUrl = None,
    as_json: AsJson = False,
) -> None:
    """Compare runs (the first is the baseline) or two prediction files: differences with paired CIs."""
    if len(items) < 2:
        raise InputError("compare needs at least two runs (or two prediction files).")
    if all(_is_file(i) for i in items):
        if len(items) != 2:
            raise InputError("prediction files are compared two at a time: runcard compare A B.")
        result = compare_tables(load_predictions(items[0]), load_predictions(items[1]), n_boot=n_boot, seed=seed)
        if as_json:
            print_json(result.to_dict())
        else:
            print_group(comparison_report(result))
        return
    files = [i for i in items if _is_file(i)]
    if files:
        raise InputError(f"{files[0]} is a file but the other arguments are runs; compare runs with runs, files with files.")
    goals = load_targets(targets) if targets else None
    opened = open_store(store)
    runs = [get_run(i, opened) for i in items]
    if len({r.id for r in runs}) != len(runs):
        raise InputError("the same run is named twice; compare different runs.")
    doc = build_comparison(opened, runs, targets=goals, n_boot=n_boot, seed=seed)
    emit(doc, comparison_html(doc) if html else comparison_markdown(doc), out, as_json)
