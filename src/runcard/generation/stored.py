"""Generations stored as run artifacts (Parquet, docs/formats.md): written, listed per split, read back hash-checked."""

from __future__ import annotations

import time
from dataclasses import replace

from runcard.errors import InputError
from runcard.generation.files import generation_parquet, load_generations
from runcard.generation.table import GenerationTable
from runcard.store.base import Store
from runcard.store.runs import Artifact, Run

#: Artifact kind of stored generations.
KIND = "generations"


def store_generations(store: Store, run_id: str, split: str, table: GenerationTable) -> Artifact:
    """Write ``table`` as a Parquet artifact of kind ``generations`` on the run; meta: split, n, systems, prompts."""
    if not split or not split.replace("_", "").replace("-", "").isalnum():
        raise InputError(f"split {split!r}: use a plain name such as 'val' or 'test' (letters, digits, - and _).")
    name = f"generations_{split}.parquet"
    stored = store.artifacts.put_bytes(generation_parquet(table), name)
    meta = {"split": split, "n": table.n, "systems": list(table.systems()), "prompts": len(table.prompts())}
    artifact = Artifact(name, KIND, stored.sha256, stored.size, stored.path, time.time(), meta)
    store.add_artifact(run_id, artifact)
    return artifact


def generation_splits(run: Run) -> dict[str, Artifact]:
    """The latest generations artifact of each split on ``run``, in logging order."""
    latest: dict[str, Artifact] = {}
    for art in run.artifacts:
        if art.kind == KIND:
            latest[str(art.meta.get("split"))] = art
    return latest


def load_run_generations(store: Store, run: Run, split: str) -> GenerationTable:
    """The latest generations logged for ``split`` on ``run``, after re-hashing the file."""
    found = generation_splits(run)
    if split not in found:
        raise InputError(f"run {run.id} has no generations for split {split!r} (it has: {sorted(found) or 'none'}).")
    art = found[split]
    path = store.artifacts.verify(art.path, art.sha256, owner=f"run {run.id}")
    return replace(load_generations(path), source=f"run {run.id} {split} generations")
