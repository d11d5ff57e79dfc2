"""Opening a store's database safely: the file checked before SQLite touches it, the schema version checked
before anything is read, what a database error means to the user, and the engine with SQLite's settings.
`runcard.store.sql.SqlStore` calls these when it opens a store and when a statement fails.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, select

from runcard.errors import InputError, RunCardError
from runcard.store import schema
from runcard.urls import safe_url


class StoreError(RunCardError):
    """The store cannot be opened or used (unreachable server, newer schema, ...)."""


class StoreFileError(StoreError, InputError):
    """The store's database cannot be used as it is: damaged, foreign, another version, read-only,
    a full disk. The user fixes it (CLI exit code 2)."""


def check_sqlite_file(path: Path) -> bool:
    """Refuse what is not a runcard SQLite store before SQLite touches it: an empty file (SQLite
    would silently make a new store of it) or a file that is not SQLite at all. Whether the store can be
    written (a new file can; a file or folder without write access cannot)."""
    if not path.exists():
        return True
    if path.is_dir():
        raise StoreFileError(f"{path}: is a folder, not a store database; point the store URL at a file.")
    with path.open("rb") as handle:
        head = handle.read(16)
    if not head:
        raise StoreFileError(f"{path}: the store file is empty (0 bytes), so it holds no runs; if it held "
                             "runs, restore it from a backup; otherwise delete it and runcard makes a new store.")
    if head != b"SQLite format 3\x00":
        raise StoreFileError(f"{path}: not a SQLite database (it starts {head[:8]!r}); the store URL names a "
                             "file runcard did not write; point it at a runcard store or a new path.")
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def schema_state(conn: Connection, where: str) -> int:
    """The stored schema version, checked: 0 for a database with no tables (a new store); a
    foreign database, several version rows, a version that is not a number, or tables that lack
    a column of their version are a `StoreError` saying what to do."""
    tables = set(inspect(conn).get_table_names())
    if schema.schema_version.name not in tables:
        if tables:
            raise StoreFileError(f"{where}: a database, but not a runcard store (it holds tables "
                                 f"{sorted(tables)[:6]} and no {schema.schema_version.name}); point the store URL "
                                 "at a runcard store or a new file.")
        return 0
    rows = conn.execute(select(schema.schema_version.c.version)).all()
    if len(rows) != 1:
        raise StoreFileError(f"{where}: the store's version table holds {len(rows)} rows, not one; the file "
                             "was edited or damaged; restore it from a backup.")
    value = rows[0][0]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise StoreFileError(f"{where}: the store's schema version is {value!r}, not a version runcard writes "
                             f"(1 to {schema.SCHEMA_VERSION}); the file was edited or damaged; restore it from "
                             "a backup.")
    if value > schema.SCHEMA_VERSION:
        raise StoreFileError(
            f"{where}: the store has schema version {value}, newer than this runcard understands "
            f"({schema.SCHEMA_VERSION}); upgrade runcard (pip install -U runcard) to read it."
        )
    for table in schema.tables_of(value):
        if table.name not in tables:
            raise StoreFileError(f"{where}: the store (schema version {value}) has no table {table.name}; the "
                                 "file was damaged or written by another program; restore it from a backup.")
        have = {c["name"] for c in inspect(conn).get_columns(table.name)}
        missing = [c.name for c in table.columns if c.name not in have and schema.column_since(c) <= value]
        if missing:
            raise StoreFileError(f"{where}: table {table.name} lacks column(s) {missing} that schema version "
                                 f"{value} has; the file was damaged or written by another program; restore it "
                                 "from a backup.")
    return value


def database_problem(where: str, text: str) -> str:
    """What a database error means to the user, and what to do."""
    if "malformed" in text or "not a database" in text or "encrypted" in text or "corrupt" in text:
        return (f"{where}: the store database is damaged ({text.strip()}); restore it from a backup, or "
                "salvage it with `sqlite3 FILE .recover | sqlite3 NEW.db` and point the store at NEW.db.")
    if "full" in text:
        return f"{where}: the disk is full ({text.strip()}); free space and retry."
    if "readonly" in text or "read-only" in text:
        return f"{where}: the store cannot be written ({text.strip()}); writing needs write access to it."
    return f"{where}: the store database failed ({text.strip()}); check the file and its disk, then retry."


def make_engine(url: str, dialect: str, read_only: bool = False) -> Engine:
    """The engine of a store URL: SQLite in WAL mode with a 30 s busy timeout, writes under ``BEGIN IMMEDIATE``
    (read-only: no pragmas); PostgreSQL with pre-ping."""
    if dialect == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # runcard emits BEGIN itself (below)
            cursor = dbapi_conn.cursor()
            if read_only:
                cursor.close()
                return
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("runcard_write") else "BEGIN")

        return engine
    if dialect == "postgresql":
        return create_engine(url, pool_pre_ping=True)
    raise InputError(f"store URL {safe_url(url)}: unsupported database {dialect!r}; use sqlite:///path/to/runcard.db "
                     "or postgresql+psycopg://user@host/db.")


