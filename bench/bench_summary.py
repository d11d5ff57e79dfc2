"""Benchmark: `runcard summary` over 10,000 stored runs, beside loading the same runs into pandas.

    python bench/bench_summary.py [--runs 10000]

Builds a fresh SQLite store holding ``--runs`` runs of a sweep (config: regulariser, learning
rate, seed; summary: test/kl, test/top1, test/top3, val/loss, train/loss; a few outliers), then
times, as whole commands, `runcard summary --project sweep --sort test/kl --group-by regulariser
--json` (store opened, runs read, findings, groups, takeaways, JSON printed) and, in one process,
pandas reading the same runs and metrics from the same database and pivoting them into one table
(when pandas is installed). Goal: the summary under 5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sqlalchemy import insert

from runcard.store import open_store, schema

REGULARISERS = ["baseline", "entropy", "max_suppress", "temperature", "focal", "entropy+focal", "label_smoothing"]


def build(url: str, runs: int) -> None:
    """Insert the sweep's runs in bulk (data generation, not the measured part)."""
    store = open_store(url)
    rng = np.random.default_rng(0)
    now = time.time()
    run_rows, summary_rows = [], []
    for i in range(runs):
        run_id = f"{i:08x}"
        reg = REGULARISERS[i % len(REGULARISERS)]
        lr = [1e-5, 2e-5, 5e-5][(i // 7) % 3]
        config = {"regulariser": reg, "lr": lr, "seed": i // 21, "depth": 2 + i % 3}
        run_rows.append({"id": run_id, "project": "sweep", "name": f"{reg}-lr{lr:g}-{i}", "status": "finished",
                         "config": json.dumps(config), "tags": "{}", "created_at": now + i, "ended_at": now + i + 60,
                         "heartbeat_at": now + i, "host": None, "pid": None, "proc_start": None, "error": None,
                         "source": None})
        kl = 0.40 + 0.01 * (i % len(REGULARISERS)) + rng.normal(0, 0.004)
        val_loss = 0.9 + rng.normal(0, 0.01)
        if i % 997 == 13:
            kl, val_loss = kl * 40, val_loss * 40
        for key, value in (("test/kl", kl), ("test/top1", 0.3484), ("test/top3", 0.9791), ("val/loss", val_loss),
                           ("train/loss", 0.8 + rng.normal(0, 0.01))):
            summary_rows.append({"run_id": run_id, "key": key, "step": 10, "seq": 0, "value": float(value)})
    with store.engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(insert(schema.runs), run_rows)
        conn.execute(insert(schema.summary), summary_rows)


def time_summary(url: str, env: dict[str, str]) -> tuple[float, int]:
    runcard = str(Path(sys.executable).parent / "runcard")
    start = time.perf_counter()
    result = subprocess.run([runcard, "summary", "--project", "sweep", "--sort", "test/kl", "--group-by", "regulariser",
                             "--json", "--store", url], capture_output=True, text=True, env=env, check=True)
    elapsed = time.perf_counter() - start
    doc = json.loads(result.stdout)
    return elapsed, len(doc["leaderboard"]) + len(doc["set_apart"])


def time_pandas(db: Path) -> float | None:
    try:
        import pandas as pd
    except ImportError:
        return None
    import sqlite3

    start = time.perf_counter()
    with sqlite3.connect(db) as conn:
        runs = pd.read_sql("SELECT id, project, name, status, config FROM runcard_runs WHERE project = 'sweep'", conn)
        values = pd.read_sql("SELECT run_id, key, value FROM runcard_summary", conn)
    table = values.pivot(index="run_id", columns="key", values="value")
    merged = runs.set_index("id").join(table)
    merged["regulariser"] = [json.loads(c)["regulariser"] for c in merged["config"]]
    merged.sort_values("test/kl")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "runcard.db"
        url = f"sqlite:///{db}"
        env = dict(os.environ, RUNCARD_ARTIFACTS=str(Path(tmp) / "artifacts"),
                   RUNCARD_JOURNAL=str(Path(tmp) / "journal"))
        os.environ.update(env)
        start = time.perf_counter()
        build(url, args.runs)
        built = time.perf_counter() - start
        times = [time_summary(url, env) for _ in range(3)]
        pandas_times = [time_pandas(db) for _ in range(3)]
    seconds = sorted(t for t, _ in times)[1]
    print(f"runs={args.runs:,} (built in {built:.1f} s); median of 3")
    print(f"{'runcard summary (whole command, JSON)':<44}{seconds:>8.2f} s   ({times[0][1]:,} runs in the output)")
    if pandas_times[0] is None:
        print("pandas not installed: pip install -e '.[bench]' to time it beside runcard")
    else:
        load = sorted(t for t in pandas_times if t is not None)[1]
        print(f"{'pandas: read runs + metrics, pivot, sort':<44}{load:>8.2f} s")
        print(f"runcard summary / pandas load: {seconds / load:.1f}x (the summary also runs every finding rule, "
              "groups and takeaways)")
    print(f"goal < 5 s: {'met' if seconds < 5 else 'NOT met'}")


if __name__ == "__main__":
    main()
