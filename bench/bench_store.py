"""Benchmark: metric points per second into an embedded SQLite store, runcard beside MLflow.

    python bench/bench_store.py [--points 200000] [--keys 10]

runcard: `start_run` on a fresh SQLite store, then either one `log_metric` call per point or
one `log_metrics` call per step (``--keys`` series at a time); the clock stops after the run has
ended, i.e. every point is in the database. MLflow (when installed: ``pip install -e '.[bench]'``):
the same points into MLflow's local SQLite tracking store, through ``MlflowClient.log_batch``
(its batched API, 1,000 metrics per call, the most it accepts) and through ``log_metric`` per
point on a smaller sample. Goal: at least 50,000 points per second for runcard.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import runcard
from runcard.store import open_store


def runcard_rate(root: Path, points: int, keys: int, per_point: bool) -> float:
    store = open_store(f"sqlite:///{root / 'runcard.db'}")
    steps = points // keys
    names = [f"metric/{k}" for k in range(keys)]
    start = time.perf_counter()
    with runcard.start_run(project="bench", store=store) as run:
        for step in range(steps):
            if per_point:
                for name in names:
                    run.log_metric(name, step * 0.001, step=step)
            else:
                run.log_metrics(dict.fromkeys(names, step * 0.001), step=step)
    elapsed = time.perf_counter() - start
    stored = store.count_points(run.id)  # type: ignore[attr-defined]
    assert stored == steps * keys, (stored, steps * keys)
    return stored / elapsed


def mlflow_rates(root: Path, points: int, keys: int) -> tuple[float, float] | None:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    try:
        from mlflow.entities import Metric
        from mlflow.tracking import MlflowClient

        client = MlflowClient(uri)
        experiment = client.create_experiment("bench")
    except ImportError:  # no mlflow, or mlflow-skinny (which has no SQL tracking store)
        return None
    steps = points // keys
    run = client.create_run(experiment)
    start = time.perf_counter()
    batch: list[Metric] = []
    now = int(time.time() * 1000)
    for step in range(steps):
        for k in range(keys):
            batch.append(Metric(f"metric/{k}", step * 0.001, now, step))
            if len(batch) == 1000:
                client.log_batch(run.info.run_id, metrics=batch)
                batch = []
    if batch:
        client.log_batch(run.info.run_id, metrics=batch)
    client.set_terminated(run.info.run_id)
    batched = steps * keys / (time.perf_counter() - start)
    sample = min(2000, points)
    run = client.create_run(experiment)
    start = time.perf_counter()
    for i in range(sample):
        client.log_metric(run.info.run_id, f"metric/{i % keys}", i * 0.001, step=i // keys)
    client.set_terminated(run.info.run_id)
    single = sample / (time.perf_counter() - start)
    return batched, single


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--keys", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ["RUNCARD_ARTIFACTS"] = str(root / "artifacts")
        os.environ["RUNCARD_JOURNAL"] = str(root / "journal")
        (root / "a").mkdir()
        (root / "b").mkdir()
        per_step = runcard_rate(root / "a", args.points, args.keys, per_point=False)
        per_point = runcard_rate(root / "b", args.points, args.keys, per_point=True)
        theirs = mlflow_rates(root, args.points, args.keys)
    print(f"points={args.points:,} keys per step={args.keys} (points per second, all points in the database)")
    print(f"{'runcard log_metrics (one call per step)':<46}{per_step:>12,.0f}")
    print(f"{'runcard log_metric (one call per point)':<46}{per_point:>12,.0f}")
    if theirs is None:
        print("MLflow with its SQLite store not installed: pip install -e '.[bench]' to measure it beside runcard")
    else:
        batched, single = theirs
        print(f"{'MLflow SQLite log_batch (1,000 per call)':<46}{batched:>12,.0f}")
        print(f"{'MLflow SQLite log_metric (per point, 2,000)':<46}{single:>12,.0f}")
        print(f"runcard per step / MLflow log_batch: {per_step / batched:.1f}x; "
              f"runcard per point / MLflow log_metric: {per_point / single:.0f}x")
    print(f"goal >= 50,000 points/s: {'met' if min(per_step, per_point) >= 50_000 else 'NOT met'}")


if __name__ == "__main__":
    main()
