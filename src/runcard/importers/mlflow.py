"""Read MLflow runs without MLflow: the ``mlruns/`` file layout and the SQLite tracking database.

File layout: ``mlruns/<experiment_id>/meta.yaml`` (the experiment's ``name``) and
``mlruns/<experiment_id>/<run_id>/`` holding ``meta.yaml`` (status, times, run name),
``params/<key>`` (one value), ``metrics/<key>`` (lines ``<timestamp ms> <value> <step>``; keys with
``/`` are nested folders), ``tags/<key>`` and ``artifacts/``. Database: the tables
``experiments``, ``runs``, ``params``, ``tags`` and ``metrics`` of MLflow's schema. Deleted runs
are left out. Prediction files among a run's local artifacts (``*pred*.csv|parquet|jsonl``) come
along; parameters that read as numbers or booleans become numbers or booleans.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from runcard.errors import InputError
from runcard.importers.records import (
    ImportedRun,
    is_predictions_file,
    parse_scalar,
    prediction_split,
)
from runcard.importers.safe_files import escape, load_yaml, read_text, regular_files

#: MLflow's RunStatus numbers (file store) and names (database) -> runcard statuses.
STATUS = {1: "running", 2: "running", 3: "finished", 4: "failed", 5: "failed",
          "RUNNING": "running", "SCHEDULED": "running", "FINISHED": "finished", "FAILED": "failed", "KILLED": "failed"}
DB_TABLES = {"experiments", "runs", "params", "tags", "metrics"}


def _yaml(path: Path) -> dict:
    data = load_yaml(path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(f"{path}: MLflow metadata must be a YAML mapping (key: value lines), not a "
                         f"{type(data).__name__}.")
    return data


def find_mlruns(path: Path) -> Path | None:
    """The ``mlruns`` folder at or directly under ``path``, if it looks like one."""
    for candidate in (path, path / "mlruns"):
        if candidate.is_dir() and any((d / "meta.yaml").is_file() and any(
                (r / "meta.yaml").is_file() for r in d.iterdir() if r.is_dir())
                for d in candidate.iterdir() if d.is_dir() and not d.name.startswith(".")):
            return candidate
    return None


def is_mlflow_db(path: Path) -> bool:
    """True for an SQLite file holding MLflow's tracking tables."""
    if not path.is_file():
        return False
    with open(path, "rb") as handle:
        if handle.read(16) != b"SQLite format 3\x00":
            return False
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    return tables >= DB_TABLES


def _artifact_predictions(root: Path | None, skipped: list[str]) -> list[tuple[str, Path]]:
    if root is None or not root.is_dir():
        return []
    return [(prediction_split(p), p) for p in regular_files(root, skipped) if is_predictions_file(p)]


def _metric_lines(file: Path, key: str, record: ImportedRun) -> None:
    """A metric file's lines ``<timestamp ms> <value> [<step>]`` as points; a malformed line is an error naming it."""
    for line_no, line in enumerate(read_text(file).splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        try:
            if len(parts) not in (2, 3):
                raise ValueError
            step = int(parts[2]) if len(parts) > 2 else 0
            ts = _seconds(int(parts[0]))
            float(parts[1])
        except ValueError:
            raise InputError(f"{file}: line {line_no}: {line.strip()[:80]!r} is not an MLflow metric line "
                             "'<timestamp ms> <value> <step>' (integers, and a number); fix or remove the line.") from None
        record.add_point(key, step, parts[1], ts)


def read_mlruns(root: Path, project: str | None) -> list[ImportedRun]:
    """Every live run of an ``mlruns`` folder."""
    records = []
    for exp_dir in sorted(d for d in root.iterdir() if d.is_dir() and (d / "meta.yaml").is_file()):
        exp_meta = _yaml(exp_dir / "meta.yaml")
        if exp_meta.get("lifecycle_stage") == "deleted":
            continue
        experiment = str(exp_meta.get("name", exp_dir.name))
        for run_dir in sorted(d for d in exp_dir.iterdir() if d.is_dir() and (d / "meta.yaml").is_file()):
            meta = _yaml(run_dir / "meta.yaml")
            if meta.get("lifecycle_stage") == "deleted":
                continue
            run_id = str(meta.get("run_id") or meta.get("run_uuid") or run_dir.name)
            skipped: list[str] = []
            tags = _read_kv(run_dir / "tags", skipped)
            record = ImportedRun(
                source=f"mlflow:{run_id}", project=project or experiment,
                name=str(meta.get("run_name") or tags.get("mlflow.runName") or run_id),
                status=STATUS.get(meta.get("status"), "finished"),
                config=params_config(_read_kv(run_dir / "params", skipped)), tags=run_tags(tags),
                parent_source=_parent(tags), created_at=_seconds(meta.get("start_time"), run_dir / "meta.yaml"),
                ended_at=_seconds(meta.get("end_time"), run_dir / "meta.yaml"), notes=skipped,
            )
            metrics_dir = run_dir / "metrics"
            if metrics_dir.is_dir():
                for file in regular_files(metrics_dir, record.notes):
                    _metric_lines(file, file.relative_to(metrics_dir).as_posix(), record)
            record.predictions = _artifact_predictions(run_dir / "artifacts", record.notes)
            latest_last(record)
            records.append(record)
    return records


#: MLflow's system tags kept under plain names (the raw ``mlflow.*`` tags are kept too).
NAMED_TAGS = {"mlflow.note.content": "description", "mlflow.source.name": "source_name",
              "mlflow.source.git.commit": "git_commit", "mlflow.user": "user", "mlflow.source.type": "source_type"}


def params_config(params: dict[str, str]) -> dict[str, Any]:
    """The params as MLflow stored them, text exactly (``"01"`` stays ``"01"``), and their typed values beside
    them under ``params_typed`` (``1``), never replacing the text."""
    config: dict[str, Any] = dict(params)
    if params:
        config["params_typed"] = {k: parse_scalar(v) for k, v in params.items()}
    return config


def run_tags(tags: dict[str, str]) -> dict[str, str]:
    """Every tag, the ``mlflow.*`` ones included, with the description, source, git commit and user also under
    plain names; the parent run becomes the ``parent_run`` tag (the parent's runcard id) when it is stored."""
    out = dict(tags)
    out.update({plain: tags[key] for key, plain in NAMED_TAGS.items() if key in tags})
    return out


def _parent(tags: dict[str, str]) -> str | None:
    parent = tags.get("mlflow.parentRunId")
    return f"mlflow:{parent}" if parent else None


def latest_last(record: ImportedRun) -> None:
    """Each series in MLflow's order for "latest": by (step, timestamp, value), so the point the store keeps as
    the latest (highest step, then last stored) is the one MLflow shows: the largest (step, timestamp, value)."""
    for key, points in record.series.items():
        record.series[key] = sorted(points, key=lambda p: (p[0], p[2], p[1] if p[1] == p[1] else float("-inf")))


def _read_kv(folder: Path, skipped: list[str]) -> dict[str, str]:
    if not folder.is_dir():
        return {}
    return {p.relative_to(folder).as_posix(): read_text(p) for p in regular_files(folder, skipped)}


def _seconds(ms: object, where: Path | None = None) -> float | None:
    """Milliseconds since the epoch as seconds; a value that is not a number is an error naming ``where``."""
    if ms in (None, ""):
        return None
    try:
        return float(ms) / 1000.0  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(f"{where}: time {ms!r} is not a number of milliseconds since 1970.") from None


def read_mlflow_db(path: Path, project: str | None) -> list[ImportedRun]:
    """Every live run of an MLflow SQLite tracking database (opened read-only)."""
    try:
        experiments, runs, params, tags, points = _db_rows(path)
    except sqlite3.Error as exc:
        raise InputError(f"{path}: cannot read the MLflow database ({exc}); check that MLflow can open it "
                         "(mlflow ui --backend-store-uri sqlite:///...).") from None
    records = []
    for run_uuid, name, status, start, end, stage, artifact_uri, exp_id in runs:
        if stage == "deleted":
            continue
        stored_tags = tags.get(run_uuid, {})
        record = ImportedRun(
            source=f"mlflow:{run_uuid}", project=project or str(experiments.get(str(exp_id), exp_id)),
            name=str(name or stored_tags.get("mlflow.runName") or run_uuid), status=STATUS.get(status, "finished"),
            config=params_config(params.get(run_uuid, {})), tags=run_tags(stored_tags),
            parent_source=_parent(stored_tags),
            created_at=_seconds(start, path), ended_at=_seconds(end, path),
        )
        for key, value, ts, step, is_nan in points.get(run_uuid, []):
            if isinstance(step, bool) or not isinstance(step, int):
                raise InputError(f"{path}: table metrics, run {run_uuid}, key {key!r}: step {step!r} is not an "
                                 "integer; MLflow writes integer steps.")
            record.add_point(key, step, float("nan") if is_nan else value, _seconds(ts, path))
        artifacts = _local_path(artifact_uri, path.parent)
        if artifacts is not None and (reason := escape(artifacts, path.parent)) is not None:
            record.notes.append(f"artifacts not read: artifact_uri {artifact_uri} is outside the folder of the "
                                f"database ({reason}); import a folder that holds both")
            artifacts = None
        record.predictions = _artifact_predictions(artifacts, record.notes)
        latest_last(record)
        records.append(record)
    return records


def _db_rows(path: Path) -> tuple[dict[str, Any], list[Any], dict[str, dict[str, str]], dict[str, dict[str, str]],
                                  dict[str, list[Any]]]:
    """The tables of an MLflow database as plain rows: experiments, runs, params, tags, metric points."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        experiments = {str(r[0]): r[1] for r in conn.execute("SELECT experiment_id, name FROM experiments")}
        runs = conn.execute(
            "SELECT run_uuid, name, status, start_time, end_time, lifecycle_stage, artifact_uri, experiment_id "
            "FROM runs ORDER BY start_time, run_uuid").fetchall()
        params: dict[str, dict[str, str]] = {}
        for key, value, run in conn.execute("SELECT key, value, run_uuid FROM params"):
            params.setdefault(run, {})[key] = value
        tags: dict[str, dict[str, str]] = {}
        for key, value, run in conn.execute("SELECT key, value, run_uuid FROM tags"):
            tags.setdefault(run, {})[key] = value
        points: dict[str, list[tuple[str, int, float, int, int]]] = {}
        for row in conn.execute("SELECT run_uuid, key, value, timestamp, step, is_nan FROM metrics "
                                "ORDER BY run_uuid, key, timestamp, step"):
            points.setdefault(row[0], []).append(row[1:])
    return experiments, runs, params, tags, points


def _local_path(uri: str | None, base: Path) -> Path | None:
    if not uri:
        return None
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme == "":
        return Path(os.path.abspath(base / uri))
    return None  # remote artifact stores (s3://, ...) are not read
