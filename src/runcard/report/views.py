"""What the documents read: a stored run (or a prediction file) with its stored evaluations, its prediction
tables loaded only when a section needs them, and the `RunView` the findings rules look at."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from runcard.data.prediction_files import load_predictions
from runcard.eval_settings import EvalSettings
from runcard.evaluate import Evaluation, evaluate_table
from runcard.findings import RunView
from runcard.importers.records import ImportedRun
from runcard.store import Artifact, Run, Store
from runcard.store.evaluations import stored_evaluation
from runcard.store.predictions import load_artifact_table
from runcard.store.runs import latest_predictions, split_of
from runcard.table import PredictionTable


class LazyTables(Mapping[str, PredictionTable]):
    """Prediction tables by key, each read (and hash-checked) the first time it is asked for."""

    def __init__(self, keys: Sequence[str], load: Callable[[str], PredictionTable]) -> None:
        self._keys = list(keys)
        self._load = load
        self._cache: dict[str, PredictionTable] = {}

    def __getitem__(self, key: str) -> PredictionTable:
        if key not in self._keys:
            raise KeyError(key)
        if key not in self._cache:
            self._cache[key] = self._load(key)
        return self._cache[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


@dataclass
class LoadedRun:
    """One subject of a document: a stored run (``run`` set) or a prediction file. ``evaluations`` are the
    stored ones (or, when ``recomputed`` names settings that differ from the run's, computed for this
    document only); ``tables`` load on first use."""

    id: str
    name: str
    view: RunView
    settings: EvalSettings
    tables: Mapping[str, PredictionTable]
    evaluations: dict[str, Evaluation]
    run: Run | None = None
    prediction_artifacts: dict[str, Artifact] = field(default_factory=dict)
    recomputed: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # setting -> (the run's, this document's)
    source: str | None = None  # a prediction file's path


def load_run(store: Store, run: Run, *, settings: EvalSettings | None = None,
             series: bool | Mapping[str, list[tuple[int, float]]] = True) -> LoadedRun:
    """A stored run with its stored evaluations (with ``settings`` other than the run's: recomputed, not
    stored) and its view; predictions tables are read only when something needs them. ``series``: read the
    run's metric series (True), leave them out (False), or these (read already, e.g. by `load_runs`)."""
    arts = latest_predictions(run.artifacts)
    tables = LazyTables(list(arts), lambda key: load_artifact_table(store, run, arts[key]))
    use = settings or run.settings
    evaluations = {key: stored_evaluation(store, run, key, use, load=partial(tables.__getitem__, key)) for key in arts}
    all_series = series if isinstance(series, Mapping) else store.all_series(run.id) if series else {}
    checkpoint_shas = {a.sha256 for a in run.artifacts if a.kind == "checkpoint"}
    for art in arts.values():
        sha = art.meta.get("checkpoint")
        if sha and sha not in checkpoint_shas and store.artifact_in_use(str(sha)):
            checkpoint_shas.add(str(sha))  # logged by another run of the same store
    view = RunView(
        id=run.id, name=run.name, project=run.project, status=run.status, config=run.config, summary=run.summary,
        series=all_series, evaluations=evaluations, tables=tables,
        prediction_checkpoints={s: a.meta.get("checkpoint") for s, a in arts.items()},
        known_checkpoints=frozenset(checkpoint_shas),
        trained=any(name.startswith("train") for name in run.stages) or any(k.startswith("train") for k in all_series),
    )
    return LoadedRun(run.id, run.name, view, use, tables, evaluations, run, arts, run.settings.differences(use))


def load_runs(store: Store, runs: Sequence[Run]) -> list[LoadedRun]:
    """`load_run` of many runs, their series read in a few queries."""
    series = store.series_of_runs([r.id for r in runs])
    return [load_run(store, r, series=series[r.id]) for r in runs]


def stored_views(store: Store, runs: Sequence[Run]) -> list[RunView]:
    """Leaderboard views of stored runs, with their stored evaluations (the numbers their cards show)."""
    return [loaded.view for loaded in load_runs(store, runs)]


def load_files(paths: Mapping[str, str | Path], settings: EvalSettings, *, renormalize: bool = False,
               split: str = "test") -> list[LoadedRun]:
    """Prediction files as document subjects (``label -> path``), each one split (``split``), evaluated with
    ``settings`` (nothing is stored)."""
    out = []
    for label, path in paths.items():
        table = load_predictions(path, renormalize=renormalize)
        ev = evaluate_table(table, settings=settings)
        view = RunView(id=label, name=str(path), status="file", evaluations={split: ev}, tables={split: table})
        out.append(LoadedRun(label, str(path), view, settings, {split: table}, {split: ev}, source=str(path)))
    return out


def view_from_record(record: ImportedRun, index: int, evaluate: bool = True) -> RunView:
    """A view of an imported record (summary of a folder without storing it), evaluated with the settings its
    config declares."""
    summary: dict[str, float] = dict(record.summary)
    for key, points in record.series.items():
        if points:
            last = max(range(len(points)), key=lambda i: (points[i][0], i))
            summary[key] = points[last][1]
    evaluations: dict[str, Evaluation] = {}
    tables: dict[str, PredictionTable] = {}
    if evaluate:
        from runcard.eval_settings import settings_from_config

        settings = settings_from_config(record.config)
        for split, path in record.predictions:
            tables[split] = load_predictions(path)
            evaluations[split] = evaluate_table(tables[split], settings=settings)
    return RunView(
        id=f"{index:04d}", name=record.name, project=record.project, status=record.status, config=record.config,
        summary=summary, series={k: [(s, v) for s, v, _ in pts] for k, pts in record.series.items()},
        evaluations=evaluations, tables=tables,
    )


def text_splits(tables: Mapping[str, PredictionTable]) -> list[str]:
    """The splits of ``tables`` (one per split, whatever the number of tasks)."""
    return list(dict.fromkeys(split_of(k) for k in tables))


def describe(view: RunView) -> dict[str, Any]:
    """Identity of a view for documents."""
    return {"id": view.id, "name": view.name, "project": view.project, "status": view.status}
