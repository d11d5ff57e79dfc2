"""`runcard preflight` through the real entry point, and the preflight that `runcard run` and `runcard sweep` do
before anything is recorded."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

import runcard.recipes.preflight as pf
from runcard.errors import InputError
from runcard.store import open_store
from runcard.sweep import run_sweep
from tests.preflight.configs import tfidf_config
from tests.recipes.test_multitask import write_config

RUNCARD = shutil.which("runcard", path=str(Path(sys.executable).parent)) or "runcard"
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json")


def cli(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNCARD_")} | {"COLUMNS": "250"}
    return subprocess.run([RUNCARD, *map(str, args)], capture_output=True, text=True, timeout=300, cwd=cwd,
                          env=env, check=False)


@pytest.fixture
def no_tokenizer(tmp_path: Path, tiny_encoder: Path) -> Path:
    """A copy of the tiny encoder without its tokenizer files."""
    folder = tmp_path / "encoder"
    shutil.copytree(tiny_encoder, folder)
    for name in TOKENIZER_FILES:
        (folder / name).unlink(missing_ok=True)
    return folder


def test_a_missing_tokenizer_exits_2_and_names_the_folder(tmp_path: Path, no_tokenizer: Path) -> None:
    config = write_config(tmp_path, no_tokenizer)
    out = cli("preflight", config, "--store", f"sqlite:///{tmp_path / 'r.db'}", "--json", cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    assert f"encoder.path: {no_tokenizer}: no tokenizer files in {no_tokenizer}" in out.stderr
    assert "tokenizer.save_pretrained" in out.stderr and "preflight found 1 problem(s)" in out.stderr
    payload = json.loads(out.stdout)
    assert payload["ok"] is False
    [problem] = [c for c in payload["checks"] if c["status"] == "FAIL"]
    assert [problem["name"], problem["key"], problem["target"]] == ["tokenizer files", "encoder.path",
                                                                     str(no_tokenizer)]


def test_a_complete_encoder_config_exits_0_and_prints_what_it_checked(tmp_path: Path, tiny_encoder: Path) -> None:
    config = write_config(tmp_path, tiny_encoder)
    out = cli("preflight", config, "--store", f"sqlite:///{tmp_path / 'r.db'}", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    for text in ("Preflight of", "check", "status", "data.paths[0]", "split.from_file.test", "encoder.path",
                 "weights", "tokenizer files", "model config", "BertTokenizer", "report.out_dir", "store artifacts",
                 "device", "cpu"):
        assert text in out.stdout, text
    assert "FAIL" not in out.stdout


def test_run_stops_before_recording_anything_when_the_tokenizer_is_missing(tmp_path: Path,
                                                                           no_tokenizer: Path) -> None:
    config = write_config(tmp_path, no_tokenizer)
    url = f"sqlite:///{tmp_path / 'r.db'}"
    out = cli("run", config, "--store", url, "--quiet", cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    assert f"no tokenizer files in {no_tokenizer}" in out.stderr and "No run was started" in out.stderr
    assert open_store(url).list_runs() == []


def test_a_sweep_preflights_its_config_once_before_any_trial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RUNCARD_ARTIFACTS", raising=False)
    tfidf_config(tmp_path, data=None)
    sweep = tmp_path / "sweep.toml"
    sweep.write_text('[sweep]\nconfig = "exp.toml"\n[space]\n"train.lr" = [0.1, 0.01]\n', encoding="utf-8")
    calls = []
    real = pf.preflight

    def counted(*args: Any, **kwargs: Any) -> list[pf.Check]:
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(pf, "preflight", counted)
    url = f"sqlite:///{tmp_path / 'r.db'}"
    with pytest.raises(InputError, match=r"data\.paths\[0\]: .*train\.csv: does not exist(.|\n)*No trial was started"):
        run_sweep(sweep, url)
    assert len(calls) == 1 and open_store(url).list_runs() == []
