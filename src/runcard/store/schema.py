"""The store's one schema (SQLAlchemy Core) and its versioned migrations.

The same tables serve SQLite and PostgreSQL. `MIGRATIONS[i]` upgrades a store from version ``i``
to ``i + 1``; `SCHEMA_VERSION` is the version this code writes. A store written by a newer
runcard is refused rather than misread.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    inspect,
)

metadata = MetaData()

schema_version = Table(
    "runcard_schema",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", Integer, nullable=False),
)

runs = Table(
    "runcard_runs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("project", String(200), nullable=False),
    Column("name", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    Column("config", Text, nullable=False),  # JSON
    Column("tags", Text, nullable=False),  # JSON object of strings
    Column("created_at", Float, nullable=False),
    Column("ended_at", Float),
    Column("heartbeat_at", Float),
    Column("host", String(255)),
    Column("pid", Integer),
    Column("proc_start", String(100)),  # boot id + start ticks: tells a live owner from a reused pid
    Column("error", Text),
    Column("source", String(1000)),  # what an imported run came from; unique, so imports never duplicate
    Column("eval_settings", Text),  # JSON: the run's evaluation settings (version 2)
    UniqueConstraint("source", name="uq_runcard_runs_source"),
)
Index("ix_runcard_runs_project", runs.c.project, runs.c.created_at)

stages = Table(
    "runcard_stages",
    metadata,
    Column("run_id", String(32), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("seconds", Float, nullable=False),
    Column("started_at", Float, nullable=False),
)

metrics = Table(
    "runcard_metrics",
    metadata,
    Column("run_id", String(32), primary_key=True),
    Column("seq", BigInteger, primary_key=True),  # per-run sequence: replaying a journal never duplicates
    Column("key", String(250), nullable=False),
    Column("step", BigInteger, nullable=False),
    Column("value", Float),  # NULL stores NaN (SQLite cannot hold NaN)
    Column("timestamp", Float, nullable=False),
)
Index("ix_runcard_metrics_key", metrics.c.run_id, metrics.c.key, metrics.c.step)

summary = Table(
    "runcard_summary",
    metadata,
    Column("run_id", String(32), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("step", BigInteger, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("value", Float),
)

artifacts = Table(
    "runcard_artifacts",
    metadata,
    Column("run_id", String(32), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("name", String(500), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("path", String(1000), nullable=False),  # relative to the artifact root
    Column("created_at", Float, nullable=False),
    Column("meta", Text, nullable=False),  # JSON
)
Index("ix_runcard_artifacts_sha", artifacts.c.sha256)

#: What runcard computed from a run's stored inputs, kept so every document shows the same numbers:
#: ``kind`` (evaluation, calibration, decision_rules), ``key`` (the split, or ``split/task``; ``val->test``),
#: ``inputs`` (the sha256 of the predictions it was computed from, joined by "+"), ``settings`` (the
#: `EvalSettings.key`), ``scores`` (flat named scores, JSON, for listings) and the full ``payload`` (JSON).
records = Table(
    "runcard_records",
    metadata,
    Column("run_id", String(32), primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("inputs", String(300), primary_key=True),
    Column("settings", String(250), primary_key=True),
    Column("runcard", String(32), nullable=False),  # the version that computed it
    Column("created_at", Float, nullable=False),
    Column("scores", Text),
    Column("payload", Text, nullable=False),
)

RUN_TABLES = (stages, metrics, summary, artifacts, records)


def _v1(conn: Connection) -> None:
    """Version 1: runs, stages, metrics, summary, artifacts (a new store gets today's columns at once)."""
    metadata.create_all(conn, tables=[runs, stages, metrics, summary, artifacts], checkfirst=True)


def _v2(conn: Connection) -> None:
    """Version 2: the runs' evaluation settings, and the records of what was computed from their predictions."""
    if "eval_settings" not in {c["name"] for c in inspect(conn).get_columns(runs.name)}:
        conn.exec_driver_sql(f"ALTER TABLE {runs.name} ADD COLUMN eval_settings TEXT")
    metadata.create_all(conn, tables=[records], checkfirst=True)


MIGRATIONS: list[Callable[[Connection], None]] = [_v1, _v2]
SCHEMA_VERSION = len(MIGRATIONS)
#: Columns added after version 1, with the version that added them (the rest date from version 1).
ADDED = {(runs.name, "eval_settings"): 2}
#: Tables added after version 1.
TABLES_ADDED = {records.name: 2}


def tables_of(version: int) -> list[Table]:
    """The tables a store at `version` holds."""
    return [t for t in metadata.sorted_tables if TABLES_ADDED.get(t.name, 1) <= version]


def column_since(column: Column) -> int:
    """The schema version that added `column`."""
    return ADDED.get((column.table.name, column.name), 1)
