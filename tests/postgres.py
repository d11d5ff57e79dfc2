"""A throw-away PostgreSQL server for the store tests, started from the Debian server binaries.

Set ``RUNCARD_TEST_POSTGRES_URL`` to use an existing server instead. Without server binaries the
PostgreSQL tests are skipped, unless ``RUNCARD_REQUIRE_POSTGRES=1`` (as `.ci/run` sets), which
makes that a failure.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest


def _bin_dir() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    found = shutil.which("pg_ctl")
    if found:
        candidates.insert(0, str(Path(os.path.realpath(found)).parent))
    for folder in candidates:
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_server_user(cmd: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root: use the postgres account the Debian package creates.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def server() -> Iterator[str]:
    """Yield an admin URL (database ``postgres``) of a running throw-away server."""
    url = os.environ.get("RUNCARD_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    bins = _bin_dir()
    if bins is None:
        message = "PostgreSQL server binaries not found (apt-get install postgresql; .ci/run does this)"
        if os.environ.get("RUNCARD_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    root = Path(tempfile.mkdtemp(prefix="runcard-pg-", dir="/tmp"))
    data, sockets = root / "data", root / "sock"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
    port = _free_port()
    try:
        subprocess.run(_as_server_user([str(bins / "initdb"), "-D", str(data), "-U", "runcard", "--auth=trust",
                                        "-E", "UTF8", "--no-sync"]), check=True, capture_output=True, timeout=120)
        options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50"
        subprocess.run(_as_server_user([str(bins / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-t", "60",
                                        "-l", str(root / "server.log"), "start"]),
                       check=True, capture_output=True, timeout=120)
        yield f"postgresql+psycopg://runcard@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_server_user([str(bins / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


def fresh_database(admin_url: str) -> str:
    """Create an empty database on the server; return its SQLAlchemy URL."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    conninfo = admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + f"/{name}"
