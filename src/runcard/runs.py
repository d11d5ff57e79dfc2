"""Reading runs back: list, get, load a checkpoint, delete. Crashed owners are detected on read."""

from __future__ import annotations

import warnings
from pathlib import Path

from runcard.errors import InputError
from runcard.liveness import reconcile, reconcile_ids, run_alive
from runcard.store import ArtifactError, Run, Store, open_store
from runcard.store.runs import STATUSES, RunListing


def list_runs(project: str | None = None, store: str | Store | None = None, *, status: str | None = None) -> list[Run]:
    """Every run (of ``project``, with ``status``), oldest first; dead owners are marked crashed first."""
    _check_status(status)
    opened = open_store(store)
    runs = reconcile(opened, opened.list_runs(project=project))
    return [r for r in runs if status is None or r.status == status]


def run_listings(project: str | None = None, store: str | Store | None = None, *, status: str | None = None
                 ) -> list[RunListing]:
    """`list_runs` as a listing shows them (`RunListing`: facts and flat values, no stages or artifacts), read
    with one query per table; dead owners are marked crashed first, as there."""
    _check_status(status)
    opened = open_store(store)
    listed = opened.run_listings(project)
    if reconcile_ids(opened, [(row.id, row.status) for row in listed]):
        listed = opened.run_listings(project)  # a run was marked crashed or its journal replayed: read again
    return [row for row in listed if status is None or row.status == status]


def _check_status(status: str | None) -> None:
    if status is not None and status not in STATUSES:
        raise InputError(f"status {status!r}: expected one of {', '.join(STATUSES)}.")


def get_run(id_or_prefix: str, store: str | Store | None = None) -> Run:
    """The run whose id is (or starts with) ``id_or_prefix``."""
    opened = open_store(store)
    return reconcile(opened, [opened.get_run(id_or_prefix)])[0]


def load_checkpoint(run_id: str, name: str | None = None, store: str | Store | None = None) -> Path:
    """Path of a run's checkpoint (the latest, or the one called ``name``), after re-hashing it.

    A missing file or a hash mismatch raises `runcard.store.ArtifactError` naming the run, the
    path and the expected hash: a checkpoint is never silently replaced by anything else.
    """
    opened = open_store(store)
    run = opened.get_run(run_id)
    checkpoints = [a for a in run.artifacts if a.kind == "checkpoint"]
    if not checkpoints:
        raise InputError(f"run {run.id} has no checkpoint; log one with run.log_checkpoint(path).")
    if name is not None:
        matches = [a for a in checkpoints if a.name == name or a.sha256.startswith(name)]
        if not matches:
            names = sorted({a.name for a in checkpoints})
            raise InputError(f"run {run.id} has no checkpoint named {name!r}; it has {names}.")
        chosen = matches[-1]
    else:
        chosen = checkpoints[-1]
    return opened.artifacts.verify(chosen.path, chosen.sha256, manifest=chosen.meta.get("manifest"),
                                   owner=f"run {run.id} checkpoint {chosen.name!r}")


def delete_run(id_or_prefix: str, store: str | Store | None = None, *, force: bool = False) -> Run:
    """Remove a run and its records; artifact files no other run uses are deleted too. A stored artifact path
    that leads outside the store's artifact root is left alone, with a `RuntimeWarning` naming it."""
    run, left = remove_run(id_or_prefix, store, force=force)
    for problem in left:
        warnings.warn(problem, RuntimeWarning, stacklevel=2)
    return run


def remove_run(id_or_prefix: str, store: str | Store | None = None, *, force: bool = False) -> tuple[Run, list[str]]:
    """`delete_run`, returning what it left alone (stored paths outside the artifact root: never deleted)."""
    opened = open_store(store)
    run = get_run(id_or_prefix, opened)
    if run.status == "running" and not force:
        host, pid, _, _ = opened.liveness_info(run.id)
        if run_alive(opened, run.id) is not False:
            raise InputError(f"run {run.id} is still running (pid {pid} on {host}); stop it first, or pass --force.")
    left = []
    for art in opened.delete_run(run.id):
        if not opened.artifact_in_use(art.sha256):
            try:
                opened.artifacts.remove(art.path)
            except ArtifactError as exc:
                left.append(f"left alone: {exc}")
    return run, left
