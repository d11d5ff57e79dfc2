"""Benchmark: `runcard ui` beside `mlflow ui` on the same runs, both in headless Chromium, in one run.

    python bench/bench_ui.py [--sizes 1000,10000] [--repeat 3] [--dir DIR]

For each size, a runcard store of that many runs is built (`tests.ui.builder`: real predictions and stored
evaluations for every run) and the same runs are imported into MLflow's SQLite tracking store through its client
(`create_run`, one `log_batch` with the run's params, its metric series and its evaluated scores, `set_terminated`:
three calls a run, the fastest way its API offers); the import time is printed. Then both UIs are started as
their own commands (`runcard ui --store ...`, `mlflow ui --backend-store-uri ...`) and Debian's Chromium
(Playwright, ``executable_path``) opens:

- the first page of the project's runs, done when the newest run's name is visible (runcard:
  ``/runs?project=sweep``; MLflow: ``#/experiments/ID/runs``);
- the comparison of two runs, done when its numbers are visible (runcard: ``/compare?runs=A&runs=B``, the
  verdict with its paired 95 % CI; MLflow: ``#/compare-runs``, the two runs' metric table).

Each page is timed three ways: the first visit after its server started; the median of ``--repeat`` visits in
a fresh browser context (empty cache, as a first visit); and the median of ``--repeat`` with the browser's cache
filled by a visit before (MLflow's scripts are several megabytes). Goal (issue 19):
runcard's first page of 10,000 runs under 1 s, a comparison under 2 s, and ahead of MLflow at both sizes.
``--dir`` keeps the stores (and MLflow's import) for a later run; by default they go to a temporary folder in
/dev/shm when there is one (both stores on the same file system), removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.ui.builder import build_store, bulk_id  # noqa: E402  (the store the UI tests use)

BIN = Path(sys.executable).parent
FLAGS = ("--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run")
PROJECT = "sweep"


@dataclass
class Sized:
    """One size's two stores: runcard's and the same runs in MLflow."""

    runs: int
    runcard_url: str
    mlflow_uri: str
    experiment: str
    mlflow_ids: dict[str, str]  # runcard run id -> MLflow run id
    newest: str  # the name of the most recently started run (the first row of both tables)
    import_s: float
    build_s: float


def import_into_mlflow(store_url: str, uri: str) -> tuple[str, dict[str, str]]:
    """Every run of the runcard store into MLflow's tracking store at ``uri``: name, start and end, status,
    tags, params (the config's flat keys), metric series and evaluated scores."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    from mlflow.entities import Metric, Param
    from mlflow.tracking import MlflowClient

    from runcard.configs import flatten_config
    from runcard.store import open_store

    store = open_store(store_url)
    client = MlflowClient(uri)
    experiment = client.create_experiment(PROJECT)
    ids: dict[str, str] = {}
    for row in store.run_listings(PROJECT):
        millis = int(row.created_at * 1000)
        series = store.all_series(row.id)
        metrics = [Metric(key, float(value), millis + step, step) for key, points in series.items()
                   for step, value in points]
        metrics += [Metric(key, float(value), millis, 0) for key, value in row.evaluated.items()]
        params = [Param(key, str(value)) for key, value in flatten_config(row.config).items()]
        run = client.create_run(experiment, start_time=millis, tags=dict(row.tags), run_name=row.name)
        for start in range(0, max(len(metrics), 1), 1000):  # log_batch takes at most 1,000 metrics
            client.log_batch(run.info.run_id, metrics=metrics[start:start + 1000], params=params if start == 0 else [])
        client.set_terminated(run.info.run_id, status="FINISHED" if row.status == "finished" else "FAILED",
                              end_time=int((row.ended_at or row.created_at) * 1000))
        ids[row.id] = run.info.run_id
    store.close()
    return experiment, ids


def prepare(root: Path, runs: int) -> Sized:
    """Build (or reuse, when ``root`` holds a finished one) the two stores of ``runs`` runs."""
    done = root / "done.json"
    if done.is_file():
        saved = json.loads(done.read_text())
        print(f"  {runs:,} runs: reusing {root} (built in {saved['build_s']:.1f} s, MLflow import "
              f"{saved['import_s']:.1f} s)", flush=True)
        return Sized(**saved)
    shutil.rmtree(root, ignore_errors=True)
    start = time.perf_counter()
    built = build_store(root / "runcard", runs)
    build_s = time.perf_counter() - start
    print(f"  {runs:,} runs: runcard store built in {build_s:.1f} s; importing into MLflow ...", flush=True)
    uri = f"sqlite:///{root / 'mlflow' / 'mlflow.db'}"
    (root / "mlflow").mkdir(parents=True)
    start = time.perf_counter()
    experiment, ids = import_into_mlflow(built.url, uri)
    import_s = time.perf_counter() - start
    print(f"  {runs:,} runs: MLflow import (create_run + log_batch + set_terminated per run) took {import_s:.1f} s "
          f"({import_s / runs * 1000:.1f} ms a run)", flush=True)
    from runcard.store import open_store

    store = open_store(built.url)
    newest = max(store.run_listings(PROJECT), key=lambda r: (r.created_at, r.id)).name
    store.close()
    sized = Sized(runs, built.url, uri, experiment, ids, newest, import_s, build_s)
    done.write_text(json.dumps(sized.__dict__))
    return sized


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(command: list[str], url: str, cwd: Path, timeout: float = 120) -> Iterator[float]:
    """Start a server command, yield once ``url`` answers (the seconds that took), stop it at the end."""
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1"}
    log = open(cwd / f"{Path(command[0]).name}.log", "w")  # noqa: SIM115  (closed below)
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{command[0]} exited with {process.returncode}; see {log.name}")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status < 500:
                        break
            except OSError:
                if time.perf_counter() - start > timeout:
                    raise RuntimeError(f"{command[0]} did not answer {url} within {timeout:.0f} s") from None
                time.sleep(0.1)
        yield time.perf_counter() - start
    finally:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()
        log.close()


def visit(context: Any, url: str, ready: Callable[[Any], None]) -> float:
    """Seconds from navigating a new tab of ``context`` to ``url`` until ``ready(page)`` returns."""
    page = context.new_page()
    try:
        page.set_default_timeout(120_000)
        start = time.perf_counter()
        page.goto(url, wait_until="commit")
        ready(page)
        return time.perf_counter() - start
    finally:
        page.close()


def cold(browser: Any, url: str, ready: Callable[[Any], None]) -> float:
    """A visit in a fresh browser context: empty cache, as a first visit."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        return visit(context, url, ready)
    finally:
        context.close()


def timings(browser: Any, url: str, ready: Callable[[Any], None], repeat: int) -> tuple[float, float, float]:
    """(the first visit after the server started, the median of ``repeat`` more with an empty cache, the median
    of ``repeat`` with the browser's cache filled by a visit before)."""
    first = cold(browser, url, ready)
    empty = statistics.median(cold(browser, url, ready) for _ in range(repeat))
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        visit(context, url, ready)
        cached = statistics.median(visit(context, url, ready) for _ in range(repeat))
    finally:
        context.close()
    return first, empty, cached


def name_visible(name: str) -> Callable[[Any], None]:
    return lambda page: page.get_by_text(name, exact=True).first.wait_for(state="visible")


def runcard_compared(page: Any) -> None:
    page.locator("#verdict .result").first.wait_for(state="visible")


def mlflow_compared(names: tuple[str, str]) -> Callable[[Any], None]:
    def ready(page: Any) -> None:
        for name in names:
            page.get_by_text(name, exact=True).first.wait_for(state="visible")
        page.get_by_text("test/macro_f1", exact=True).first.wait_for(state="visible")
    return ready


def measure(browser: Any, sized: Sized, work: Path, repeat: int) -> dict[str, Any]:
    a, b = bulk_id(0), bulk_id(1)  # the first two runs of the sweep: two regularisers, seed 0
    from runcard.store import open_store

    store = open_store(sized.runcard_url)
    names = (store.get_run(a).name, store.get_run(b).name)
    store.close()
    out: dict[str, Any] = {"runs": sized.runs, "import_s": sized.import_s}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with serving([str(BIN / "runcard"), "ui", "--store", sized.runcard_url, "--port", str(port)], base + "/static/app.css",
                 work) as started:
        out["runcard_start_s"] = started
        out["runcard_page"] = timings(browser, f"{base}/runs?project={PROJECT}", name_visible(sized.newest), repeat)
        out["runcard_compare"] = timings(browser, f"{base}/compare?runs={a}&runs={b}", runcard_compared, repeat)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with serving([str(BIN / "mlflow"), "ui", "--backend-store-uri", sized.mlflow_uri, "--host", "127.0.0.1", "--port",
                  str(port)], base + "/health", work) as started:
        out["mlflow_start_s"] = started
        out["mlflow_page"] = timings(browser, f"{base}/#/experiments/{sized.experiment}/runs",
                                     name_visible(sized.newest), repeat)
        pair = json.dumps([sized.mlflow_ids[a], sized.mlflow_ids[b]])
        out["mlflow_compare"] = timings(browser, f"{base}/#/compare-runs?runs={pair}&experiments="
                                        f"{json.dumps([sized.experiment])}", mlflow_compared(names), repeat)
    return out


def load() -> str:
    """The machine's load averages (1, 5, 15 minutes): timings on a busy machine are not the UI's."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def report(results: list[dict[str, Any]]) -> None:
    print("\n| runs | page | runcard: first / empty cache / cached | MLflow: first / empty cache / cached | "
          "MLflow / runcard (empty cache) |")
    print("| ---: | --- | ---: | ---: | ---: |")
    for r in results:
        for what, key in (("first page of runs", "page"), ("comparison of two runs", "compare")):
            ours, theirs = r[f"runcard_{key}"], r[f"mlflow_{key}"]
            print(f"| {r['runs']:,} | {what} | {ours[0]:.2f} / **{ours[1]:.2f}** / {ours[2]:.2f} s | "
                  f"{theirs[0]:.2f} / {theirs[1]:.2f} / {theirs[2]:.2f} s | {theirs[1] / ours[1]:.1f}x |")
    print()
    for r in results:
        print(f"{r['runs']:,} runs: servers answered after {r['runcard_start_s']:.2f} s (runcard ui) and "
              f"{r['mlflow_start_s']:.2f} s (mlflow ui); MLflow import {r['import_s']:.1f} s")
    big = max(results, key=lambda r: r["runs"])
    worst = {k: max(r[f"runcard_{k}"][:2]) for r in [big] for k in ("page", "compare")}
    goals = [(f"first page of {big['runs']:,} runs < 1 s (slowest of first and median)", worst["page"] < 1.0),
             ("comparison < 2 s at every size", all(max(r["runcard_compare"][:2]) < 2.0 for r in results)),
             ("ahead of MLflow on every page and size, cache empty or not",
              all(r[f"runcard_{k}"][i] < r[f"mlflow_{k}"][i] for r in results for k in ("page", "compare")
                  for i in range(3)))]
    for goal, met in goals:
        print(f"goal: {goal}: {'met' if met else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated store sizes (runs)")
    parser.add_argument("--repeat", type=int, default=3, help="visits per page after the first (median)")
    parser.add_argument("--dir", type=Path, help="keep the stores here and reuse them on the next run")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if any(s < 50 for s in sizes):
        parser.error("--sizes: each store needs 50 runs or more (28 of them are the recorded templates)")
    browser_path = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser_path is None:
        sys.exit("bench_ui: Chromium not found (Debian: apt-get install chromium; `make chromium`)")
    shm = Path("/dev/shm")
    keep = args.dir is not None
    root = args.dir or Path(tempfile.mkdtemp(prefix="runcard-bench-ui-", dir=shm if shm.is_dir() else None))
    root.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    try:
        print(f"stores under {root}", flush=True)
        prepared = [prepare(root / f"runs-{size}", size) for size in sizes]
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=browser_path, headless=True, args=list(FLAGS))
            results = []
            for sized in prepared:
                print(f"  {sized.runs:,} runs: timing both UIs (load average before: {load()}) ...", flush=True)
                results.append(measure(browser, sized, root, args.repeat))
                print(f"  {sized.runs:,} runs: done (load average after, this benchmark's servers and browser "
                      f"included: {load()}; {os.cpu_count()} CPUs)", flush=True)
            browser.close()
        report(results)
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
