"""The UI over a PostgreSQL store: the same pages from the same SQL (the runs table paged in the database, the
listing path, a card, a comparison, a sweep), nothing written."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from starlette.testclient import TestClient

import runcard
from runcard.store import open_store
from runcard.ui.app import create_app
from tests import postgres
from tests.ui.builder import predictions_of


@pytest.fixture(scope="module")
def pg_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str]]]:
    """Three runs with predictions in a fresh PostgreSQL database (a throw-away server, `tests.postgres`)."""
    admin = postgres.server()
    try:
        url = postgres.fresh_database(next(admin))
        root = tmp_path_factory.mktemp("ui-pg")
        with pytest.MonkeyPatch.context() as env:
            env.setenv("RUNCARD_ARTIFACTS", str(root / "artifacts"))
            env.setenv("RUNCARD_JOURNAL", str(root / "journal"))
            ids = []
            for i, (reg, margin) in enumerate((("baseline", 0.8), ("focal", 1.6), ("focal", 1.5))):
                rng = np.random.default_rng(i)
                with runcard.start_run("pg", f"{reg}-{i}", config={"regulariser": reg, "seed": i},
                                       tags={"sweep": "pg1"}, store=url) as run:
                    run.log_metrics({"train/loss": 1.0 / (i + 1)}, step=0)
                    for split, n in (("val", 200), ("test", 300)):
                        run.log_predictions(split, **predictions_of(rng, n, margin, split))  # type: ignore[arg-type]
                ids.append(run.id)
            yield url, ids
    finally:
        admin.close()  # stops the server


def test_every_page_over_postgresql(pg_store: tuple[str, list[str]]) -> None:
    url, (a, b, c) = pg_store
    before = open_store(url).listing_version()
    client = TestClient(create_app(url), base_url="http://127.0.0.1")
    first = client.get("/api/runs?project=pg&q=focal").json()  # in SQL: counted and paged by the database
    assert first["total"] == 2 and {r["id"] for r in first["rows"]} == {b, c}
    by_metric = client.get("/api/runs?project=pg&sort=test/macro_f1").json()  # the listing path
    values = [r["values"]["test/macro_f1"] for r in by_metric["rows"]]
    assert values == sorted(values, reverse=True) and by_metric["rows"][-1]["id"] == a
    lo, hi = by_metric["rows"][0]["ci95"]["test/macro_f1"]
    assert lo <= values[0] <= hi
    grouped = client.get("/api/runs?project=pg&group=regulariser").json()["group"]["groups"]
    assert {g["value"]: g["n"] for g in grouped} == {"baseline": 1, "focal": 2}
    assert client.get("/api/runs?project=pg&tag=sweep=pg1").json()["total"] == 3
    run = client.get(f"/runs/{b}")
    assert run.status_code == 200 and 'data-cell="0:' in run.text and "sha256" in run.text
    assert client.get(f"/api/compare?runs={a}&runs={b}").json()["verdict"]
    assert "paired 95 % CI" in client.get(f"/compare?runs={a}&runs={b}").text
    summary = client.get("/summary?project=pg&sweep=pg1")
    assert summary.status_code == 200 and 'class="parallel"' in summary.text
    counted = client.get("/api/findings?runs=" + ",".join((a, b, c))).json()
    assert set(counted) == {a, b, c} and all(set(v) == {"error", "warning", "info"} for v in counted.values())
    assert client.get("/runs/nosuchrun").status_code == 404
    assert client.get("/api/projects").json() == {"projects": [{"project": "pg", "runs": 3}]}
    assert open_store(url).listing_version() == before  # read-only
