"""Documents of stored runs chosen the way the command line chooses them (`runcard summary --project/--sweep`),
shared by the CLI and the UI so both show the same document for the same choice."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from runcard.errors import InputError
from runcard.report.summary import build_summary
from runcard.report.views import stored_views
from runcard.store import Run, Store


def sweep_runs(runs: Sequence[Run], sweep: str | None, project: str | None = None) -> list[Run]:
    """The runs of one sweep (their tag ``sweep``), or all of ``runs`` when ``sweep`` is None; a sweep with no
    run is an `InputError` naming it."""
    chosen = [r for r in runs if sweep is None or r.tags.get("sweep") == sweep]
    if sweep is not None and not chosen:
        raise InputError(f"--sweep {sweep}: no stored run has this sweep id"
                         + (f" in project {project}" if project else "") + "; `runcard runs` lists the runs.")
    return chosen


def summary_source(project: str | None, sweep: str | None) -> str:
    """How a summary of stored runs names what it summarises (``sweep S, project P``, or ``all runs``)."""
    parts = ([f"sweep {sweep}"] if sweep else []) + ([f"project {project}"] if project else [])
    return ", ".join(parts) or "all runs"


def stored_summary(store: Store, runs: Sequence[Run], *, project: str | None = None, sweep: str | None = None,
                   **options: Any) -> dict[str, Any]:
    """`build_summary` of the stored ``runs`` of ``sweep`` (all of them when None), named as the CLI names it;
    ``options`` go to `build_summary` (sort, group_by, criterion, targets, alpha)."""
    chosen = sweep_runs(runs, sweep, project)
    return build_summary(stored_views(store, chosen), source=summary_source(project, sweep), **options)
