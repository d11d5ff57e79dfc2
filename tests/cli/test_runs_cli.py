"""`runcard runs`, `show`, `rm` and `import` through the real entry point."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from runcard import start_run
from tests.cli.test_cli import RUNCARD


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    url = f"sqlite:///{tmp_path / 'store' / 'runcard.db'}"
    monkeypatch.setenv("RUNCARD_STORE", url)
    monkeypatch.delenv("RUNCARD_ARTIFACTS", raising=False)
    monkeypatch.delenv("RUNCARD_JOURNAL", raising=False)
    return dict(os.environ)


def run(env: dict[str, str], *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([RUNCARD, *map(str, args)], capture_output=True, text=True, timeout=120, env=env)


def test_runs_show_rm(env: dict[str, str], tmp_path: Path) -> None:
    ckpt = tmp_path / "m.pt"
    ckpt.write_bytes(b"m" * 10)
    with start_run(project="agnews", name="run-1", config={"lr": 0.001}) as first:
        with first.stage("train"):
            first.log_metric("val/acc", 0.75, step=1)
        first.log_checkpoint(ckpt)
    with pytest.raises(ValueError), start_run(project="other", name="run-2"):
        raise ValueError("bad config")
    listed = json.loads(run(env, "runs", "--json").stdout)
    assert [r["name"] for r in listed] == ["run-1", "run-2"]
    assert set(listed[0]) >= {"id", "project", "name", "status", "config", "tags", "stages", "artifacts", "summary"}
    assert json.loads(run(env, "runs", "--status", "failed", "--json").stdout)[0]["name"] == "run-2"
    table = run(env, "runs", "--project", "agnews")
    assert first.id in table.stdout and "run-2" not in table.stdout
    shown = json.loads(run(env, "show", first.id[:4], "--json").stdout)
    assert shown["summary"] == {"val/acc": 0.75} and shown["artifacts"][0]["sha256"]
    text = run(env, "show", first.id).stdout
    for part in ("finished", "val/acc", "Stages", "m.pt", shown["artifacts"][0]["sha256"][:16]):
        assert part in text
    assert "ValueError: bad config" in run(env, "show", listed[1]["id"]).stdout
    removed = run(env, "rm", first.id)
    assert removed.returncode == 0 and f"removed run {first.id}" in removed.stderr
    assert run(env, "show", first.id).returncode == 2
    assert not list((tmp_path / "store" / "artifacts").glob("*/*/m.pt"))


def test_unknown_and_ambiguous_ids_exit_2(env: dict[str, str]) -> None:
    result = run(env, "show", "zzzz")
    assert result.returncode == 2 and "no run with id 'zzzz'" in result.stderr
    assert run(env, "runs", "--status", "done").returncode == 2


def test_import_twice_adds_nothing(env: dict[str, str], tmp_path: Path) -> None:
    exp = tmp_path / "experiments" / "a"
    exp.mkdir(parents=True)
    (exp / "metrics.json").write_text(json.dumps({"loss": [0.5, 0.4]}))
    first = json.loads(run(env, "import", tmp_path / "experiments", "--json").stdout)
    assert first["kind"] == "generic" and len(first["imported"]) == 1 and first["points"] == 2
    second = run(env, "import", tmp_path / "experiments")
    assert "imported 0 run(s)" in second.stdout and "skipped 1" in second.stdout
    bad = run(env, "import", tmp_path / "nothing")
    assert bad.returncode == 2 and "no such file or folder" in bad.stderr
