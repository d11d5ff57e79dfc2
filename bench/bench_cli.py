"""Benchmark: how fast the CLI starts, each command beside its peer, whole processes, one run.

    python bench/bench_cli.py [--repeat 7] [--runs 10000]

Three pairs, each timed as whole processes (start to exit), alternating, median of ``--repeat``:

- ``runcard --help`` beside ``python -c "import numpy"``. Goal: within 2x.
- ``runcard eval examples/agnews_tfidf_lr/test.csv`` (7,600 rows, every metric with 95 % CIs and findings) beside
  `PEER_EVAL`, a five-line pyarrow + scikit-learn script that computes fewer numbers (accuracy, macro-F1, log loss)
  on the same file. Goal: runcard at least 2x faster.
- ``runcard runs --project sweep`` on a 10,000-run SQLite store beside ``python -c`` importing SQLAlchemy and running
  the same query (`PEER_RUNS`). Goal: within 2x.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_summary import build  # the 10,000-run store of the summary benchmark

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "agnews_tfidf_lr" / "test.csv"
RUNCARD = str(Path(sys.executable).parent / "runcard")

#: The peer of `runcard eval`: read the file with pyarrow, three scores with scikit-learn.
PEER_EVAL = """\
import sys, numpy as np, pyarrow.csv as pc
from sklearn.metrics import accuracy_score, f1_score, log_loss
t = pc.read_csv(sys.argv[1]); cols = sorted(c for c in t.column_names if c.startswith("prob_"))
y = t.column("label").to_numpy(zero_copy_only=False); p = np.column_stack([t.column(c).to_numpy() for c in cols])
labels = [c[5:] for c in cols]; pred = np.array(labels)[p.argmax(1)]
print(accuracy_score(y, pred), f1_score(y, pred, average="macro"), log_loss(y, p, labels=labels))
"""

#: The peer of `runcard runs`: SQLAlchemy imported and the runs of a project read, as the listing does.
PEER_RUNS = """\
import sys, sqlalchemy as sa
engine = sa.create_engine(sys.argv[1])
with engine.connect() as c:
    rows = c.execute(sa.text("SELECT id, name, status, created_at, ended_at FROM runcard_runs WHERE project = 'sweep' "
                             "ORDER BY created_at")).fetchall()
print(len(rows))
"""


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def pair(name: str, ours: list[str], peer: list[str], repeat: int, goal: str, ok: float) -> None:
    """Time both commands alternately (after one warm-up each) and print medians, the ratio and the goal."""
    timed(ours), timed(peer)
    a, b = [], []
    for _ in range(repeat):
        a.append(timed(ours))
        b.append(timed(peer))
    t_ours, t_peer = statistics.median(a), statistics.median(b)
    ratio = t_ours / t_peer
    met = "met" if ratio <= ok else "NOT met"
    print(f"{name:<34} {t_ours:8.3f} s  peer {t_peer:8.3f} s  ours/peer {ratio:5.2f}  (goal {goal}: {met})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--runs", type=int, default=10_000)
    args = parser.parse_args()
    python = sys.executable
    pair("runcard --help", [RUNCARD, "--help"], [python, "-c", "import numpy"], args.repeat, "ours/peer <= 2", 2.0)
    with tempfile.TemporaryDirectory() as tmp:
        peer_eval = Path(tmp) / "peer_eval.py"
        peer_eval.write_text(PEER_EVAL, encoding="utf-8")
        pair("runcard eval (7,600 rows)", [RUNCARD, "eval", str(EXAMPLE)], [python, str(peer_eval), str(EXAMPLE)],
             args.repeat, "ours/peer <= 0.5", 0.5)
        url = f"sqlite:///{Path(tmp) / 'runs.db'}"
        start = time.perf_counter()
        build(url, args.runs)
        print(f"(built a store of {args.runs:,} runs in {time.perf_counter() - start:.1f} s)")
        pair(f"runcard runs ({args.runs:,} runs)", [RUNCARD, "runs", "--project", "sweep", "--store", url],
             [python, "-c", PEER_RUNS, url], args.repeat, "ours/peer <= 2", 2.0)


if __name__ == "__main__":
    main()
