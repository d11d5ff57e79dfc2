"""runcard.recipes.preflight: each failed check names the config key, the path and the fix; the examples pass."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import runcard.recipes.preflight_checks as pf
from runcard.errors import InputError
from runcard.recipes.preflight import check_store, failure_message, preflight
from runcard.recipes.preflight_checks import (
    Check,
    check_data_file,
    check_device,
    check_encoder,
    check_weights,
    check_writable_dir,
)
from runcard.runs import get_run
from runcard.store import Store, open_store
from runcard.tracking import start_run
from tests.preflight.configs import tfidf_config

ROOT = Path(__file__).resolve().parents[2]


def failed(checks: list[Check]) -> list[Check]:
    return [c for c in checks if not c.ok]


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.delenv("RUNCARD_ARTIFACTS", raising=False)
    return open_store(f"sqlite:///{tmp_path / 'store' / 'r.db'}")


def test_a_complete_tfidf_config_passes_and_creates_its_out_dir(tmp_path: Path, store: Store) -> None:
    checks = preflight(tfidf_config(tmp_path), store=store)
    assert failure_message(checks, "exp.toml") is None
    assert [c.name for c in checks] == ["package", "package", "data file", "output folder", "disk space", "store",
                                        "disk space", "device"]
    assert [c.key for c in checks if c.name == "disk space"] == ["report.out_dir", "store artifacts"]
    assert (tmp_path / "cards").is_dir() and not list((tmp_path / "cards").iterdir())  # the probe file is gone
    assert next(c for c in checks if c.name == "device").status == "info"


def test_the_tfidf_example_passes(tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # report.out_dir = "build/cards" is relative to the working directory
    checks = preflight(ROOT / "examples" / "agnews_actions.toml", store=store, probe_cuda=False)
    assert failure_message(checks, "agnews_actions.toml") is None
    assert [c.target for c in checks if c.name == "data file"] == [
        str(ROOT / "data" / "ag_news" / "test.csv"), str(ROOT / "data" / "ag_news" / "train_known.csv")]
    assert (tmp_path / "build" / "cards").is_dir()


@pytest.mark.parametrize(("data", "expected"), [(None, "does not exist"), ("", "is empty (0 bytes)"),
                                                ("text,label\n", "has no data rows")])
def test_a_data_file_problem_names_the_key_and_the_path(tmp_path: Path, store: Store, data: str | None,
                                                        expected: str) -> None:
    checks = preflight(tfidf_config(tmp_path, data=data), store=store)
    [problem] = failed(checks)
    assert (problem.key, problem.target) == ("data.paths[0]", str(tmp_path / "train.csv"))
    assert expected in problem.detail and problem.fix
    message = failure_message(checks, "exp.toml")
    assert message is not None and message.startswith("exp.toml: preflight found 1 problem(s):")
    assert f"  - data.paths[0]: {tmp_path / 'train.csv'}: {expected}" in message and "; fix: " in message


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("a.jsonl", '\n{"text": "x"}\n', "1 data row(s)"),
    ("b.jsonl", "\n\n", "has no data rows"),
    ("c.jsonl", "[1, 2]\n", "line 1 is not a JSON object"),
    ("d.csv", "1,World,headerless AG News row\n", "1 data row(s)"),
    ("e.txt", "text\n", "unknown data file type '.txt'"),
])
def test_a_first_look_at_each_file_type(tmp_path: Path, name: str, text: str, expected: str) -> None:
    (tmp_path / name).write_text(text, encoding="utf-8")
    check = check_data_file("data.paths[0]", name, tmp_path)
    assert expected in check.detail and check.ok == ("data row(s)" in expected)


def test_an_out_dir_that_cannot_be_created_is_named(tmp_path: Path, store: Store) -> None:
    (tmp_path / "plain").write_text("a file, not a folder")
    out = tmp_path / "plain" / "cards"
    [problem] = failed(preflight(tfidf_config(tmp_path, out_dir=out), store=store))
    assert (problem.key, problem.target) == ("report.out_dir", str(out))
    assert f"cannot be created: {tmp_path / 'plain'} is a file" in problem.detail


def test_a_folder_the_os_denies_writing_to_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """os.access is asked as well as a real write (as root, only a stubbed os.access can say no)."""
    out = tmp_path / "ro"
    out.mkdir()
    real = os.access
    monkeypatch.setattr(pf.os, "access", lambda path, mode: Path(path) != out and real(path, mode))
    check = check_writable_dir("report.out_dir", out)
    assert (check.ok, check.target, check.detail) == (False, str(out), "is not writable (permission denied)")
    check = check_writable_dir("encoder.cache_dir", out / "features")
    assert not check.ok and check.detail == f"cannot be created: {out} is not writable"
    assert not (out / "features").exists()


def test_too_little_free_space_is_named(tmp_path: Path, store: Store) -> None:
    checks = preflight(tfidf_config(tmp_path), store=store, min_free_gb=1e9)
    assert [c.key for c in failed(checks)] == ["report.out_dir", "store artifacts"]
    assert all("--min-free-gb" in c.fix for c in failed(checks))


def test_resume_from_a_run_that_is_not_in_the_store_is_named(tmp_path: Path, store: Store) -> None:
    [problem] = failed(preflight(tfidf_config(tmp_path, top='resume_from = "abc123"'), store=store))
    assert (problem.key, problem.target) == ("resume_from", "abc123")
    assert "no run with id 'abc123'" in problem.detail


def test_resume_from_a_stored_checkpoint_is_verified_by_hash(tmp_path: Path, store: Store) -> None:
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"some weights")
    with start_run("pf", "base", store=store) as run:
        run.log_checkpoint(weights)
    path = tfidf_config(tmp_path, top=f'resume_from = "{run.id[:8]}"')
    [check] = [c for c in preflight(path, store=store) if c.key == "resume_from"]
    assert check.ok and "verified by sha256" in check.detail
    stored = store.artifacts.root / get_run(run.id, store).artifacts[0].path
    stored.chmod(0o600)
    stored.write_bytes(b"other weights")
    [problem] = failed(preflight(path, store=store))
    assert problem.key == "resume_from" and "expected" in problem.detail and "refusing to use it" in problem.detail


def test_device_is_info_unless_a_cuda_device_is_asked_for(tmp_path: Path, store: Store,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pf, "cuda_state", lambda: (False, "CUDA not available (torch 2.x)"))
    assert check_device({"train": {"epochs": 1}}).info
    [problem] = failed(preflight(tfidf_config(tmp_path, tags='device = "cuda:0"'), store=store))
    assert (problem.key, problem.target) == ("experiment.tags.device", "cuda:0")
    assert "CUDA requested but CUDA not available" in problem.detail
    monkeypatch.setattr(pf, "cuda_state", lambda: (True, "CUDA available: 1 x H100"))
    assert check_device({"train": {"device": "cuda"}}).ok


def test_weights_that_are_missing_or_an_lfs_pointer_are_named(tmp_path: Path) -> None:
    assert "no weights in the folder" in check_weights("encoder.path", tmp_path).detail
    assert check_weights("encoder.path", tmp_path, random_init=True).info
    (tmp_path / "model.safetensors").write_text("version https://git-lfs.github.com/spec/v1\noid sha256:00\n")
    assert "is a Git LFS pointer" in check_weights("encoder.path", tmp_path).detail


def test_a_store_that_does_not_open_is_named() -> None:
    check, opened = check_store("sqlite://")
    assert opened is None and not check.ok and "give a database file" in check.detail


def test_a_config_that_does_not_validate_raises(tmp_path: Path) -> None:
    path = tfidf_config(tmp_path, top='resume_frum = "abc"')
    with pytest.raises(InputError, match="unknown key 'resume_frum'"):
        preflight(path)


def test_an_encoder_folder_that_does_not_exist_is_named(tmp_path: Path) -> None:
    [problem] = check_encoder("encoder.path", "models/enc", tmp_path)
    assert (problem.key, problem.target, problem.ok) == ("encoder.path", str(tmp_path / "models" / "enc"), False)
    assert "does not exist" in problem.detail and "save_pretrained" in problem.fix
