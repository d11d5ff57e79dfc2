"""Store fixtures: every store test runs against SQLite and against a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from runcard.store import Store, open_store
from tests import postgres


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[str]:
    yield from postgres.server()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A new, empty store URL; artifacts and journals go under the test's tmp_path."""
    monkeypatch.setenv("RUNCARD_ARTIFACTS", str(tmp_path / "artifacts"))
    monkeypatch.setenv("RUNCARD_JOURNAL", str(tmp_path / "journal"))
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store' / 'runcard.db'}"
    return postgres.fresh_database(request.getfixturevalue("postgres_admin"))


@pytest.fixture
def store(store_url: str) -> Store:
    return open_store(store_url)
