"""The tracking example of docs/tracking.md runs and leaves a complete run in the store."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from runcard import get_run, list_runs

ROOT = Path(__file__).resolve().parents[2]


def test_tracking_example(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'runcard.db'}"
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "track_softmax_regression.py"), "--store", url],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    [listed] = list_runs(store=url)
    run = get_run(listed.id, url)
    assert run.status == "finished" and set(run.stages) == {"data", "train", "save", "predict"}
    assert len(run.history("train/loss")) == 30 and run.history("train/loss")[-1][1] < run.history("train/loss")[0][1]
    checkpoint = run.artifact(kind="checkpoint")
    for split in ("val", "test"):
        art = next(a for a in run.artifacts if a.kind == "predictions" and a.meta["split"] == split)
        assert art.meta["checkpoint"] == checkpoint.sha256
        assert run.predictions(split).n == 500
    assert f"run {run.id}: finished" in result.stdout
