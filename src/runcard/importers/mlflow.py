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

import sqlite3
from pathlib import Path
from urllib.parse import unquote, urlparse

import yaml

from runcard.errors import InputError
from runcard.importers.records import (
    ImportedRun,
    is_predictions_file,
    parse_scalar,
    prediction_split,
)

#: MLflow's RunStatus numbers (file store) and names (database) -> runcard statuses.
STATUS = {1: "running", 2: "running", 3: "finished", 4: "failed", 5: "failed",
          "RUNNING": "running", "SCHEDULED": "running", "FINISHED": "finished", "FAILED": "failed", "KILLED": "failed"}
DB_TABLES = {"experiments", "runs", "params", "tags", "metrics"}


def _yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"{path}: cannot read MLflow metadata ({exc}).") from None
    return data if isinstance(data, dict) else {}


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
    return DB_TABLES <= tables


def _artifact_predictions(root: Path | None) -> list[tuple[str, Path]]:
    if root is None or not root.is_dir():
        return []
    return [(prediction_split(p), p) for p in sorted(root.rglob("*")) if is_predictions_file(p)]


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
            tags = _read_kv(run_dir / "tags")
            record = ImportedRun(
                source=f"mlflow:{run_id}", project=project or experiment,
                name=str(meta.get("run_name") or tags.get("mlflow.runName") or run_id),
                status=STATUS.get(meta.get("status"), "finished"),
                config={k: parse_scalar(v) for k, v in _read_kv(run_dir / "params").items()},
                tags={k: v for k, v in tags.items() if not k.startswith("mlflow.")},
                created_at=_seconds(meta.get("start_time")), ended_at=_seconds(meta.get("end_time")),
            )
            metrics_dir = run_dir / "metrics"
            if metrics_dir.is_dir():
                for file in sorted(p for p in metrics_dir.rglob("*") if p.is_file()):
                    key = file.relative_to(metrics_dir).as_posix()
                    for line in file.read_text(encoding="utf-8").splitlines():
                        parts = line.split()
                        if len(parts) >= 2:
                            step = int(parts[2]) if len(parts) > 2 else 0
                            record.add_point(key, step, parts[1], _seconds(int(parts[0])))
            record.predictions = _artifact_predictions(run_dir / "artifacts")
            records.append(record)
    return records


def _read_kv(folder: Path) -> dict[str, str]:
    if not folder.is_dir():
        return {}
    return {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*"))
            if p.is_file()}


def _seconds(ms: object) -> float | None:
    return None if ms in (None, "") else float(ms) / 1000.0  # type: ignore[arg-type]


def read_mlflow_db(path: Path, project: str | None) -> list[ImportedRun]:
    """Every live run of an MLflow SQLite tracking database (opened read-only)."""
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
    records = []
    for run_uuid, name, status, start, end, stage, artifact_uri, exp_id in runs:
        if stage == "deleted":
            continue
        run_tags = tags.get(run_uuid, {})
        record = ImportedRun(
            source=f"mlflow:{run_uuid}", project=project or str(experiments.get(str(exp_id), exp_id)),
            name=str(name or run_tags.get("mlflow.runName") or run_uuid), status=STATUS.get(status, "finished"),
            config={k: parse_scalar(v) for k, v in params.get(run_uuid, {}).items()},
            tags={k: v for k, v in run_tags.items() if not k.startswith("mlflow.")},
            created_at=_seconds(start), ended_at=_seconds(end),
        )
        for key, value, ts, step, is_nan in points.get(run_uuid, []):
            record.add_point(key, int(step), float("nan") if is_nan else value, _seconds(ts))
        record.predictions = _artifact_predictions(_local_path(artifact_uri, path.parent))
        records.append(record)
    return records


def _local_path(uri: str | None, base: Path) -> Path | None:
    if not uri:
        return None
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme == "":
        return (base / uri).resolve()
    return None  # remote artifact stores (s3://, ...) are not read
