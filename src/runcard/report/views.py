"""Build `RunView`s for the findings rules: from stored runs, or from imported records (no store)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from runcard.data.predictions import load_predictions
from runcard.evaluate import Evaluation, evaluate_table
from runcard.findings import RunView
from runcard.importers.records import ImportedRun
from runcard.store import Artifact, Run, Store
from runcard.store.predictions import prediction_key, split_of, task_of
from runcard.table import PredictionTable

#: Splits evaluated in this order when a run has predictions for them.
SPLIT_ORDER = ("train", "val", "validation", "dev", "test")


@dataclass
class LoadedRun:
    """A run with what the documents need: its predictions tables and their artifacts, evaluated."""

    run: Run
    view: RunView
    tables: dict[str, PredictionTable] = field(default_factory=dict)
    prediction_artifacts: dict[str, Artifact] = field(default_factory=dict)
    evaluations: dict[str, Evaluation] = field(default_factory=dict)


def _split_key(key: str, tasks: list[str]) -> tuple[int, int, str]:
    split, task = split_of(key), task_of(key) or ""
    return (tasks.index(task), SPLIT_ORDER.index(split) if split in SPLIT_ORDER else len(SPLIT_ORDER), split)


def latest_predictions(run: Run) -> dict[str, Artifact]:
    """The last predictions artifact logged for each split (``split/task`` on multi-task runs), in a
    readable order: by task (as first logged), then train, val, test."""
    latest: dict[str, Artifact] = {}
    tasks: list[str] = []  # in the order they were first logged
    for art in run.artifacts:
        if art.kind == "predictions":
            key = prediction_key(art.meta)
            latest[key] = art
            if (task_of(key) or "") not in tasks:
                tasks.append(task_of(key) or "")
    return {s: latest[s] for s in sorted(latest, key=lambda k: _split_key(k, tasks))}


def load_run(store: Store, run: Run, *, series: bool = True, evaluate: bool = True, ci: bool = True,
             seed: int = 0, bins: int = 15) -> LoadedRun:
    """Read a run's predictions (hash-checked), evaluate them, and build its view."""
    tables: dict[str, PredictionTable] = {}
    evaluations: dict[str, Evaluation] = {}
    arts = latest_predictions(run)
    if evaluate:
        for split, art in arts.items():
            path = store.artifacts.verify(art.path, art.sha256, owner=f"run {run.id} {split} predictions")
            tables[split] = load_predictions(path)
            evaluations[split] = evaluate_table(tables[split], ci=ci, seed=seed, bins=bins)
    all_series = store.all_series(run.id) if series else {}
    checkpoint_shas = {a.sha256 for a in run.artifacts if a.kind == "checkpoint"}
    for art in arts.values():
        sha = art.meta.get("checkpoint")
        if sha and sha not in checkpoint_shas and store.artifact_in_use(str(sha)):
            checkpoint_shas.add(str(sha))  # logged by another run of the same store
    view = RunView(
        id=run.id, name=run.name, project=run.project, status=run.status, config=run.config, summary=run.summary,
        series=all_series, evaluations=evaluations,
        texts={split_of(s): [str(t) for t in table.texts] for s, table in reversed(tables.items())
               if table.texts is not None},  # one text list per split, whatever the number of tasks
        prediction_checkpoints={s: a.meta.get("checkpoint") for s, a in arts.items()},
        known_checkpoints=frozenset(checkpoint_shas),
        trained=any(name.startswith("train") for name in run.stages) or any(k.startswith("train") for k in all_series),
    )
    return LoadedRun(run, view, tables, arts, evaluations)


def view_from_record(record: ImportedRun, index: int, evaluate: bool = True) -> RunView:
    """A view of an imported record (summary of a folder without storing it)."""
    summary: dict[str, float] = dict(record.summary)
    for key, points in record.series.items():
        if points:
            last = max(range(len(points)), key=lambda i: (points[i][0], i))
            summary[key] = points[last][1]
    evaluations: dict[str, Evaluation] = {}
    texts: dict[str, list[str]] = {}
    if evaluate:
        for split, path in record.predictions:
            table = load_predictions(path)
            evaluations[split] = evaluate_table(table, ci=False)
            if table.texts is not None:
                texts[split] = [str(t) for t in table.texts]
    return RunView(
        id=f"{index:04d}", name=record.name, project=record.project, status=record.status, config=record.config,
        summary=summary, series={k: [(s, v) for s, v, _ in pts] for k, pts in record.series.items()},
        evaluations=evaluations, texts=texts,
    )


def view_from_run(run: Run) -> RunView:
    """A light view of a stored run for leaderboards: config and logged summary values only."""
    return RunView(id=run.id, name=run.name, project=run.project, status=run.status, config=run.config,
                   summary=run.summary)


def describe(view: RunView) -> dict[str, Any]:
    """Identity of a view for documents."""
    return {"id": view.id, "name": view.name, "project": view.project, "status": view.status}
