"""`runcard card` and `runcard summary`: the run card and the leaderboard, as Markdown, HTML or JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from runcard.cli.options import (
    Alpha,
    AsJson,
    BinsOverride,
    NBootOverride,
    SeedOverride,
    StoreUrl,
    print_json,
)
from runcard.data.atomic import atomic_path
from runcard.errors import InputError
from runcard.importers import detect
from runcard.jsonsafe import dumps
from runcard.report.card import build_card
from runcard.report.comparison import load_targets
from runcard.report.html import card_html
from runcard.report.latex import comparison_table, summary_table, to_csv, to_latex
from runcard.report.markdown import card_markdown
from runcard.report.multi import summary_html, summary_markdown
from runcard.report.summary import build_summary
from runcard.report.views import stored_views, view_from_record
from runcard.runs import get_run, list_runs
from runcard.store import open_store

Html = Annotated[bool, typer.Option("--html", help="A self-contained HTML file instead of Markdown.")]
Latex = Annotated[bool, typer.Option("--latex", help="A booktabs LaTeX table for a paper (docs/reports.md).")]
Csv = Annotated[bool, typer.Option("--csv", help="The paper table as CSV: plain numbers, CIs as two columns.")]
Out = Annotated[Path | None, typer.Option("--out", help="Write to this file (atomically) instead of stdout.")]
Targets = Annotated[Path | None, typer.Option("--targets", help="TOML file of metric targets (docs/reports.md).")]

CARD_EPILOG = ("Examples:\n\n  runcard card 3fa9\n\n  runcard card 3fa9 --html --out card.html\n\n"
               "  runcard card 3fa9 --targets targets.toml --json")
SUMMARY_EPILOG = ("Examples:\n\n  runcard summary --project softlabel --sort test/kl\n\n"
                  "  runcard summary experiments/ --group-by lr --html --out sweep.html\n\n"
                  "  runcard summary --project agnews --json\n\n"
                  "  runcard summary --sweep 1c9e04ab --group-by train.lr\n\n"
                  "  runcard summary --project agnews --group-by lr --latex --out table.tex")


def check_formats(html: bool, as_json: bool, latex: bool = False, csv: bool = False) -> None:
    """``--html``, ``--json``, ``--latex`` and ``--csv`` each name one form of the document: give one at most."""
    given = [flag for flag, on in (("--html", html), ("--json", as_json), ("--latex", latex), ("--csv", csv)) if on]
    if len(given) > 1:
        raise InputError(f"{' and '.join(given)} ask for {len(given)} forms of the document; give one of --html, "
                         "--json, --latex, --csv (Markdown is the default).")


def paper_table(doc: dict[str, Any], latex: bool, csv: bool) -> str | None:
    """The ``--latex`` or ``--csv`` table of a comparison or summary document; None when neither is asked for."""
    if not (latex or csv):
        return None
    table = comparison_table(doc) if doc["kind"] == "comparison" else summary_table(doc)
    return to_latex(table) if latex else to_csv(table)


def emit(doc: dict[str, Any], text: str, out: Path | None, as_json: bool) -> None:
    """Print (or write) the JSON, Markdown or HTML form of a document."""
    if out is not None and out.is_dir():
        raise InputError(f"--out {out} is a folder; give a file path such as {out / 'card.html'}.")
    if as_json and out is None:
        print_json(doc)
        return
    if out is None:
        typer.echo(text, nl=False)
        return
    with atomic_path(out) as tmp:
        tmp.write_text(dumps(doc, indent=2) + "\n" if as_json else text, encoding="utf-8")
    Console(stderr=True).print(f"wrote {out}")


def card_command(
    run: Annotated[str, typer.Argument(help="Run id or a unique prefix of one.", show_default=False)],
    html: Html = False,
    out: Out = None,
    targets: Targets = None,
    bins: BinsOverride = None,
    n_boot: NBootOverride = None,
    seed: SeedOverride = None,
    alpha: Alpha = 0.05,
    examples: Annotated[int, typer.Option("--examples", min=0, help="Rows listed per confusion-matrix cell "
                                          "(most confident first; 0 leaves examples out).")] = 25,
    store: StoreUrl = None,
    as_json: AsJson = False,
) -> None:
    """The run card: the result first, then findings, results per split with CIs, data, training, config.

    Every number is read from the run's stored evaluation (its settings: `runcard show RUN`); --bins, --n-boot
    or --seed recompute for this card only, and the card says so.
    """
    check_formats(html, as_json)
    goals = load_targets(targets) if targets else None
    opened = open_store(store)
    found = get_run(run, opened)
    settings = found.settings.replace(bins=bins, n_boot=n_boot, seed=seed)
    doc = build_card(opened, found, targets=goals, settings=settings, alpha=alpha, examples=examples)
    emit(doc, card_html(doc) if html else card_markdown(doc), out, as_json)


def summary_command(
    path: Annotated[Path | None, typer.Argument(help="A folder of runs to summarise without storing them "
                                                "(any layout `runcard import` reads).", show_default=False)] = None,
    project: Annotated[str | None, typer.Option("--project", help="Summarise this project's stored runs.")] = None,
    sweep: Annotated[str | None, typer.Option("--sweep", help="Only the stored runs of this sweep (their tag "
                                              "sweep; `runcard sweep` prints the id).")] = None,
    sort: Annotated[str | None, typer.Option("--sort", help="Metric to rank by (default: chosen from the runs).")] = None,
    group_by: Annotated[str | None, typer.Option("--group-by", help="Config key (a.b for nested) to group by: "
                                                 "mean ± std over the runs of each value.")] = None,
    criterion: Annotated[str | None, typer.Option("--criterion", help="VAL_KEY:TEST_KEY to judge selection on "
                                                  "validation (default: matching val/ and test/ metrics).")] = None,
    targets: Targets = None,
    alpha: Alpha = 0.05,
    html: Html = False,
    latex: Latex = False,
    csv: Csv = False,
    out: Out = None,
    store: StoreUrl = None,
    as_json: AsJson = False,
) -> None:
    """Leaderboard of many runs or a sweep: takeaways first, sorted, grouped, outliers set apart, findings."""
    check_formats(html, as_json, latex, csv)
    if path is not None and (project is not None or sweep is not None):
        raise InputError("give either PATH (a folder of runs) or --project/--sweep (stored runs), not both.")
    pair = None
    if criterion:
        if ":" not in criterion:
            raise InputError(f"--criterion {criterion!r}: write VAL_KEY:TEST_KEY, e.g. val/loss:test/kl.")
        val_key, test_key = criterion.split(":", 1)
        pair = (val_key, test_key)
    if path is not None:
        _, records = detect(path, None, checkpoints=False)
        views = [view_from_record(r, i) for i, r in enumerate(records)]
        source = str(path)
    else:
        opened = open_store(store)
        runs = [r for r in list_runs(project, opened) if sweep is None or r.tags.get("sweep") == sweep]
        if sweep is not None and not runs:
            raise InputError(f"--sweep {sweep}: no stored run has this sweep id"
                             + (f" in project {project}" if project else "") + "; `runcard runs` lists the runs.")
        views = stored_views(opened, runs)
        parts = ([f"sweep {sweep}"] if sweep else []) + ([f"project {project}"] if project else [])
        source = ", ".join(parts) or "all runs"
    doc = build_summary(views, source=source, sort=sort, group_by=group_by, criterion=pair,
                        targets=load_targets(targets) if targets else None, alpha=alpha)
    text = paper_table(doc, latex, csv) or (summary_html(doc) if html else summary_markdown(doc))
    emit(doc, text, out, as_json)
