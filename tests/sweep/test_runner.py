"""Real sweeps of the tiny AG News recipe into a SQLite store: local workers, Optuna TPE, Ray, Ctrl-C, re-runs."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from runcard.errors import InputError
from runcard.report.summary import build_summary
from runcard.report.views import stored_views
from runcard.runs import get_run, list_runs
from runcard.store import Run, open_store
from runcard.sweep import SweepInterrupted, SweepResult, TrialRecord, load_sweep, pools, run_sweep
from tests.cli.test_cli import RUNCARD
from tests.sweep.conftest import Workspace

GRID = """
[sweep]
config = "tiny.toml"
method = "grid"
workers = 2
seeds = [0, 1]
objective = "val/loss"
group_by = "train.lr"
name = "lr-grid"

[space]
"train.lr" = [0.01, 0.003]
"""


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([RUNCARD, *map(str, args)], check=False, capture_output=True, text=True, timeout=180)


def sweep_runs(store_url: str, sweep_id: str) -> list[Run]:
    return [r for r in list_runs(None, open_store(store_url)) if r.tags.get("sweep") == sweep_id]


def untagged(config: dict[str, Any]) -> dict[str, Any]:
    return {**config, "experiment": {**config["experiment"], "tags": {}}}


@pytest.fixture(scope="module")
def grid(workspace: Workspace) -> tuple[SweepResult, list[tuple[TrialRecord, int]]]:
    seen: list[tuple[TrialRecord, int]] = []
    result = run_sweep(workspace.sweep_file("lr-grid", GRID), workspace.store,
                       on_trial=lambda record, planned: seen.append((record, planned)))
    return result, seen


def test_every_trial_is_a_finished_run_tagged_with_the_sweep(
        workspace: Workspace, grid: tuple[SweepResult, list[tuple[TrialRecord, int]]]) -> None:
    result, seen = grid
    store = open_store(workspace.store)
    assert len(result.sweep_id) == 8 and int(result.sweep_id, 16) >= 0
    assert (result.planned, result.interrupted, result.project) == (4, False, "sweep-test")
    assert sorted(r.trial for r, _ in seen) == [1, 2, 3, 4] and {n for _, n in seen} == {4}
    expected = [(0.01, 0), (0.01, 1), (0.003, 0), (0.003, 1)]  # the first key varies slowest, then the seeds
    for record, (lr, seed) in zip(result.trials, expected, strict=True):
        run = get_run(str(record.run_id), store)
        assert record.status == run.status == "finished" and record.point == {"train.lr": lr} and record.seed == seed
        assert run.tags["sweep"] == result.sweep_id and run.tags["trial"] == str(record.trial)
        assert run.name == f"lr-grid-t{record.trial:03d}" and run.tags["seed"] == str(seed)
        assert run.config["train"]["lr"] == lr and run.config["experiment"]["seed"] == seed
        assert run.config["train"]["epochs"] == 2 and run.config["model"]["hidden"] == [16]  # the rest: the base config
        assert record.objective == run.summary["val/loss"]
    by_seed = {t.seed: t.objective for t in result.trials if t.point["train.lr"] == 0.01}
    assert by_seed[0] != by_seed[1]  # the seed reached the training
    assert sorted(r.id for r in sweep_runs(workspace.store, result.sweep_id)) == sorted(result.run_ids)
    best = result.best()
    assert best is not None and best.objective == min(t.objective for t in result.trials if t.objective is not None)


def test_the_summary_is_built_from_the_sweep_runs(
        workspace: Workspace, grid: tuple[SweepResult, list[tuple[TrialRecord, int]]]) -> None:
    result, _ = grid
    store = open_store(workspace.store)
    doc = build_summary(stored_views(store, sweep_runs(workspace.store, result.sweep_id)),
                        source=f"sweep {result.sweep_id}", group_by="train.lr")
    shown = [row["id"] for row in doc["leaderboard"] + doc["set_apart"]]
    assert sorted(shown) == sorted(result.run_ids) and doc["provenance"]["runs"] == 4
    assert {g["value"] for g in doc["groups"]} <= {"0.01", "0.003"}
    assert sum(g["n"] for g in doc["groups"]) + len(doc["set_apart"]) == 4

    out = cli("summary", "--sweep", result.sweep_id, "--project", "sweep-test", "--store", workspace.store, "--json")
    assert out.returncode == 0, out.stderr
    listed = json.loads(out.stdout)
    assert listed["provenance"]["runs"] == 4 and listed["source"] == f"sweep {result.sweep_id}, project sweep-test"
    out = cli("summary", "--sweep", "00000000", "--store", workspace.store)
    assert out.returncode == 2 and "--sweep 00000000: no stored run has this sweep id" in out.stderr


def test_run_from_reproduces_a_trial(workspace: Workspace,
                                     grid: tuple[SweepResult, list[tuple[TrialRecord, int]]]) -> None:
    trial = grid[0].trials[1]  # seed 1
    out = cli("run", "--from", str(trial.run_id), "--store", workspace.store, "--json", "--quiet")
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)
    store = open_store(workspace.store)
    old, new = get_run(str(trial.run_id), store), get_run(payload["run"], store)
    assert payload["rerun_of"] == old.id and new.tags["rerun_of"] == old.id and new.id != old.id
    assert new.status == "finished" and new.tags["seed"] == old.tags["seed"] == "1"
    assert "sweep" not in new.tags and "trial" not in new.tags  # the sweep's summary counts its trials once
    assert new.tags["config_dir"] == old.tags["config_dir"]
    test_keys = sorted(k for k in old.evaluated if k.startswith("test/"))
    assert "test/accuracy" in test_keys and "test/macro_f1" in test_keys
    assert {k: new.evaluated[k] for k in test_keys} == {k: old.evaluated[k] for k in test_keys}  # exactly
    assert payload["metrics"]["test/accuracy"] == old.evaluated["test/accuracy"]
    assert untagged(new.config) == untagged(old.config)


def test_rerun_of_a_config_whose_key_order_matters(workspace: Workspace) -> None:
    from runcard.recipes import rerun, run_config

    # split.sizes in an unsorted order (it decides the split) and a derived name used by a later one:
    # the stored config must keep the order it was written in
    text = workspace.config.read_text().replace("sizes = { train = 140, val = 50, test = 50 }",
                                                "sizes = { val = 50, train = 140, test = 50 }")
    assert "val = 50, train = 140" in text
    config = workspace.root / "ordered.toml"
    config.write_text(text + '\n[derived]\nscope = "P[\'TargetedRegenerate\'] + 2 * P[\'WholeRepoRegenerate\']"\n'
                      'files = "1 + 4.5 * scope"\n')
    store = open_store(workspace.store)
    first = run_config(config, store, quiet=True)
    again = rerun(first.run_id, store, quiet=True)
    assert again.metrics == first.metrics


def test_run_takes_a_config_or_from_exactly_one(workspace: Workspace) -> None:
    from runcard.tracking import start_run

    assert cli("run", "--store", workspace.store).returncode == 2
    both = cli("run", workspace.config, "--from", "abc", "--store", workspace.store)
    assert both.returncode == 2 and "exactly one" in both.stderr
    with start_run("sweep-test", "by-hand", config={"lr": 0.1}, store=workspace.store) as run:
        run.log_metric("val/loss", 1.0, step=1)
    out = cli("run", "--from", run.id, "--store", workspace.store)
    assert out.returncode == 2 and f"run {run.id} was not made by `runcard run`" in out.stderr


def test_tpe_draws_inside_the_space_and_tells_optuna(workspace: Workspace) -> None:
    optuna = pytest.importorskip("optuna")
    path = workspace.sweep_file("tpe", """
[sweep]
config = "tiny.toml"
method = "tpe"
trials = 3
workers = 2
seed = 7
objective = "val/loss"

[space]
"train.lr" = { low = 1e-3, high = 3e-2, log = true }
"train.epochs" = { low = 1, high = 3 }
"model.hidden" = [[8], [16]]
""")
    storage = f"sqlite:///{workspace.root / 'optuna.db'}"
    result = run_sweep(path, workspace.store, optuna_storage=storage)
    store = open_store(workspace.store)
    assert [t.status for t in result.trials] == ["finished"] * 3
    for t in result.trials:
        lr, epochs, hidden = t.point["train.lr"], t.point["train.epochs"], t.point["model.hidden"]
        assert 1e-3 <= lr <= 3e-2 and type(epochs) is int and 1 <= epochs <= 3 and hidden in ([8], [16])
        config = get_run(str(t.run_id), store).config
        assert (config["train"]["lr"], config["train"]["epochs"], config["model"]["hidden"]) == (lr, epochs, hidden)
    study = optuna.load_study(study_name=f"runcard-tpe-{result.sweep_id}", storage=storage)
    assert [tr.state.name for tr in study.trials] == ["COMPLETE"] * 3
    assert sorted(tr.value for tr in study.trials) == sorted(t.objective for t in result.trials)


def test_the_same_sweep_on_ray(workspace: Workspace) -> None:
    ray = pytest.importorskip("ray")
    path = workspace.sweep_file("on-ray", GRID.replace("seeds = [0, 1]", "seeds = [0]").replace("lr-grid", "on-ray"))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        result = run_sweep(path, workspace.store, ray_address="auto")
    finally:
        ray.shutdown()
    assert [(t.trial, t.status, t.point) for t in result.trials] == [(1, "finished", {"train.lr": 0.01}),
                                                                     (2, "finished", {"train.lr": 0.003})]
    runs = {r.tags["trial"]: r for r in sweep_runs(workspace.store, result.sweep_id)}
    assert {k: (r.status, r.config["train"]["lr"]) for k, r in runs.items()} == {"1": ("finished", 0.01),
                                                                                 "2": ("finished", 0.003)}


INTERRUPTED = """
[sweep]
config = "tiny.toml"
workers = 2
name = "stopped"

[space]
"train.epochs" = [1, 4000, 4000]   # trial 1 ends in a moment, trials 2 and 3 train for a while
"""


def test_ctrl_c_in_the_driver_leaves_no_run_running(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pools, "GRACE", 1.0)  # then trial 2 is surely training when its worker gets SIGINT

    def ctrl_c(record: TrialRecord, planned: int) -> None:
        raise KeyboardInterrupt  # as if Ctrl-C reached the driver as the first trial ended

    with pytest.raises(SweepInterrupted) as info:
        run_sweep(workspace.sweep_file("stopped", INTERRUPTED), workspace.store, on_trial=ctrl_c)
    result = info.value.result
    assert isinstance(info.value, KeyboardInterrupt) and result.interrupted and result.planned == 3
    statuses = {t.trial: t.status for t in result.trials}
    assert statuses[1] == "finished" and statuses[2] in ("failed", "crashed") and set(statuses) == {1, 2}
    runs = {r.tags["trial"]: r for r in sweep_runs(workspace.store, result.sweep_id)}  # trial 3 never started
    assert set(runs) == {"1", "2"} and runs["2"].status == statuses[2]
    finished = runs["1"]
    assert finished.status == "finished" and "test/accuracy" in finished.evaluated
    assert finished.predictions("test").n == 50  # the finished trial is intact


def test_ctrl_c_stops_the_sweep_command_with_exit_code_130(workspace: Workspace) -> None:
    path = workspace.sweep_file("ctrl-c", INTERRUPTED.replace('"stopped"', '"ctrl-c"'))
    # a shell without job control starts background jobs with SIGINT ignored, and the child would inherit
    # that: give the sweep the default Ctrl-C a terminal gives it
    proc = subprocess.Popen([RUNCARD, "sweep", str(path), "--store", workspace.store], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert proc.stderr is not None
        header, first = proc.stderr.readline(), proc.stderr.readline()
        proc.send_signal(signal.SIGINT)  # Ctrl-C, to the driver alone: it interrupts its workers itself
        out, rest = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, rest
    sweep_id = header.split()[1]
    assert first.startswith("trial 1/3  finished  run ")
    assert f"interrupted: sweep {sweep_id} stopped with 1 of 3 trials finished" in rest and out == ""
    assert f"runcard summary --sweep {sweep_id}" in rest
    runs = {r.tags["trial"]: r.status for r in sweep_runs(workspace.store, sweep_id)}
    # trial 2 may or may not have created its run before the interrupt reached it (a loaded machine)
    assert runs.pop("1") == "finished" and set(runs) <= {"2", "3"}
    assert set(runs.values()) <= {"failed", "crashed"}  # interrupted while training: none left running


def test_the_sweep_command_prints_the_summary(workspace: Workspace) -> None:
    path = workspace.sweep_file("cli", """
[sweep]
config = "tiny.toml"
workers = 2
objective = "val/loss"
sort = "test/accuracy"

[space]
"model.hidden" = [[8], [16]]
""")
    out = cli("sweep", path, "--store", workspace.store)
    assert out.returncode == 0, out.stderr
    sweep_id = out.stderr.split()[1]
    assert out.stderr.startswith(f"sweep {sweep_id} (cli): 2 trials, grid, on 2 local workers")
    lines = [line for line in out.stderr.splitlines() if line.startswith("trial ")]
    assert sorted(line.split()[1] for line in lines) == ["1/2", "2/2"]
    assert all("  finished  run " in line and "  val/loss " in line for line in lines)
    assert out.stdout.startswith(f"# Summary: sweep {sweep_id} (cli)") and "sorted by test/accuracy" in out.stdout
    cards = workspace.root / "build" / "cards"
    assert (cards / f"sweep-{sweep_id}.md").read_text() == out.stdout
    assert (cards / f"sweep-{sweep_id}.html").read_text().startswith("<!doctype html>")
    assert f"Summary written to build/cards/sweep-{sweep_id}.md" in out.stderr



def test_a_failed_trial_is_recorded_and_the_sweep_goes_on(workspace: Workspace) -> None:
    path = workspace.sweep_file("one-fails", """
[sweep]
config = "tiny.toml"
sort = "test/accuracy"

[space]
"data.pool.per_class.LocalPatch" = [60, 100000]   # valid config, but the data has not that many rows
""")
    out = cli("sweep", path, "--store", workspace.store, "--json")
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)
    assert set(payload) == {"sweep", "runs", "summary"} and payload["sweep"]["planned"] == 2
    ok, failed = payload["runs"]
    assert ok["status"] == "finished" and failed["status"] == "failed" and failed["run_id"] is not None
    assert "not enough rows" in failed["error"]
    assert get_run(failed["run_id"], open_store(workspace.store)).status == "failed"
    assert "trial 2/2  failed  " in out.stderr and "not enough rows" in out.stderr
    assert f"1 trial(s) did not finish: trial 2 (failed, run {failed['run_id']})" in out.stderr
    assert payload["summary"]["sort"] == "test/accuracy" and payload["summary"]["provenance"]["runs"] == 2


def test_bad_sweeps_stop_before_any_trial(workspace: Workspace) -> None:
    path = workspace.sweep_file("typo", '[sweep]\nconfig = "tiny.toml"\n[space]\n"train.lrate" = [0.1]\n')
    with pytest.raises(InputError, match=r"unknown key 'train\.lrate'"):
        run_sweep(load_sweep(path), workspace.store)
    missing = workspace.sweep_file("missing", '[sweep]\nconfig = "nope.toml"\n[space]\n"train.lr" = [0.1]\n')
    out = cli("sweep", missing, "--store", workspace.store)
    assert out.returncode == 2 and "no such config file" in out.stderr and "config = 'nope.toml'" in out.stderr
