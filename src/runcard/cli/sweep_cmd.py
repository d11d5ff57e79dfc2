"""`runcard sweep SWEEP_TOML`: run a sweep's trials in parallel workers, then print the sweep's summary."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from runcard.cli.options import AsJson, StoreUrl
from runcard.cli.report_cmd import Html, Out, emit
from runcard.data.atomic import atomic_path
from runcard.errors import InputError, RunCardError
from runcard.report.multi import summary_html, summary_markdown
from runcard.report.summary import build_summary
from runcard.report.views import stored_views
from runcard.runs import list_runs
from runcard.store import open_store
from runcard.sweep import (
    Sweep,
    SweepInterrupted,
    SweepResult,
    TrialRecord,
    load_sweep,
    new_sweep_id,
    run_sweep,
)

EPILOG = (
    "Examples:\n\n"
    "  runcard sweep examples/sweep.toml\n\n"
    "  runcard sweep sweep.toml --workers 4 --html --out sweep.html\n\n"
    "  runcard sweep sweep.toml --ray auto --store postgresql+psycopg://me@db/runs --optuna-storage "
    "postgresql+psycopg://me@db/optuna\n\n"
    "Sweep file reference: docs/sweeps.md. Every run is tagged sweep=ID: runcard summary --sweep ID."
)
#: Where the sweep's summary is always written, relative to the working directory (like run cards).
CARDS = Path("build/cards")


def progress_line(record: TrialRecord, planned: int, objective: str | None) -> str:
    """One line per finished trial: number, status, run, objective, run time (and the error of a failed one)."""
    parts = [f"trial {record.trial}/{planned}", record.status]
    if record.run_id:
        parts.append(f"run {record.run_id}")
    if objective and record.objective is not None:
        parts.append(f"{objective} {record.objective:.4g}")
    parts.append(f"{record.elapsed:.1f}s")
    if record.error and record.status != "finished":
        parts.append(record.error.splitlines()[0][:120] if record.error.strip() else "")
    return "  ".join(p for p in parts if p)


def _payload(result: SweepResult, doc: dict[str, Any]) -> dict[str, Any]:
    sweep = result.to_dict()
    runs = sweep.pop("trials")
    return {"sweep": sweep, "runs": runs, "summary": doc}


def _stderr() -> Callable[[str], None]:
    console = Console(stderr=True)
    return lambda text: console.print(text, highlight=False, soft_wrap=True)


def _interrupted(say: Callable[[str], None], result: SweepResult) -> None:
    done = [t for t in result.trials if t.status == "finished"]
    say(f"interrupted: sweep {result.sweep_id} stopped with {len(done)} of {result.planned} trials finished; "
        "the trials it stopped ended failed, the rest never started.")
    for record in done:
        say("  " + progress_line(record, result.planned, result.objective))
    if done:
        say(f"runcard summary --sweep {result.sweep_id} summarises them.")


def sweep_command(
    sweep_file: Annotated[Path, typer.Argument(help="Sweep file (TOML): its settings and the space of "
                                               "config keys (docs/sweeps.md).", show_default=False)],
    store: StoreUrl = None,
    workers: Annotated[int | None, typer.Option("--workers", min=1, help="Trials run at once (default: "
                                                "the sweep file's workers).", show_default=False)] = None,
    ray: Annotated[str | None, typer.Option("--ray", metavar="ADDRESS", help="Run trials as Ray tasks on this "
                                            "cluster: auto, ray://host:10001, or local (start one here).")] = None,
    optuna_storage: Annotated[str | None, typer.Option("--optuna-storage", metavar="URL", help="Keep the TPE "
                                                       "study in this Optuna storage (e.g. a PostgreSQL URL).")] = None,
    html: Html = False,
    out: Out = None,
    as_json: AsJson = False,
) -> None:
    """Run a sweep: every trial a recipe run tagged with the sweep id, in parallel; then its summary.

    One line per finished trial on stderr; the summary of the sweep's runs on stdout and in build/cards/.

    Ctrl-C stops the sweep (exit code 130): the trials it interrupts end failed, the finished ones stay.
    """
    spec: Sweep = load_sweep(sweep_file)
    say = _stderr()
    sweep_id = new_sweep_id()
    where = f"Ray at {ray}" if ray else f"{workers or spec.settings.workers} local workers"
    say(f"sweep {sweep_id} ({spec.name}): {spec.n_trials} trials, {spec.settings.method}, on {where}")
    try:
        result = run_sweep(spec, store, workers=workers, ray_address=ray, optuna_storage=optuna_storage,
                           on_trial=lambda r, n: say(progress_line(r, n, spec.settings.objective)),
                           sweep_id=sweep_id)
    except SweepInterrupted as exc:
        _interrupted(say, exc.result)
        raise typer.Exit(130) from None
    except KeyboardInterrupt:
        say("interrupted before the first trial started; nothing was run.")
        raise typer.Exit(130) from None
    if not any(t.status == "finished" for t in result.trials):
        raise RunCardError(f"sweep {sweep_id}: none of its {len(result.trials)} trials finished; `runcard runs` "
                           "lists their runs and `runcard show RUN` the error of each.")
    opened = open_store(store)
    runs = [r for r in list_runs(result.project, opened) if r.tags.get("sweep") == sweep_id]
    try:
        objective, sort = spec.settings.objective, spec.settings.sort
        # the sweep selects on its objective: judge that selection against the sort metric on test
        criterion = (objective, sort) if sort and objective and objective != sort and objective.startswith("val") else None
        doc = build_summary(stored_views(opened, runs), source=f"sweep {sweep_id} ({spec.name})",
                            sort=sort, group_by=spec.settings.group_by, criterion=criterion)
    except InputError as exc:
        raise InputError(f"sweep {sweep_id} ran, but its summary could not be built: {exc} Fix [sweep] sort or "
                         f"group_by, then: runcard summary --sweep {sweep_id}") from None
    markdown, page = summary_markdown(doc), summary_html(doc)
    for suffix, text in ((".md", markdown), (".html", page)):
        with atomic_path(CARDS / f"sweep-{sweep_id}{suffix}") as tmp:
            tmp.write_text(text, encoding="utf-8")
    best = result.best()
    finished = sum(t.status == "finished" for t in result.trials)
    say(f"sweep {sweep_id}: {finished} of {len(result.trials)} trials finished in {result.elapsed:.1f}s"
        + (f"; best trial {best.trial} (run {best.run_id}, {result.objective} {best.objective:.4g})"
           if best and best.objective is not None else "")
        + f". Summary written to {CARDS / f'sweep-{sweep_id}.md'} and .html")
    failed = [t for t in result.trials if t.status != "finished"]
    if failed:
        say(f"{len(failed)} trial(s) did not finish: "
            + ", ".join(f"trial {t.trial} ({t.status}" + (f", run {t.run_id})" if t.run_id else ")") for t in failed)
            + "; runcard show RUN gives the error.")
    emit(_payload(result, doc), page if html else markdown, out, as_json)
