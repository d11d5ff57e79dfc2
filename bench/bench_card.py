"""Benchmark: the HTML run card of a 100,000-row test split with texts, beside a hand-written report.

    python bench/bench_card.py [--rows 100000] [--classes 20]

Builds a fresh store holding one run whose test predictions have ``--rows`` rows, ``--classes`` classes and a
text per row (about 780 characters), evaluated once when logged (not timed). Then times, as whole commands,
`runcard card RUN --html --out card.html` (the stored evaluation read, findings with their budget, the
examples behind each confusion cell, plots) and, as the peer, a script reading the same Parquet file with
pyarrow and printing scikit-learn's `classification_report` and `confusion_matrix` (what a user writes by hand:
no CIs, no calibration, no findings, no examples). Prints the card's size (goal: under 3 MB) and the ratio.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PEER = """
import sys, pyarrow.parquet as pq, numpy as np
from sklearn.metrics import classification_report, confusion_matrix
t = pq.read_table(sys.argv[1])
cols = [c for c in t.column_names if c.startswith("prob_") or c.startswith("logit_")]
p = np.column_stack([t.column(c).to_numpy() for c in cols])
y = t.column("label").to_pylist()
classes = [c.split("_", 1)[1] for c in cols]
pred = [classes[i] for i in p.argmax(axis=1)]
print(classification_report(y, pred, digits=4)); print(confusion_matrix(y, pred, labels=classes))
"""


def build(url: str, rows: int, classes: int) -> tuple[str, str]:
    from runcard import start_run
    from runcard.store import open_store

    store = open_store(url)
    rng = np.random.default_rng(0)
    y = rng.integers(0, classes, rows)
    p = rng.dirichlet(np.ones(classes), rows)
    p[np.arange(rows), y] += 0.6
    p /= p.sum(axis=1, keepdims=True)
    texts = [("a long review text about the product " * 20) + str(i) for i in range(rows)]
    with start_run("bench-card", store=store) as run:
        run.log_predictions("test", y, p, classes=[f"class{i}" for i in range(classes)], texts=texts,
                            ids=[f"row{i}" for i in range(rows)])
    art = store.get_run(run.id).artifact(kind="predictions")
    assert art is not None
    return run.id, str(store.artifacts.path(art.path))


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--classes", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, RUNCARD_ARTIFACTS=str(Path(tmp) / "artifacts"),
                   RUNCARD_JOURNAL=str(Path(tmp) / "journal"))
        os.environ.update(env)
        url = f"sqlite:///{Path(tmp) / 'runcard.db'}"
        run_id, parquet = build(url, args.rows, args.classes)
        runcard = str(Path(sys.executable).parent / "runcard")
        out = Path(tmp) / "card.html"
        card = sorted(timed([runcard, "card", run_id, "--html", "--out", str(out), "--store", url], env)
                      for _ in range(args.repeats))[args.repeats // 2]
        size = out.stat().st_size
        script = Path(tmp) / "peer.py"
        script.write_text(PEER)
        peer = sorted(timed([sys.executable, str(script), parquet], env)
                      for _ in range(args.repeats))[args.repeats // 2]
    print(f"rows={args.rows:,} classes={args.classes}; median of {args.repeats}")
    print(f"{'runcard card --html (whole command)':<44}{card:>8.2f} s   card {size / 1e6:.2f} MB")
    print(f"{'pyarrow + scikit-learn report (peer)':<44}{peer:>8.2f} s")
    print(f"runcard card / peer: {card / peer:.1f}x (the card also has CIs, calibration, findings, examples, plots)")
    print(f"goal < 3 MB: {'met' if size < 3e6 else 'NOT met'}")


if __name__ == "__main__":
    main()
