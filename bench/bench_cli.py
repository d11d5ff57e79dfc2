"""Benchmark: how fast the CLI starts, each command beside its peer, whole processes, one run.

    python bench/bench_cli.py [--repeat 11] [--runs 10000] [--only help,eval,runs]

Each pair is timed as whole processes (start to exit), ours and the peer alternately so that both see the same
load, after one warm-up each; the figures are medians of ``--repeat`` (wall time, which the goals are judged on,
and CPU time, user + system, which other processes on a shared machine disturb less):

- ``runcard --help`` beside ``python -c "import numpy"``. Goal: within 2x.
- ``runcard eval examples/agnews_tfidf_lr/test.csv`` (7,600 rows, every metric with 95 % CIs and findings) beside
  `PEER_EVAL`, a five-line pyarrow + scikit-learn script that computes fewer numbers (accuracy, macro-F1, log loss)
  on the same file. Goal: runcard at least 2x faster.
- ``runcard runs --project sweep`` on a 10,000-run SQLite store (`bench_summary.build`: five summary metrics a
  run) beside SQLAlchemy imported and the listing's own queries run (`PEER_RUNS`: the four SELECTs the store
  issues for it, rows fetched, nothing built from them). Goal: within 2x. Also printed, for comparison with the
  first measurement: the peer that selects five columns of the runs table only (`PEER_RUNS_TABLE`).

runcard's modules are byte-compiled first (`compileall`), as pip does when it installs a package: a checkout run
with ``PYTHONDONTWRITEBYTECODE`` set would otherwise compile every module of ours on every start, and none of
the peer's (site-packages are compiled at install).
"""

from __future__ import annotations

import argparse
import compileall
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_summary import build  # the 10,000-run store of the summary benchmark

import runcard

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

#: The peer of `runcard runs`: SQLAlchemy imported and the listing's queries run, as the store issues them
#: (`SqlStore.run_listings`: the runs of the project, then their prediction artifacts, evaluation records and
#: summary values), every row fetched, nothing built from them.
PEER_RUNS = """\
import sys, sqlalchemy as sa
chosen = "(SELECT id FROM runcard_runs WHERE project = 'sweep')"
queries = ["SELECT id, project, name, status, config, tags, created_at, ended_at, eval_settings FROM runcard_runs "
           "WHERE project = 'sweep' ORDER BY created_at, id",
           f"SELECT run_id, sha256, meta FROM runcard_artifacts WHERE kind = 'predictions' AND run_id IN {chosen} "
           "ORDER BY run_id, position",
           f"SELECT run_id, key, inputs, settings, scores FROM runcard_records WHERE kind = 'evaluation' "
           f"AND run_id IN {chosen}",
           f"SELECT run_id, key, value FROM runcard_summary WHERE run_id IN {chosen}"]
with sa.create_engine(sys.argv[1]).connect() as c:
    print([len(c.execute(sa.text(q)).fetchall()) for q in queries])
"""

#: The first measurement's peer: five columns of the runs table only (no metric of any run).
PEER_RUNS_TABLE = """\
import sys, sqlalchemy as sa
engine = sa.create_engine(sys.argv[1])
with engine.connect() as c:
    rows = c.execute(sa.text("SELECT id, name, status, created_at, ended_at FROM runcard_runs WHERE project = 'sweep' "
                             "ORDER BY created_at")).fetchall()
print(len(rows))
"""


def timed(command: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + system) of one run of ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def pair(name: str, ours: list[str], peer: list[str], repeat: int, goal: str, ok: float) -> None:
    """Time both commands alternately (after one warm-up each) and print the median wall times, their ratio and
    the goal (judged on wall time), then the medians of CPU time (user + system), which other processes on the
    machine disturb less."""
    timed(ours), timed(peer)
    a, b = [], []
    for _ in range(repeat):
        a.append(timed(ours))
        b.append(timed(peer))
    t_ours, t_peer = (statistics.median(t for t, _ in x) for x in (a, b))
    c_ours, c_peer = (statistics.median(c for _, c in x) for x in (a, b))
    ratio = t_ours / t_peer
    met = "met" if ratio <= ok else "NOT met"
    print(f"{name:<30} wall {t_ours:6.3f} s  peer {t_peer:6.3f} s  ours/peer {ratio:5.2f}  (goal {goal}: {met});  "
          f"CPU {c_ours:6.3f} s  peer {c_peer:6.3f} s  ours/peer {c_ours / c_peer:5.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--only", default="help,eval,runs", help="comma-separated: help, eval, runs")
    args = parser.parse_args()
    only = set(args.only.split(","))
    python = sys.executable
    compileall.compile_dir(str(Path(runcard.__file__).parent), quiet=1)
    if "help" in only:
        pair("runcard --help", [RUNCARD, "--help"], [python, "-c", "import numpy"], args.repeat, "ours/peer <= 2", 2.0)
    with tempfile.TemporaryDirectory() as tmp:
        if "eval" in only:
            peer_eval = Path(tmp) / "peer_eval.py"
            peer_eval.write_text(PEER_EVAL, encoding="utf-8")
            pair("runcard eval (7,600 rows)", [RUNCARD, "eval", str(EXAMPLE)],
                 [python, str(peer_eval), str(EXAMPLE)], args.repeat, "ours/peer <= 0.5", 0.5)
        if "runs" in only:
            url = f"sqlite:///{Path(tmp) / 'runs.db'}"
            start = time.perf_counter()
            build(url, args.runs)
            print(f"(built a store of {args.runs:,} runs in {time.perf_counter() - start:.1f} s)")
            ours = [RUNCARD, "runs", "--project", "sweep", "--store", url]
            pair(f"runcard runs ({args.runs:,} runs)", ours, [python, "-c", PEER_RUNS, url], args.repeat,
                 "ours/peer <= 2", 2.0)
            pair("  beside the runs table only", ours, [python, "-c", PEER_RUNS_TABLE, url], args.repeat,
                 "(for comparison)", 2.0)


if __name__ == "__main__":
    main()
