"""The SQL backend: SQLite (embedded default) and PostgreSQL through the same SQLAlchemy Core code.

SQLite runs in WAL mode with a 30 s busy timeout, and every write transaction starts with
``BEGIN IMMEDIATE`` so concurrent writers queue instead of deadlocking; writes that still meet a
locked database are retried. Migrations run under a lock (SQLite's write lock, a PostgreSQL
advisory lock) so two processes opening a new store at once do not race.
"""

from __future__ import annotations

import contextlib
import json
import math
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    Connection,
    and_,
    delete,
    func,
    insert,
    select,
    true,
    update,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError, IntegrityError, OperationalError

from runcard.errors import InputError
from runcard.store import listing_queries, schema
from runcard.store.artifacts import ArtifactStore
from runcard.store.base import MetricPoint, NewRun, Record
from runcard.store.opening import (
    StoreError,
    StoreFileError,
    check_sqlite_file,
    database_problem,
    make_engine,
    schema_state,
)
from runcard.store.runs import (
    Artifact,
    Run,
    RunListing,
    current_scores,
    resolve_settings,
    scores_by_run,
    summaries_by_run,
)
from runcard.urls import safe_url

T = TypeVar("T")
#: Rows per INSERT when writing metric points.
INSERT_BATCH = 5000
#: Attempts for a write that meets a locked SQLite database (after its 30 s busy timeout).
WRITE_ATTEMPTS = 8


class SqlStore:
    """A `Store` over SQLAlchemy: ``sqlite:///path.db`` or ``postgresql+psycopg://...``."""

    def __init__(self, url: str, artifact_root: str | Path, journal_dir: str | Path) -> None:
        self.url = url
        self.artifacts = ArtifactStore(artifact_root)
        self.journal_dir = Path(journal_dir)
        self.dialect = make_url(url).get_backend_name()
        self.engine = make_engine(url, self.dialect)
        mark = "?" if self.dialect == "sqlite" else "%s"
        self._metrics_insert = (
            f"INSERT INTO {schema.metrics.name} (run_id, seq, key, step, value, timestamp) "
            f"VALUES ({', '.join([mark] * 6)}) ON CONFLICT DO NOTHING"
        )
        self.read_only = False
        self.where = make_url(url).database or url if self.dialect == "sqlite" else safe_url(url)
        if self.dialect == "sqlite":
            self._check_sqlite_file()
        self._migrate()
        with contextlib.suppress(OSError):  # copies a killed writer left behind (a read-only store keeps them)
            self.artifacts.clean_tmp()

    # -- plumbing ---------------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        if self.read_only:
            raise StoreFileError(f"{self.where}: the store is read-only (its file or folder cannot be "
                             "written); reading works, writing needs write access to it.")
        with self._named_errors(), self.engine.connect() as conn:
            conn.execution_options(runcard_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._named_errors(), self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def _named_errors(self) -> Iterator[None]:
        """Database failures a user can cause or meet (a damaged file, a full disk, a read-only store)
        become a `StoreError` naming the store and the fix; a locked database and an integrity
        conflict pass through to `_retry` and the callers that expect them."""
        try:
            yield
        except IntegrityError:
            raise
        except DatabaseError as exc:
            text = str(exc.orig if exc.orig is not None else exc).lower()
            if "locked" in text or "busy" in text:
                raise
            raise StoreFileError(database_problem(self.where, text)) from None

    def _retry(self, action: Callable[[], T]) -> T:
        for attempt in range(WRITE_ATTEMPTS):
            try:
                return action()
            except OperationalError as exc:
                locked = "locked" in str(exc).lower() or "busy" in str(exc).lower()
                if not locked or attempt == WRITE_ATTEMPTS - 1:
                    raise
                time.sleep(min(2.0, 0.05 * 2**attempt) * (0.5 + random.random()))
        raise AssertionError("unreachable")

    def _check_sqlite_file(self) -> None:
        """`check_sqlite_file`; a store it finds read-only is opened read-only."""
        path = Path(make_url(self.url).database or "")
        if not check_sqlite_file(path):
            self.read_only = True
            self.engine.dispose()
            self.engine = make_engine(f"sqlite:///file:{path}?mode=ro&immutable=1&uri=true", "sqlite", read_only=True)

    def _migrate(self) -> None:
        with self._read() as conn:
            current = schema_state(conn, self.where)
        if current == schema.SCHEMA_VERSION:
            return  # nothing to write: a read-only store opens as it is
        if self.read_only:
            raise StoreFileError(f"{self.where}: the store (schema version {current or 'none'}) needs an "
                             f"upgrade to version {schema.SCHEMA_VERSION}, but it is read-only; open it once "
                             "with write access.")

        def run() -> None:
            with self._write() as conn:
                if self.dialect == "postgresql":
                    conn.exec_driver_sql("SELECT pg_advisory_xact_lock(727274)")
                current = schema_state(conn, self.where)  # again, under the lock: another process may have migrated
                schema.schema_version.create(conn, checkfirst=True)
                for version in range(current, schema.SCHEMA_VERSION):
                    schema.MIGRATIONS[version](conn)
                if current == 0:
                    conn.execute(insert(schema.schema_version).values(id=1, version=schema.SCHEMA_VERSION))
                elif current < schema.SCHEMA_VERSION:
                    conn.execute(update(schema.schema_version).values(version=schema.SCHEMA_VERSION))

        try:
            self._retry(run)
        except OperationalError as exc:
            raise StoreError(f"{safe_url(self.url)}: cannot open the store ({exc.orig}).") from None

    def close(self) -> None:
        self.engine.dispose()

    # -- writes -----------------------------------------------------------------------------------

    def create_run(self, run: NewRun) -> None:
        values = {
            "id": run.id, "project": run.project, "name": run.name, "status": run.status,
            "config": json.dumps(run.config), "tags": json.dumps(run.tags, sort_keys=True),
            "created_at": run.created_at, "ended_at": run.ended_at, "heartbeat_at": run.created_at,
            "host": run.host, "pid": run.pid, "proc_start": run.proc_start, "source": run.source,
            "eval_settings": None if run.eval_settings is None else json.dumps(run.eval_settings),
        }

        def write() -> None:
            with self._write() as conn:
                conn.execute(insert(schema.runs).values(**values))

        try:
            self._retry(write)
        except IntegrityError:
            raise StoreError(f"run {run.id} (source {run.source}) already exists in the store.") from None

    def set_status(self, run_id: str, status: str, *, error: str | None = None,
                   ended_at: float | None = None, only_if: str | None = None) -> bool:
        stmt = update(schema.runs).where(schema.runs.c.id == run_id)
        if only_if is not None:
            stmt = stmt.where(schema.runs.c.status == only_if)
        stmt = stmt.values(status=status, error=error, ended_at=ended_at)

        def write() -> bool:
            with self._write() as conn:
                return conn.execute(stmt).rowcount > 0

        return self._retry(write)

    def heartbeat(self, run_id: str, at: float) -> None:
        def write() -> None:
            with self._write() as conn:
                conn.execute(update(schema.runs).where(schema.runs.c.id == run_id).values(heartbeat_at=at))

        self._retry(write)

    def _append(self, table: Any, run_id: str, **values: Any) -> None:
        """Insert a row at the run's next ``position`` in ``table`` (stages, artifacts keep their order)."""
        def write() -> None:
            with self._write() as conn:
                position = conn.execute(
                    select(func.coalesce(func.max(table.c.position), -1) + 1).where(table.c.run_id == run_id)
                ).scalar_one()
                conn.execute(insert(table).values(run_id=run_id, position=position, **values))

        self._retry(write)

    def add_stage(self, run_id: str, name: str, seconds: float, started_at: float) -> None:
        self._append(schema.stages, run_id, name=name, seconds=seconds, started_at=started_at)

    def log_metrics(self, run_id: str, points: list[MetricPoint]) -> None:
        """Insert points (ignoring ``seq`` already present) and move the summary forward."""
        if not points:
            return
        rows = [(run_id, p.seq, p.key, p.step, None if p.value != p.value else p.value, p.timestamp) for p in points]
        latest: dict[str, MetricPoint] = {}
        for p in points:
            best = latest.get(p.key)
            if best is None or (p.step, p.seq) >= (best.step, best.seq):
                latest[p.key] = p
        summary_rows = [{"run_id": run_id, "key": k, "step": p.step, "seq": p.seq,
                         "value": None if math.isnan(p.value) else p.value} for k, p in latest.items()]

        def write() -> None:
            with self._write() as conn:
                for start in range(0, len(rows), INSERT_BATCH):
                    # The DBAPI's executemany directly: SQLAlchemy's per-row parameter handling would
                    # cost more than the database itself here.
                    conn.exec_driver_sql(self._metrics_insert, rows[start:start + INSERT_BATCH])
                self._upsert_summary(conn, summary_rows)

        self._retry(write)

    def _insert(self, table: Any) -> Any:
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert  # on use: 70 ms of every command on SQLite

            return insert(table)
        return sqlite_insert(table)

    def _upsert_summary(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        stmt = self._insert(schema.summary)
        table = schema.summary
        newer = (stmt.excluded.step > table.c.step) | (
            (stmt.excluded.step == table.c.step) & (stmt.excluded.seq >= table.c.seq))
        conn.execute(stmt.on_conflict_do_update(
            index_elements=[table.c.run_id, table.c.key],
            set_={"step": stmt.excluded.step, "seq": stmt.excluded.seq, "value": stmt.excluded.value},
            where=newer,
        ), rows)

    def set_summary(self, run_id: str, values: dict[str, float]) -> None:
        """Summary values that have no series (e.g. an imported final score)."""
        rows = [{"run_id": run_id, "key": k, "step": -1, "seq": -1, "value": None if math.isnan(v) else v}
                for k, v in values.items()]

        def write() -> None:
            with self._write() as conn:
                self._upsert_summary(conn, rows)

        self._retry(write)

    def add_artifact(self, run_id: str, artifact: Artifact) -> None:
        self._append(schema.artifacts, run_id, name=artifact.name, kind=artifact.kind, sha256=artifact.sha256,
                     size=artifact.size, path=artifact.path, created_at=artifact.created_at,
                     meta=json.dumps(artifact.meta, sort_keys=True))

    def set_eval_settings(self, run_id: str, settings: dict[str, Any]) -> None:
        """Record a run's evaluation settings, unless it has some already (they never change)."""
        def write() -> None:
            with self._write() as conn:
                conn.execute(update(schema.runs).where(schema.runs.c.id == run_id, schema.runs.c.eval_settings.is_(None))
                             .values(eval_settings=json.dumps(settings)))

        self._retry(write)

    def put_record(self, run_id: str, record: Record) -> None:
        """Keep what was computed from a run's predictions; a record already there is left as it is."""
        values = {"run_id": run_id, "kind": record.kind, "key": record.key, "inputs": record.inputs,
                  "settings": record.settings, "runcard": record.runcard, "created_at": record.created_at,
                  "scores": None if record.scores is None else json.dumps(record.scores), "payload": record.payload}

        def write() -> None:
            with self._write() as conn:
                conn.execute(self._insert(schema.records).values(**values).on_conflict_do_nothing())

        self._retry(write)

    def get_record(self, run_id: str, kind: str, key: str, inputs: str, settings: str) -> Record | None:
        t = schema.records
        with self._read() as conn:
            row = conn.execute(select(t).where(t.c.run_id == run_id, t.c.kind == kind, t.c.key == key,
                                               t.c.inputs == inputs, t.c.settings == settings)).first()
        if row is None:
            return None
        return Record(row.kind, row.key, row.inputs, row.settings, row.payload, row.runcard, row.created_at,
                      None if row.scores is None else json.loads(row.scores))

    def delete_run(self, run_id: str) -> list[Artifact]:
        """Remove a run and everything recorded for it; return its artifacts (files are the caller's)."""
        arts = list(self.get_run(run_id).artifacts)

        def write() -> None:
            with self._write() as conn:
                for table in schema.RUN_TABLES:
                    conn.execute(delete(table).where(table.c.run_id == run_id))
                conn.execute(delete(schema.runs).where(schema.runs.c.id == run_id))

        self._retry(write)
        return arts

    # -- reads ------------------------------------------------------------------------------------

    def resolve(self, id_or_prefix: str) -> str:
        """The full id of the one run whose id starts with ``id_or_prefix``."""
        if not id_or_prefix or not id_or_prefix.replace("-", "").isalnum():
            raise InputError(f"run id {id_or_prefix!r}: expected a run id or a prefix of one (letters and digits).")
        with self._read() as conn:
            ids = conn.execute(
                select(schema.runs.c.id).where(schema.runs.c.id.like(f"{id_or_prefix}%")).limit(6)
            ).scalars().all()
        if not ids:
            raise InputError(f"no run with id {id_or_prefix!r} in {safe_url(self.url)}; `runcard runs` lists them.")
        if id_or_prefix in ids:
            return id_or_prefix
        if len(ids) > 1:
            raise InputError(f"run id prefix {id_or_prefix!r} is ambiguous: it matches {', '.join(ids[:5])}"
                             f"{' and more' if len(ids) > 5 else ''}; give more characters.")
        return ids[0]

    def get_run(self, id_or_prefix: str) -> Run:
        run_id = self.resolve(id_or_prefix)
        runs = self._load_runs(schema.runs.c.id == run_id)
        return runs[0]

    def list_runs(self, project: str | None = None, status: str | None = None) -> list[Run]:
        conditions = []
        if project is not None:
            conditions.append(schema.runs.c.project == project)
        if status is not None:
            conditions.append(schema.runs.c.status == status)
        return self._load_runs(and_(true(), *conditions))

    def _load_runs(self, where: Any) -> list[Run]:
        with self._read() as conn:
            c = schema.runs.c  # the columns a Run holds, unpacked below: a Row's attributes cost 10,000 runs 50 ms
            rows = conn.execute(select(c.id, c.project, c.name, c.status, c.config, c.tags, c.created_at, c.ended_at,
                                       c.heartbeat_at, c.host, c.pid, c.error, c.source, c.eval_settings)
                                .where(where).order_by(c.created_at, c.id)).all()
            ids = [r[0] for r in rows]
            if not ids:
                return []
            # The same runs again as a subquery: one short statement, not a bound parameter per run (10,000 runs).
            chosen = select(schema.runs.c.id).where(where).scalar_subquery()
            stage_rows = conn.execute(select(schema.stages).where(schema.stages.c.run_id.in_(chosen))
                                      .order_by(schema.stages.c.run_id, schema.stages.c.position)).all()
            art_rows = conn.execute(select(schema.artifacts).where(schema.artifacts.c.run_id.in_(chosen))
                                    .order_by(schema.artifacts.c.run_id, schema.artifacts.c.position)).all()
            summary = schema.summary
            sum_rows = conn.execute(select(summary.c.run_id, summary.c.key, summary.c.value)
                                    .where(summary.c.run_id.in_(chosen)).order_by(summary.c.run_id, summary.c.key)).all()
            rec = schema.records
            score_rows = conn.execute(select(rec.c.run_id, rec.c.key, rec.c.inputs, rec.c.settings, rec.c.scores)
                                      .where(rec.c.run_id.in_(chosen), rec.c.kind == "evaluation")).all()
        stages: dict[str, dict[str, float]] = {i: {} for i in ids}
        for s in stage_rows:
            stages[s.run_id][s.name] = stages[s.run_id].get(s.name, 0.0) + s.seconds
        arts: dict[str, list[Artifact]] = {i: [] for i in ids}
        for a in art_rows:
            arts[a.run_id].append(Artifact(a.name, a.kind, a.sha256, a.size, a.path, a.created_at, json.loads(a.meta)))
        summaries, scores = summaries_by_run(sum_rows), scores_by_run(score_rows)
        out = []
        for row in rows:
            (run_id, project, name, status, config_json, tags, created_at, ended_at, heartbeat_at, host, pid, error,
             source, settings_json) = row
            config = json.loads(config_json)
            settings = None if settings_json is None else json.loads(settings_json)
            out.append(Run(
                id=run_id, project=project, name=name, status=status, config=config, tags=json.loads(tags),
                stages=stages[run_id], artifacts=tuple(arts[run_id]), summary=summaries.get(run_id, {}),
                created_at=created_at,
                ended_at=ended_at, heartbeat_at=heartbeat_at, host=host, pid=pid, error=error, source=source,
                eval_settings=settings,
                evaluated=current_scores(arts[run_id], resolve_settings(settings, config).key, scores[run_id])
                if run_id in scores else {},
                store=self))
        return out

    def liveness_info(self, run_id: str) -> tuple[str | None, int | None, str | None, float | None]:
        """(host, pid, process start, last heartbeat) of a run's owner process."""
        with self._read() as conn:
            row = conn.execute(select(schema.runs.c.host, schema.runs.c.pid, schema.runs.c.proc_start,
                                      schema.runs.c.heartbeat_at).where(schema.runs.c.id == run_id)).one()
        return row.host, row.pid, row.proc_start, row.heartbeat_at

    def history(self, run_id: str, key: str) -> list[tuple[int, float]]:
        with self._read() as conn:
            rows = conn.execute(
                select(schema.metrics.c.step, schema.metrics.c.value)
                .where(schema.metrics.c.run_id == run_id, schema.metrics.c.key == key)
                .order_by(schema.metrics.c.seq)
            ).all()
        return [(int(r.step), math.nan if r.value is None else float(r.value)) for r in rows]

    def all_series(self, run_id: str) -> dict[str, list[tuple[int, float]]]:
        """Every series of a run, key -> (step, value) in logging order, in one query."""
        with self._read() as conn:
            rows = conn.execute(
                select(schema.metrics.c.key, schema.metrics.c.step, schema.metrics.c.value)
                .where(schema.metrics.c.run_id == run_id).order_by(schema.metrics.c.seq)
            ).all()
        out: dict[str, list[tuple[int, float]]] = {}
        for r in rows:
            out.setdefault(r.key, []).append((int(r.step), math.nan if r.value is None else float(r.value)))
        return out

    def series_of_runs(self, run_ids: list[str]) -> dict[str, dict[str, list[tuple[int, float]]]]:
        """Every series of each run, as `all_series` gives one run's, in a query per 500 runs."""
        out: dict[str, dict[str, list[tuple[int, float]]]] = {i: {} for i in run_ids}
        m = schema.metrics
        for start in range(0, len(run_ids), 500):
            with self._read() as conn:
                rows = conn.execute(select(m.c.run_id, m.c.key, m.c.step, m.c.value)
                                    .where(m.c.run_id.in_(run_ids[start:start + 500]))
                                    .order_by(m.c.run_id, m.c.seq)).all()
            for r in rows:
                out[r.run_id].setdefault(r.key, []).append((int(r.step), math.nan if r.value is None else float(r.value)))
        return out

    def metric_keys(self, run_id: str) -> list[str]:
        with self._read() as conn:
            return list(conn.execute(select(schema.metrics.c.key).where(schema.metrics.c.run_id == run_id)
                                     .distinct().order_by(schema.metrics.c.key)).scalars())

    def count_points(self, run_id: str) -> int:
        with self._read() as conn:
            return int(conn.execute(select(func.count()).select_from(schema.metrics)
                                    .where(schema.metrics.c.run_id == run_id)).scalar_one())

    def find_source(self, source: str) -> str | None:
        with self._read() as conn:
            return conn.execute(select(schema.runs.c.id).where(schema.runs.c.source == source)).scalar()

    def artifact_in_use(self, sha256: str) -> bool:
        with self._read() as conn:
            return conn.execute(select(func.count()).select_from(schema.artifacts)
                                .where(schema.artifacts.c.sha256 == sha256)).scalar_one() > 0

    # -- listings (runcard ui): a page of runs, or every run's flat values, without their evaluations ------

    def page_runs(self, *, project: str | None = None, status: str | None = None, text: str | None = None,
                  order_by: str = "created_at", descending: bool = True, offset: int = 0,
                  limit: int = 50) -> tuple[int, list[str]]:
        """`runcard.store.listing_queries.page_runs`."""
        with self._read() as conn:
            return listing_queries.page_runs(conn, project=project, status=status, text=text, order_by=order_by,
                                             descending=descending, offset=offset, limit=limit)

    def get_runs(self, ids: list[str]) -> list[Run]:
        """The runs with these exact ids, in the order given (ids not in the store are left out)."""
        by_id = {run.id: run for run in self._load_runs(schema.runs.c.id.in_(ids))} if ids else {}
        return [by_id[i] for i in ids if i in by_id]

    def records_of(self, run_ids: list[str], kind: str) -> dict[str, list[Record]]:
        """Run id -> its records of ``kind`` (e.g. every evaluation of a page of runs, in one query)."""
        t = schema.records
        out: dict[str, list[Record]] = {i: [] for i in run_ids}
        with self._read() as conn:
            rows = conn.execute(select(t).where(t.c.run_id.in_(run_ids), t.c.kind == kind)).all() if run_ids else []
        for row in rows:
            out[row.run_id].append(Record(row.kind, row.key, row.inputs, row.settings, row.payload, row.runcard,
                                          row.created_at, None if row.scores is None else json.loads(row.scores)))
        return out

    def project_counts(self) -> dict[str, int]:
        """Project -> how many runs it has."""
        with self._read() as conn:
            return listing_queries.project_counts(conn)

    def tag_counts(self, key: str, project: str | None = None) -> dict[str, int]:
        """Value of the tag ``key`` (e.g. ``sweep``) -> how many runs (of ``project``) carry it."""
        with self._read() as conn:
            return listing_queries.tag_counts(conn, key, project)

    def listing_version(self) -> tuple[Any, ...]:
        """`runcard.store.listing_queries.listing_version`: changes whenever a listing of the runs would."""
        with self._read() as conn:
            return listing_queries.listing_version(conn)

    def run_listings(self, project: str | None = None) -> list[RunListing]:
        """Every run (of ``project``), oldest first, as a listing shows it (`listing_queries.run_listings`)."""
        with self._read() as conn:
            return listing_queries.run_listings(conn, project)
