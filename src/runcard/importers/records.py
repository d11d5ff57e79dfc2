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

from runcard.data.prediction_files import load_predictions
from runcard.eval_settings import settings_from_config
from runcard.importers.safe_files import escape, regular_files
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
    checkpoint_meta: dict[Path, dict[str, Any]] = field(default_factory=dict)  # e.g. {"step": 20, "best": True}
    created_at: float | None = None
    ended_at: float | None = None
    error: str | None = None
    notes: list[str] = field(default_factory=list)  # what the reader saw and did not understand, or left out
    parent_source: str | None = None  # the ``source`` of this run's parent (a nested MLflow run)

    def add_point(self, key: str, step: int, value: Any, ts: float | None = None) -> None:
        number = to_number(value)
        if number is not None:
            self.series.setdefault(key, []).append((int(step), number, ts if ts is not None else 0.0))


@dataclass
class ImportReport:
    """What an import did: per run what it brought (``runs``), and ``warnings`` (a run without metric points,
    what a reader did not understand)."""

    kind: str
    imported: list[str] = field(default_factory=list)  # new run ids
    skipped: list[str] = field(default_factory=list)  # sources already in the store
    points: int = 0
    notes: list[str] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "imported": self.imported, "skipped": self.skipped, "points": self.points,
                "notes": self.notes, "runs": self.runs, "warnings": self.warnings}


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


def summary_values(record: ImportedRun) -> dict[str, float]:
    """The summary values stored beside the series. A key without a series as it is; a key that is also a series
    (whose latest point the store shows as the key's value) as ``final/<key>`` when it differs from that point,
    e.g. the Trainer's evaluation of the reloaded best checkpoint beside the per-epoch ``eval_loss``."""
    out: dict[str, float] = {}
    for key, value in record.summary.items():
        points = record.series.get(key)
        if not points:
            out[key] = value
            continue
        latest = max(enumerate(points), key=lambda p: (p[1][0], p[0]))[1][1]  # highest step, then last logged
        if value != latest and not (math.isnan(value) and math.isnan(latest)):
            out[f"final/{key}"] = value
    return out


def contained(record: ImportedRun, root: Path) -> None:
    """Drop from ``record`` every file to copy (predictions, checkpoints) that lies outside the tree ``root``
    or is reached through a symbolic link (a checkpoint folder: holds one), saying so in its notes."""
    def keep(path: Path) -> bool:
        reason = escape(path, root)
        if reason is None and path.is_dir():
            links: list[str] = []
            regular_files(path, links)
            reason = links[0].removeprefix("skipped ") if links else None
        if reason is not None:
            record.notes.append(f"not copied: {reason}")
        return reason is None

    record.predictions = [(split, path) for split, path in record.predictions if keep(path)]
    record.checkpoints = [path for path in record.checkpoints if keep(path)]


def write_runs(records: list[ImportedRun], store: Store, report: ImportReport, root: Path | None = None) -> ImportReport:
    """Store each record not yet in the store (by its source); parents first, so a nested run's
    ``parent_run`` tag names its parent's runcard id. With ``root`` (the imported tree), only files inside
    it, reached without a symbolic link, are copied (`contained`)."""
    ids: dict[str, str] = {}
    for record in sorted(records, key=lambda r: r.parent_source is not None):
        if store.find_source(record.source) is not None:
            report.skipped.append(record.source)
            continue
        if root is not None:
            contained(record, root)
        run_id = new_run_id(store)
        ids[record.source] = run_id
        if record.parent_source is not None:
            parent = ids.get(record.parent_source) or store.find_source(record.parent_source)
            if parent is not None:
                record.tags["parent_run"] = parent
            else:
                record.notes.append(f"its parent {record.parent_source} was not imported")
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
            store.set_summary(run_id, summary_values(record))
        for path in record.checkpoints:
            stored = store.artifacts.put_dir(path) if path.is_dir() else store.artifacts.put_file(path)
            meta: dict[str, Any] = {"source_path": str(path.resolve()), **record.checkpoint_meta.get(path, {})}
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
        report.runs.append({"source": record.source, "run": run_id, "name": record.name, "status": record.status,
                            "config_keys": len(record.config), "series": len(record.series), "points": len(points),
                            "summary": len(record.summary), "checkpoints": len(record.checkpoints),
                            "predictions": len(record.predictions), "not_understood": list(record.notes)})
        if not points and not record.summary:
            report.warnings.append(f"{record.source}: no metric points and no summary values were found")
        elif not points:
            report.warnings.append(f"{record.source}: no metric points (only {len(record.summary)} summary values)")
        report.warnings += [f"{record.source}: {note}" for note in record.notes]
    return report
