"""A store on a read-only mount can be read: runs, show, card, compare and summary work (computing what is not
stored yet without keeping it); only writes are refused, with a message that says so."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import numpy as np

from runcard import start_run
from runcard.store import open_store
from tests.faults.conftest import Place, cli, one_message


def test_a_read_only_store_reads_and_refuses_writes(place: Place, read_only: Callable[[Path], Path],
                                                    tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    ids = []
    for name in ("a", "b"):
        with start_run(project="p", name=name, store=place.url) as run:
            run.log_metric("loss", 0.5, step=1)
            y = rng.integers(0, 3, 200)
            probs = rng.dirichlet(np.ones(3), 200)
            probs[np.arange(200), y] += 1.0
            run.log_predictions("test", y, probs / probs.sum(axis=1, keepdims=True), classes=["x", "y", "z"])
        ids.append(run.id)
    expected = json.loads(cli("card", ids[0], "--json", "--store", place.url).stdout)
    open_store(place.url).engine.dispose()  # type: ignore[attr-defined]
    with sqlite3.connect(place.root / "runcard.db", isolation_level=None) as conn:
        conn.execute("DELETE FROM runcard_records")  # nothing computed is stored: reads must compute it
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    mounted = read_only(place.root)
    url = f"sqlite:///{mounted / 'runcard.db'}"
    listed = cli("runs", "--json", "--store", url)
    assert listed.returncode == 0, listed.stderr
    assert sorted(r["id"] for r in json.loads(listed.stdout)) == sorted(ids)
    assert cli("show", ids[0], "--store", url).returncode == 0
    card = cli("card", ids[0], "--json", "--store", url)
    assert card.returncode == 0, card.stderr
    assert json.loads(card.stdout)["evaluation"] == expected["evaluation"]  # the same numbers, computed again
    out = tmp_path / "compare.md"
    compared = cli("compare", *ids, "--store", url, "--out", out)
    assert compared.returncode == 0 and out.read_text(encoding="utf-8").strip(), compared.stderr
    summary = cli("summary", "--project", "p", "--store", url, "--sort", "test/accuracy")
    assert summary.returncode == 0, summary.stderr
    with sqlite3.connect(place.root / "runcard.db") as conn:  # and nothing was written to it
        assert conn.execute("SELECT COUNT(*) FROM runcard_records").fetchone() == (0,)
    one_message(cli("rm", ids[0], "--store", url), "read-only", "write access")
