"""`runcard run CONFIG`: run a reference experiment from a typed TOML config; `--from RUN` re-runs a stored one."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from runcard import tracking
from runcard.cli.options import AsJson, StoreUrl, print_json
from runcard.cli.render import findings_text
from runcard.errors import InputError
from runcard.recipes import rerun, run_config
from runcard.runs import get_run
from runcard.store import Store, open_store

EPILOG = (
    "Examples:\n\n"
    "  runcard run examples/agnews_actions.toml\n\n"
    "  runcard run examples/agnews_actions_logreg.toml --store sqlite:///runs/agnews.db\n\n"
    "  runcard run examples/stance_sentiment.toml --quick\n\n"
    "  runcard run examples/polychromic.toml --objective documented   (the supervised run and the documented "
    "objective's arms only)\n\n"
    "  runcard run --from 3fa9   (the stored run's config and seed again, as a new run)\n\n"
    "Config reference: docs/recipes.md. The card is written to \\[report] out_dir and its path printed."
)


def _start(config: Path | None, from_run: str | None, store: Store, *, quiet: bool, quick: bool,
           objective: str | None) -> Any:
    """Run ``config``, or re-run the stored run ``from_run``: exactly one of them."""
    if config is not None and from_run is None:
        return run_config(config, store, quiet=quiet, quick=quick, objective=objective)
    if from_run is not None and config is None:
        for flag, given in (("--quick", quick), ("--objective", objective is not None)):
            if given:
                raise InputError(f"{flag} does not apply with --from: a re-run repeats the stored run as it was.")
        return rerun(from_run, store, quiet=quiet)
    raise InputError("give a CONFIG file or --from RUN (a stored run to re-run), exactly one.")


def interrupted(store: Store, run_ids: list[str]) -> str:
    """What a Ctrl-C left in the store, read from the store itself (so the message and the store agree)."""
    if not run_ids:
        return "interrupted before any run was created: nothing was recorded."
    lines = []
    for run_id in run_ids:
        status = get_run(run_id, store).status
        if status == "finished":
            lines.append(f"interrupted after run {run_id} finished: it is stored as finished; its card may not have "
                         f"been written: `runcard card {run_id} --html --out CARD.html` writes it.")
        elif status == "running":  # not marked yet: mark it, with what it had logged
            store.set_status(run_id, "failed", error="interrupted (Ctrl-C)", ended_at=time.time(), only_if="running")
            lines.append(f"interrupted: run {run_id} is marked failed, with what it had logged (runcard show {run_id}).")
        else:
            lines.append(f"interrupted: run {run_id} is {status} in the store, with what it had logged "
                         f"(runcard show {run_id}).")
    return "\n".join(lines)


def run_command(
    config: Annotated[Path | None, typer.Argument(help="Recipe config (TOML).", show_default=False)] = None,
    from_run: Annotated[str | None, typer.Option("--from", help="Re-run this stored run (id or prefix) from the "
                                                 "config and seed stored with it; the new run is tagged rerun_of.",
                                                 show_default=False)] = None,
    store: StoreUrl = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or tables on stderr.")] = False,
    quick: Annotated[bool, typer.Option("--quick", help="A small subsample and one short epoch, to try the "
                                        "pipeline in a couple of minutes (the config's \\[quick] table).")] = False,
    objective: Annotated[str | None, typer.Option("--objective", help="Run only this objective's arms (recipes "
                                                  "with RL objectives: polychromic takes 'polychromic' or "
                                                  "'documented'); the config's rl.objectives otherwise.",
                                                  show_default=False)] = None,
    as_json: AsJson = False,
) -> None:
    """Run the experiment a config describes: data, audit, training, evaluation, calibration, card.

    Ctrl-C stops it: the run is marked failed with everything logged so far, and the exit code is 130.
    """
    opened = open_store(store)
    started = len(tracking.STARTED)
    try:
        result = _start(config, from_run, opened, quiet=quiet, quick=quick, objective=objective)
    except KeyboardInterrupt:
        Console(stderr=True, soft_wrap=True).print(interrupted(opened, tracking.STARTED[started:]))
        raise typer.Exit(130) from None
    origin = get_run(result.run_id, opened).tags.get("rerun_of") if from_run is not None else None
    if as_json:
        print_json({"run": result.run_id, **({"rerun_of": origin} if origin else {}),
                    "card": str(result.card_markdown),
                    "card_html": None if result.card_html is None else str(result.card_html),
                    "metrics": result.metrics, "verdict": list(result.verdict), "findings": list(result.findings)})
        return
    console = Console(soft_wrap=True)  # one line per finding, whatever the terminal's width
    console.print(f"run {result.run_id}" + (f" (re-run of {origin})" if origin else "")
                  + f": card written to {result.card_markdown}"
                  + (f" and {result.card_html}" if result.card_html else ""))
    for line in result.verdict:
        console.print(Text(line))
    serious = [f for f in result.findings if f["severity"] in ("error", "warning")]
    if serious:
        console.print(findings_text(serious), end="")
