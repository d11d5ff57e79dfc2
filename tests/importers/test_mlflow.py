"""MLflow, as MLflow shows it: runs written by the real mlflow package (a SQLite tracking database and a file
store) in a subprocess, read back with MlflowClient there, imported by runcard and compared field by field."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from runcard import list_runs
from runcard.importers import import_path

WRITE = """
import json, math, sys, time
import mlflow
from mlflow.tracking import MlflowClient
uri, out, predictions = sys.argv[1], sys.argv[2], sys.argv[3]
mlflow.set_tracking_uri(uri)
mlflow.set_experiment("real")
ids = {}
with mlflow.start_run(run_name="parent", description="the parent run: <b>bold</b>") as parent:
    mlflow.log_params({"lr": "01", "epochs": 3, "optimizer": "adamw", "alpha": 1e-05})
    mlflow.set_tags({"seed": "7", "mlflow.source.git.commit": "abc123"})
    for step in range(4):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
    now = int(time.time() * 1000)
    for value in (0.5, 0.9, 0.7):  # three points at one step and one timestamp: MLflow's latest is the largest
        mlflow.log_metric("throughput", value, step=3, timestamp=now)
    mlflow.log_metric("val/acc", float("nan"), step=0)
    mlflow.log_artifact(predictions)
    with mlflow.start_run(run_name="child", nested=True) as child:
        mlflow.log_metric("loss", 0.25, step=0)
    ids = {"parent": parent.info.run_id, "child": child.info.run_id}
with mlflow.start_run(run_name="failed") as failed:
    mlflow.log_param("lr", "0.1")
ids["failed"] = failed.info.run_id
MlflowClient().set_terminated(failed.info.run_id, status="FAILED")
with mlflow.start_run(run_name="deleted") as deleted:
    mlflow.log_metric("loss", 1.0)
MlflowClient().delete_run(deleted.info.run_id)  # runcard skips what MLflow deleted
client = MlflowClient()
view = {}
for name, run_id in ids.items():
    run = client.get_run(run_id)
    view[name] = {"id": run_id, "params": run.data.params, "tags": run.data.tags,
                  "metrics": {k: (None if math.isnan(v) else v) for k, v in run.data.metrics.items()},
                  "status": run.info.status, "start": run.info.start_time, "end": run.info.end_time,
                  "history": {k: [[m.step, None if math.isnan(m.value) else m.value, m.timestamp]
                                   for m in client.get_metric_history(run_id, k)] for k in run.data.metrics}}
json.dump(view, open(out, "w"))
"""


@pytest.fixture
def store_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("RUNCARD_ARTIFACTS", str(tmp_path / "store" / "artifacts"))
    monkeypatch.setenv("RUNCARD_JOURNAL", str(tmp_path / "store" / "journal"))
    return f"sqlite:///{tmp_path / 'store' / 'runcard.db'}"


def write(tmp_path: Path, uri: str) -> dict[str, dict]:
    from runcard import table_from_arrays, write_predictions

    predictions = tmp_path / "test_predictions.csv"
    write_predictions(table_from_arrays(["a", "b", "a", "b"], [[0.9, 0.1], [0.3, 0.7], [0.4, 0.6], [0.2, 0.8]],
                                        classes=["a", "b"]), predictions)
    out = tmp_path / "mlflow_view.json"
    env = dict(os.environ, MLFLOW_ALLOW_FILE_STORE="true")
    subprocess.run([sys.executable, "-c", WRITE, uri, str(out), str(predictions)], check=True, env=env,
                   capture_output=True, timeout=300, cwd=tmp_path)
    return json.loads(out.read_text())


def same(a: float | None, b: float | None) -> bool:
    return (a is None and (b is None or math.isnan(b))) or (a is not None and b is not None and a == pytest.approx(b))


@pytest.mark.parametrize("layout", ["sqlite", "files"])
def test_every_field_is_what_mlflow_shows(tmp_path: Path, store_url: str, layout: str) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}" if layout == "sqlite" else (tmp_path / "mlruns").as_uri()
    view = write(tmp_path, uri)
    source = tmp_path / "mlflow.db" if layout == "sqlite" else tmp_path / "mlruns"
    report = import_path(source, store_url)
    assert report.kind == ("mlflow-sqlite" if layout == "sqlite" else "mlflow-files") and len(report.imported) == 3
    runs = {r.name: r for r in list_runs(store=store_url)}
    for name, expected in view.items():
        run = runs[name]
        assert run.source == f"mlflow:{expected['id']}"
        params = {k: v for k, v in run.config.items() if k != "params_typed"}
        assert params == expected["params"]  # the text MLflow stored, "01" included
        assert all(run.tags[k] == v for k, v in expected["tags"].items())  # every tag, mlflow.* ones too
        assert run.status == {"FINISHED": "finished", "FAILED": "failed"}[expected["status"]]
        assert run.created_at == expected["start"] / 1000 and run.ended_at == expected["end"] / 1000
        for key, latest in expected["metrics"].items():
            assert same(latest, run.summary[key]), (name, key)  # MLflow's latest, by (step, timestamp, value)
            history = run.history(key)
            assert len(history) == len(expected["history"][key])
            assert sorted((s, v if v == v else None) for s, v in history) == sorted(
                (s, v) for s, v, _ in expected["history"][key])
    parent = runs["parent"]
    assert parent.config["params_typed"] == {"lr": 1, "epochs": 3, "optimizer": "adamw", "alpha": 1e-05}
    assert parent.summary["throughput"] == 0.9  # not 0.7, the last one logged
    assert parent.tags["description"] == "the parent run: <b>bold</b>" and parent.tags["git_commit"] == "abc123"
    assert runs["child"].tags["parent_run"] == parent.id
    assert parent.predictions("test").n == 4
    again = import_path(source, store_url)
    assert again.imported == [] and len(again.skipped) == 3 and len(list_runs(store=store_url)) == 3
    line = next(r for r in report.runs if r["name"] == "parent")
    assert line["points"] == sum(len(h) for h in view["parent"]["history"].values())
    failed = f"mlflow:{view['failed']['id']}"
    assert any(w.startswith(failed) and "no metric points" in w for w in report.warnings)  # it logged none
