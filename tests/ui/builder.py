"""A store of many runs for the UI tests and `bench/bench_ui.py`, built in seconds.

A few *template* runs are recorded through the public API (`start_run`, `log_metrics`, `log_predictions`,
`log_checkpoint`): each has its own val and test predictions, evaluated and stored as every tracked run is. The
other runs are written with bulk INSERTs: each gets its own row, config, tags, metric points and summary, and
the predictions artifacts and stored evaluation records of one template (artifacts are content-addressed, so
runs that share predictions share the file). Every run thus has real predictions and the stored evaluation of
exactly those predictions; the documents read them as they read any run.

    python -m tests.ui.builder /tmp/ui-store --runs 10000     # prints the store URL
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import insert, select

import runcard
from runcard.store import SqlStore, schema

REGULARISERS = ("baseline", "entropy", "focal", "label_smoothing", "max_suppress", "temperature", "confidence")
LRS = (1e-5, 3e-5, 1e-4)
CLASSES = ("business", "sci_tech", "sports", "world")
#: Templates per regulariser: the seeds of one setting land on different templates, so a group has a spread.
VARIANTS = 4
HOSTILE_NAME = "<script>alert(1)</script>"
#: The sweep of the template runs (a sweep small enough for its summary page).
PILOT = "pilot"
#: A project of one run whose model always answers the first class: its findings fill the badge.
FAULTY = "faulty"


@dataclass(frozen=True)
class BuiltStore:
    url: str
    root: Path
    project: str
    sweep: str
    runs: int
    templates: list[str]  # run ids recorded through the public API
    hostile: str  # id of the run named HOSTILE_NAME
    faulty: str  # id of the one run of project FAULTY (it has findings)

    def run_ids(self, count: int) -> list[str]:
        """The ids of the first ``count`` bulk runs."""
        return [bulk_id(i) for i in range(count)]


def bulk_id(i: int) -> str:
    return f"r{i:07d}"


def predictions_of(rng: np.random.Generator, n: int, margin: float, split: str) -> dict[str, object]:
    """One model's predictions on the split's examples (the same examples and labels for every run)."""
    y = np.random.default_rng(len(split)).integers(0, len(CLASSES), n)
    z = rng.normal(size=(n, len(CLASSES)))
    z[np.arange(n), y] += margin
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    texts = [f"{split} item {i}: a story about {CLASSES[c]} & more <b>{i % 7}</b>" for i, c in enumerate(y)]
    return {"y_true": y, "y_prob": p, "classes": list(CLASSES), "ids": [f"{split}-{i}" for i in range(n)],
            "texts": texts}


def _template(store: SqlStore, project: str, sweep: str, index: int, tmp: Path) -> str:
    reg = REGULARISERS[index // VARIANTS]
    rng = np.random.default_rng(index)
    margin = 1.0 + 0.12 * (index // VARIANTS) + 0.05 * (index % VARIANTS)
    config = {"regulariser": reg, "lr": LRS[index % len(LRS)], "seed": index % VARIANTS, "train": {"epochs": 8}}
    with runcard.start_run(project, f"template-{reg}-{index % VARIANTS}", config=config, tags={"sweep": PILOT},
                           store=store) as run:
        for epoch in range(8):
            run.log_metrics({"train/loss": 1.3 / (epoch + 1) + 0.01 * index, "val/loss": 1.1 / (epoch + 1) ** 0.5},
                            step=epoch)
        checkpoint = tmp / f"model-{index}.bin"
        checkpoint.write_bytes(rng.bytes(256))
        sha = run.log_checkpoint(checkpoint, step=7)
        for split, n in (("val", 240), ("test", 400)):
            run.log_predictions(split, checkpoint=sha, **predictions_of(rng, n, margin, split))  # type: ignore[arg-type]
    return run.id


def _faulty(store: SqlStore) -> str:
    """A run whose model (nearly) always predicts the first class: majority collapse and more."""
    rng = np.random.default_rng(99)
    with runcard.start_run(FAULTY, "collapsed", config={"lr": 0.1, "seed": 0}, store=store) as run:
        for split, n in (("val", 240), ("test", 400)):
            table = predictions_of(rng, n, 0.0, split)
            z = rng.normal(size=(n, len(CLASSES)))
            z[:, 0] += 3.0
            p = np.exp(z)
            table["y_prob"] = p / p.sum(axis=1, keepdims=True)
            run.log_predictions(split, **table)  # type: ignore[arg-type]
    return run.id


def build_store(root: Path, runs: int = 10_000, *, project: str = "sweep", sweep: str = "s1") -> BuiltStore:
    """A store at ``root/runcard.db`` holding ``runs`` runs of one project and sweep (see the module docstring)."""
    root.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{root / 'runcard.db'}"
    store = SqlStore(url, root / "artifacts", root / "journal")
    (root / "src").mkdir(exist_ok=True)
    templates = [_template(store, project, sweep, i, root / "src") for i in range(len(REGULARISERS) * VARIANTS)]
    with store.engine.connect() as conn:
        arts = conn.execute(select(schema.artifacts).where(schema.artifacts.c.run_id.in_(templates))).all()
        recs = conn.execute(select(schema.records).where(schema.records.c.run_id.in_(templates),
                                                         schema.records.c.kind == "evaluation")).all()
        points = conn.execute(select(schema.metrics).where(schema.metrics.c.run_id.in_(templates))).all()
        summaries = conn.execute(select(schema.summary).where(schema.summary.c.run_id.in_(templates))).all()
        settings = conn.execute(select(schema.runs.c.id, schema.runs.c.eval_settings)
                                .where(schema.runs.c.id.in_(templates))).all()
    by = {t: {"arts": [], "recs": [], "points": [], "summary": []} for t in templates}  # type: dict[str, dict[str, list]]
    for name, rows in (("arts", arts), ("recs", recs), ("points", points), ("summary", summaries)):
        for row in rows:
            by[row.run_id][name].append(row._asdict())
    eval_settings = dict(settings)
    now = time.time()
    bulk = runs - len(templates)
    run_rows, art_rows, rec_rows, point_rows, summary_rows = [], [], [], [], []
    hostile = bulk_id(bulk // 2)
    for i in range(bulk):
        run_id = bulk_id(i)
        reg_index = i % len(REGULARISERS)
        seed = i // len(REGULARISERS)
        template = templates[reg_index * VARIANTS + seed % VARIANTS]
        lr = LRS[(i // len(REGULARISERS)) % len(LRS)]
        config = {"regulariser": REGULARISERS[reg_index], "lr": lr, "seed": seed, "train": {"epochs": 8}}
        created = now - (bulk - i) * 30.0
        run_rows.append({"id": run_id, "project": project, "name": HOSTILE_NAME if run_id == hostile else
                         f"{REGULARISERS[reg_index]}-lr{lr:g}-s{seed}", "status": "finished",
                         "config": json.dumps(config), "tags": json.dumps({"sweep": sweep, "seed": str(seed)},
                                                                          sort_keys=True),
                         "created_at": created, "ended_at": created + 20 + i % 40, "heartbeat_at": created,
                         "host": None, "pid": None, "proc_start": None, "error": None, "source": None,
                         "eval_settings": eval_settings[template]})
        t = by[template]
        art_rows += [{**a, "run_id": run_id} for a in t["arts"]]
        rec_rows += [{**r, "run_id": run_id} for r in t["recs"]]
        point_rows += [(run_id, p["seq"], p["key"], p["step"], p["value"], created + p["step"]) for p in t["points"]]
        summary_rows += [{**s, "run_id": run_id} for s in t["summary"]]
    with store.engine.connect() as conn, conn.begin():
        for table, rows in ((schema.runs, run_rows), (schema.artifacts, art_rows), (schema.records, rec_rows),
                            (schema.summary, summary_rows)):
            for start in range(0, len(rows), 2000):
                conn.execute(insert(table), rows[start:start + 2000])
        conn.exec_driver_sql(f"INSERT INTO {schema.metrics.name} (run_id, seq, key, step, value, timestamp) "
                             "VALUES (?, ?, ?, ?, ?, ?)", point_rows)
    faulty = _faulty(store)
    store.close()
    return BuiltStore(url, root, project, sweep, runs, templates, hostile, faulty)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--runs", type=int, default=10_000)
    args = parser.parse_args()
    start = time.perf_counter()
    built = build_store(args.root, args.runs)
    print(built.url)
    print(f"{built.runs:,} runs in {time.perf_counter() - start:.1f} s", flush=True)


if __name__ == "__main__":
    main()
