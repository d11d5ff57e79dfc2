"""What an importer reads (`ImportedRun`, plain data) and how it lands in the store.

Every importer only reads files into `ImportedRun` records; `write_runs` is the one place that
writes them, so every source is stored the same way. A record's ``source`` is unique in the
store: importing the same thing twice skips what is already there.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runcard.data.predictions import load_predictions
from runcard.eval_settings import settings_from_config
from runcard.store import Artifact, MetricPoint, NewRun, Store
from runcard.store.evaluations import evaluate_and_keep
from runcard.store.predictions import store_predictions
from runcard.tracking import jsonable, new_run_id

#: File extensions recognised as checkpoints in generic folders.
CHECKPOINT_SUFFIXES = (".pt", ".pth", ".ckpt", ".safetensors")
PREDICTION_SUFFIXES = (".csv", ".parquet", ".jsonl")


@dataclass
class ImportedRun:
    """One run read from another tool's files."""

    source: str
    project: str
    name: str
    status: str = "finished"
    config: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    series: dict[str, list[tuple[int, float, float]]] = field(default_factory=dict)  # key -> (step, value, ts)
    summary: dict[str, float] = field(default_factory=dict)
    predictions: list[tuple[str, Path]] = field(default_factory=list)  # (split, file)
    checkpoints: list[Path] = field(default_factory=list)
    created_at: float | None = None
    ended_at: float | None = None
    error: str | None = None

    def add_point(self, key: str, step: int, value: Any, ts: float | None = None) -> None:
        number = to_number(value)
        if number is not None:
            self.series.setdefault(key, []).append((int(step), number, ts if ts is not None else 0.0))


@dataclass
class ImportReport:
    """What an import did."""

    kind: str
    imported: list[str] = field(default_factory=list)  # new run ids
    skipped: list[str] = field(default_factory=list)  # sources already in the store
    points: int = 0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "imported": self.imported, "skipped": self.skipped, "points": self.points,
                "notes": self.notes}


def to_number(value: Any) -> float | None:
    """A metric value as float, or None for anything that is not a number (strings, dicts, bools)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def parse_scalar(text: str) -> Any:
    """A parameter written as text (MLflow params, CSV cells) as int, float or bool when it is one."""
    stripped = text.strip()
    for cast in (int, float):
        try:
            value = cast(stripped)
        except ValueError:
            continue
        return value if not (isinstance(value, float) and not math.isfinite(value)) else stripped
    if stripped in ("True", "true"):
        return True
    if stripped in ("False", "false"):
        return False
    return text


def prediction_split(path: Path) -> str:
    """The split a predictions file is for, from its name: ``val_predictions.csv`` -> ``val``."""
    stem = path.name.split(".")[0]
    parts = [p for p in stem.replace("-", "_").split("_") if p and p.lower() not in ("predictions", "preds", "pred")]
    return "_".join(parts) or "test"


def is_predictions_file(path: Path) -> bool:
    name = path.name.lower()
    return path.is_file() and path.suffix.lower() in PREDICTION_SUFFIXES and ("pred" in name)


def write_runs(records: list[ImportedRun], store: Store, report: ImportReport) -> ImportReport:
    """Store each record not yet in the store (by its source)."""
    for record in records:
        if store.find_source(record.source) is not None:
            report.skipped.append(record.source)
            continue
        run_id = new_run_id(store)
        store.create_run(NewRun(
            id=run_id, project=record.project, name=record.name, config=jsonable(record.config),
            tags=dict(record.tags), created_at=record.created_at or time.time(), status=record.status,
            source=record.source, ended_at=record.ended_at,
        ))
        points: list[MetricPoint] = []
        for key, values in record.series.items():
            for step, value, ts in values:
                points.append(MetricPoint(len(points), key, step, value, ts))
        store.log_metrics(run_id, points)
        report.points += len(points)
        if record.summary:
            series_keys = set(record.series)
            store.set_summary(run_id, {k: v for k, v in record.summary.items() if k not in series_keys})
        for path in record.checkpoints:
            stored = store.artifacts.put_dir(path) if path.is_dir() else store.artifacts.put_file(path)
            meta: dict[str, Any] = {"source_path": str(path.resolve())}
            if stored.manifest is not None:
                meta["manifest"] = [list(e) for e in stored.manifest]
            store.add_artifact(run_id, Artifact(path.name, "checkpoint", stored.sha256, stored.size, stored.path,
                                                time.time(), meta))
        settings = settings_from_config(jsonable(record.config))
        for split, path in record.predictions:
            table = load_predictions(path)
            art = store_predictions(store, run_id, split, table, None)
            evaluate_and_keep(store, run_id, split, art.sha256, table, settings)
        if record.error:
            store.set_status(run_id, record.status, error=record.error, ended_at=record.ended_at)
        report.imported.append(run_id)
    return report
