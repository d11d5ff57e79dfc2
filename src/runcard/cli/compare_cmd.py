"""`runcard compare`: runs side by side, or two prediction files paired on their examples."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from runcard.cli.options import (
    Alpha,
    AsJson,
    BinsOverride,
    NBootOverride,
    Renormalize,
    SeedOverride,
    StoreUrl,
)
from runcard.cli.render import comparison_document_report, print_group
from runcard.cli.report_cmd import Csv, Html, Latex, Out, Targets, check_formats, emit, paper_table
from runcard.data.prediction_files import FORMATS
from runcard.errors import InputError
from runcard.eval_settings import EvalSettings
from runcard.report.comparison import build_comparison, build_file_comparison, load_targets
from runcard.report.multi import comparison_html, comparison_markdown
from runcard.runs import get_run
from runcard.store import open_store

EPILOG = (
    "Examples:\n\n"
    "  runcard compare 3fa9 7c21                      (stored runs: config diff, metrics, paired tests)\n\n"
    "  runcard compare 3fa9 7c21 b004 --targets targets.toml --html --out compare.html\n\n"
    "  runcard compare baseline_test.csv candidate_test.csv   (two prediction files)\n\n"
    "  runcard compare 3fa9 7c21 --latex --out table.tex      (a booktabs table for a paper; --csv the same)\n\n"
    "Prediction files are paired by their id column (or by row order when neither has one). Runs are paired on\n"
    "their held-out splits (val, test); --splits train,val,test adds the training split."
)


def _is_file(item: str) -> bool:
    path = Path(item)
    return path.suffix.lower() in FORMATS and path.is_file()


def _splits(value: str | None) -> list[str] | None:
    if value is None:
        return None
    names = [v.strip() for v in value.split(",") if v.strip()]
    if not names:
        raise InputError(f"--splits {value!r}: give split names separated by commas, e.g. val,test.")
    return names


def compare_command(
    items: Annotated[list[str], typer.Argument(help="Run ids (or prefixes), or two prediction files.",
                                               show_default=False)],
    targets: Targets = None,
    html: Html = False,
    latex: Latex = False,
    csv: Csv = False,
    out: Out = None,
    splits: Annotated[str | None, typer.Option("--splits", help="Splits to pair, comma-separated (runs only; "
                                               "default: every held-out split, train left out).",
                                               show_default=False)] = None,
    bins: BinsOverride = None,
    n_boot: NBootOverride = None,
    seed: SeedOverride = None,
    renormalize: Renormalize = False,
    alpha: Alpha = 0.05,
    effect: Annotated[float | None, typer.Option("--effect", min=0.0, help="The difference you want to be able to "
                                                 "see (e.g. 0.01 of accuracy): an `underpowered` finding when the "
                                                 "paired test's minimum detectable difference is larger.",
                                                 show_default=False)] = None,
    store: StoreUrl = None,
    as_json: AsJson = False,
) -> None:
    """Compare runs (the first is the baseline) or two prediction files: the verdict, paired CIs, findings."""
    check_formats(html, as_json, latex, csv)
    if len(items) < 2:
        raise InputError("compare needs at least two runs (or two prediction files).")
    goals = load_targets(targets) if targets else None
    if all(_is_file(i) for i in items):
        if len(items) != 2:
            raise InputError("prediction files are compared two at a time: runcard compare A B.")
        if splits is not None:
            raise InputError("--splits is for runs; two prediction files are one split each (compare the files of "
                             "the split you mean).")
        settings = EvalSettings().replace(bins=bins, n_boot=n_boot, seed=seed)
        doc = build_file_comparison(items[0], items[1], settings, targets=goals, renormalize=renormalize,
                                    alpha=alpha, effect=effect)
        if out is None and not (as_json or html or latex or csv):
            print_group(comparison_document_report(doc))
            return
        emit(doc, paper_table(doc, latex, csv) or (comparison_html(doc) if html else comparison_markdown(doc)), out,
             as_json)
        return
    files = [i for i in items if _is_file(i)]
    if files:
        raise InputError(f"{files[0]} is a file but the other arguments are runs; compare runs with runs, files with files.")
    if renormalize:
        raise InputError("--renormalize is for prediction files; stored runs were validated when they were logged.")
    if bins is not None:
        raise InputError("--bins is for prediction files; each run is compared with its own stored evaluation "
                         "(runcard card RUN --bins N recomputes one run's card).")
    opened = open_store(store)
    runs = [get_run(i, opened) for i in items]
    if len({r.id for r in runs}) != len(runs):
        raise InputError("the same run is named twice; compare different runs.")
    doc = build_comparison(opened, runs, targets=goals, n_boot=n_boot, seed=seed, splits=_splits(splits), alpha=alpha,
                           effect=effect)
    emit(doc, paper_table(doc, latex, csv) or (comparison_html(doc) if html else comparison_markdown(doc)), out, as_json)
