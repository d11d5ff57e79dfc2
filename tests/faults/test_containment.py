"""Nothing outside the store, or outside the tree being imported, is read, followed or deleted; hostile text in a
run is shown as text; hostile expressions are refused; `--out` keeps the mode of the file it replaces."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from pathlib import Path

import numpy as np
import pytest

from runcard import get_run, list_runs, load_checkpoint, start_run
from runcard.derived import validate
from runcard.errors import InputError, RunCardError
from runcard.importers import import_path
from runcard.store import open_store
from tests.faults.conftest import Place, cli, one_message
from tests.faults.mlflow_runs import copy_of, run_folder

SECRET = "the private key of someone else"


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "private" / "id_rsa"
    path.parent.mkdir()
    path.write_text(SECRET, encoding="utf-8")
    return path


def stored_bytes(place: Place) -> bytes:
    """Everything the store holds: its database and every artifact file."""
    parts = [p.read_bytes() for p in sorted(place.root.rglob("*")) if p.is_file() and not p.is_symlink()]
    return b"".join(parts)


def test_rm_never_deletes_outside_the_store(place: Place, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "thesis.tex").write_text("years of work", encoding="utf-8")
    weights = tmp_path / "model.pt"
    weights.write_bytes(b"weights")
    store = open_store(place.url)
    with start_run(project="p", name="target", store=store) as run:
        run.log_checkpoint(weights)
    rel = os.path.relpath(victim, store.artifacts.root)  # ../../victim, as someone with write access could set
    with sqlite3.connect(place.root / "runcard.db") as conn:
        conn.execute("UPDATE runcard_artifacts SET path = ?", (rel,))
    with pytest.raises(RunCardError, match="outside the artifact root"):
        load_checkpoint(run.id, store=store)  # reading (and verifying) refuses it
    done = cli("rm", run.id, "--store", place.url)
    assert done.returncode == 0, done.stderr
    assert "left alone" in done.stderr and "outside the artifact root" in done.stderr
    assert (victim / "thesis.tex").read_text(encoding="utf-8") == "years of work"
    assert list_runs("p", open_store(place.url)) == []


def test_log_checkpoint_refuses_a_link(place: Place, tmp_path: Path, secret: Path) -> None:
    link = tmp_path / "model.pt"
    link.symlink_to(secret)
    folder = tmp_path / "checkpoint-1"
    folder.mkdir()
    (folder / "config.json").write_text("{}", encoding="utf-8")
    (folder / "weights.bin").symlink_to(secret)
    with start_run(project="p", name="links", store=place.url) as run:
        with pytest.raises(InputError, match="symbolic link"):
            run.log_checkpoint(link)
        with pytest.raises(InputError, match=r"weights\.bin"):
            run.log_checkpoint(folder)
    assert SECRET.encode() not in stored_bytes(place)


def test_an_mlflow_tag_that_is_a_link_is_skipped_and_said(place: Place, tmp_path: Path, secret: Path,
                                                          mlflow_files: Path) -> None:
    tree = copy_of(mlflow_files, tmp_path)
    (run_folder(tree / "mlruns") / "tags" / "stolen").symlink_to(secret)
    report = import_path(tree, place.url)
    assert len(report.imported) == 1
    run = get_run(report.imported[0], open_store(place.url))
    assert "stolen" not in run.tags and run.tags["owner"] == "me"
    assert any("stolen" in w and "symbolic link" in w for w in report.warnings)
    assert SECRET.encode() not in stored_bytes(place)


def test_an_mlflow_artifact_uri_outside_the_tree_is_refused(place: Place, tmp_path: Path,
                                                            mlflow_sqlite: Path) -> None:
    tree = copy_of(mlflow_sqlite, tmp_path / "tree")
    elsewhere = tmp_path / "elsewhere"
    (tree / "mlruns").rename(elsewhere)  # the artifacts now live outside the imported folder
    with sqlite3.connect(tree / "mlflow.db") as conn:
        (uri,) = conn.execute("SELECT artifact_uri FROM runs").fetchone()
        moved = str(elsewhere / Path(uri).relative_to(mlflow_sqlite / "mlruns"))
        conn.execute("UPDATE runs SET artifact_uri = ?", (f"file://{moved}",))
    report = import_path(tree, place.url)
    run = get_run(report.imported[0], open_store(place.url))
    assert run.artifacts == ()  # its predictions were not copied from outside
    assert any("outside the folder of the database" in w for w in report.warnings)


def hf_folder(root: Path) -> Path:
    """A Trainer output folder as `Trainer.save_state()` lays it out (hand-made: the probe is the link, not the
    Trainer's fields, which tests/importers/test_hf.py checks against a real Trainer)."""
    state = {"global_step": 4, "epoch": 2.0, "log_history": [{"loss": 0.9, "step": 2}, {"loss": 0.5, "step": 4}]}
    for folder in (root, root / "checkpoint-2"):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "trainer_state.json").write_text(json.dumps(state), encoding="utf-8")
    (root / "checkpoint-2" / "model.safetensors").write_bytes(b"real weights")
    return root


def test_a_trainer_checkpoint_that_is_a_link_is_not_copied(place: Place, tmp_path: Path, secret: Path) -> None:
    root = hf_folder(tmp_path / "trainer")
    (root / "checkpoint-4").symlink_to(secret.parent, target_is_directory=True)
    report = import_path(root, place.url)
    run = get_run(report.imported[0], open_store(place.url))
    assert [a.name for a in run.artifacts if a.kind == "checkpoint"] == ["checkpoint-2"]
    assert any("checkpoint-4" in w and "symbolic link" in w for w in report.warnings)
    assert SECRET.encode() not in stored_bytes(place)


def test_a_generic_model_file_that_is_a_link_is_not_copied(place: Place, tmp_path: Path, secret: Path) -> None:
    run_dir = tmp_path / "exp"
    run_dir.mkdir()
    (run_dir / "metrics.json").write_text(json.dumps({"accuracy": 0.9}), encoding="utf-8")
    (run_dir / "model.pt").symlink_to(secret)
    report = import_path(run_dir, place.url)
    run = get_run(report.imported[0], open_store(place.url))
    assert run.artifacts == () and any("model.pt" in w for w in report.warnings)
    assert SECRET.encode() not in stored_bytes(place)


BILLION_LAUGHS = "\n".join(["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
                           + [f"{c}: &{c} [{', '.join(['*' + p] * 9)}]" for p, c in zip("abcdefgh", "bcdefghi")])


def test_a_billion_laughs_config_is_refused_quickly(place: Place, tmp_path: Path) -> None:
    run_dir = tmp_path / "exp"
    run_dir.mkdir()
    (run_dir / "metrics.json").write_text(json.dumps({"accuracy": 0.9}), encoding="utf-8")
    (run_dir / "config.yaml").write_text(BILLION_LAUGHS, encoding="utf-8")
    assert len(BILLION_LAUGHS) < 600
    done = cli("import", run_dir, "--store", place.url, timeout=60)
    one_message(done, "config.yaml", "aliases")


HOSTILE = "<img src=x onerror=alert(1)>"


def test_markdown_documents_show_hostile_text_as_text(place: Place, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    ids = []
    for i in range(2):
        with start_run(project=HOSTILE, name=f"{HOSTILE}{i}", store=place.url,
                       config={HOSTILE: HOSTILE}, tags={"note": HOSTILE}) as run:
            run.log_metric(HOSTILE, 0.5, step=0)
            y = rng.integers(0, 2, 60)
            run.log_predictions("test", y, np.eye(2)[y] * 0.6 + 0.2, classes=[HOSTILE, "b"])
        ids.append(run.id)
    outputs = {
        "card": cli("card", ids[0], "--store", place.url),
        "compare": cli("compare", *ids, "--store", place.url),
        "summary": cli("summary", "--project", HOSTILE, "--store", place.url, "--sort", "test/accuracy"),
    }
    for what, done in outputs.items():
        assert done.returncode == 0, (what, done.stderr)
        assert HOSTILE not in done.stdout and "<img" not in done.stdout, what
        assert "&lt;img src=x onerror=alert(1)&gt;" in done.stdout, what  # shown, as text


@pytest.mark.parametrize(("expression", "message"), [
    ("exp(max_prob, P['a'])", "takes 1 argument"),  # numpy's out= would overwrite P['a']
    ("1" + "0" * 400, "larger than"),
    (" + ".join(["max_prob"] * 20_000), "at most"),
    ("-" * 100_000 + "1", "at most"),
    ("-" * 900 + "1", "nested"),
    ("__import__('os').system('true')", "not allowed"),
    ("max_prob.__class__", "not allowed"),
])
def test_hostile_derived_expressions_are_refused(expression: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        validate({"x": expression}, ["a", "b"])


def test_out_keeps_the_mode_of_the_file_it_replaces(tmp_path: Path) -> None:
    card = tmp_path / "card.md"
    card.write_text("old", encoding="utf-8")
    card.chmod(0o600)  # a private file: replacing it must not make it world-readable
    place = Place(tmp_path / "store")
    place.root.mkdir()
    with start_run(project="p", name="m", store=place.url) as run:
        run.log_metric("loss", 1.0)
    done = cli("card", run.id, "--store", place.url, "--out", card)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(card.stat().st_mode) == 0o600 and card.read_text(encoding="utf-8") != "old"
