"""Every bad input a user can hand runcard ends in exit code 2 and one message naming the file (row, column, key or
line) and the fix: never a traceback, never "internal error", never a silent NaN."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from runcard import start_run
from runcard.errors import InputError
from runcard.store import StoreFileError, open_store
from tests.faults.conftest import Place, cli, one_message
from tests.faults.mlflow_runs import copy_of, run_folder

DEEP = "[" * 100_000 + "]" * 100_000


# -- prediction and generation files -----------------------------------------------------------------


def write_parquet(path: Path, columns: dict[str, pa.Array | list]) -> Path:
    pq.write_table(pa.table(columns), path)
    return path


PREDICTION_PROBES: list[tuple[str, Callable[[Path], Path], tuple[str, ...]]] = [
    ("csv infinite logit", lambda d: _text(d / "p.csv", "label,logit_a,logit_b\na,1e400,0\nb,0,1\n"),
     ("p.csv", "row 1", "logit_a", "finite")),
    ("jsonl Infinity logit", lambda d: _text(d / "p.jsonl", '{"label":"a","logit_a":Infinity,"logit_b":0}\n'
                                                            '{"label":"b","logit_a":0,"logit_b":1}\n'),
     ("p.jsonl", "row 1", "logit_a", "finite")),
    ("parquet inf logit", lambda d: write_parquet(d / "p.parquet", {"label": ["a", "b"], "logit_a": [float("inf"), 0.0],
                                                                    "logit_b": [0.0, 1.0]}),
     ("p.parquet", "row 1", "logit_a", "finite")),
    ("parquet struct label", lambda d: write_parquet(d / "p.parquet", {
        "label": pa.array([{"x": 1}, {"x": 2}]), "prob_a": [0.5, 0.5], "prob_b": [0.5, 0.5]}),
     ("p.parquet", "column label", "struct")),
    ("jsonl deep ignored column", lambda d: _text(d / "p.jsonl", '{"label":"a","prob_a":0.5,"prob_b":0.5,"junk":'
                                                                 + DEEP + "}\n"),
     ("p.jsonl", "line 1", "nested too deeply")),
    ("csv infinite probability", lambda d: _text(d / "p.csv", "label,prob_a,prob_b\na,1e400,0\nb,0,1\n"),
     ("p.csv", "row 1", "prob_a")),
]


def _text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("what", "make", "needles"), PREDICTION_PROBES, ids=[p[0] for p in PREDICTION_PROBES])
def test_bad_prediction_files_exit_2(tmp_path: Path, what: str, make: Callable[[Path], Path],
                                     needles: tuple[str, ...]) -> None:
    one_message(cli("eval", make(tmp_path)), *needles)


def test_a_deep_json_value_in_a_generations_file_exits_2(tmp_path: Path) -> None:
    path = _text(tmp_path / "gen.jsonl", '{"prompt":"p","completion":"c","junk":' + DEEP + "}\n")
    one_message(cli("eval-gen", path), "gen.jsonl", "line 1", "nested too deeply")


def test_a_20_mb_text_cell_is_read(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text('label,prob_a,prob_b,text\na,0.6,0.4,"' + "x" * 20_000_000 + '"\nb,0.3,0.7,short\n',
                    encoding="utf-8")
    done = cli("eval", path, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["accuracy"] == 1.0


# -- imports ---------------------------------------------------------------------------------------------


def generic(root: Path, config_name: str, config_text: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "metrics.json").write_text(json.dumps({"accuracy": 0.9}), encoding="utf-8")
    (root / config_name).write_text(config_text, encoding="utf-8")
    return root


def wandb_synced(root: Path, config: str, history: str) -> Path:
    """A synced W&B run folder's text files (offline wandb writes none of them, so they are hand-made; the real
    run-file reader is tested in tests/importers/test_wandb.py)."""
    files = root / "wandb" / "run-20261202_101010-abc123" / "files"
    files.mkdir(parents=True)
    (files / "config.yaml").write_text(config, encoding="utf-8")
    (files / "wandb-summary.json").write_text(json.dumps({"acc": 0.5}), encoding="utf-8")
    (files / "wandb-history.jsonl").write_text(history, encoding="utf-8")
    return root


def trainer(root: Path, state: str) -> Path:
    root.mkdir(parents=True)
    (root / "trainer_state.json").write_text(state, encoding="utf-8")
    return root


IMPORT_PROBES: list[tuple[str, Callable[[Path], Path], tuple[str, ...]]] = [
    ("malformed yaml", lambda d: generic(d / "exp", "config.yaml", "a: [1, 2\nb: 3\n"), ("config.yaml", "line")),
    ("yaml python tag", lambda d: generic(d / "exp", "config.yaml", "cmd: !!python/object/apply:os.system [true]\n"),
     ("config.yaml", "Python tags")),
    ("wandb list config", lambda d: wandb_synced(d, "- 1\n- 2\n", '{"_step": 0, "loss": 1.0}\n'),
     ("config.yaml", "mapping")),
    ("wandb bad history line", lambda d: wandb_synced(d, "lr:\n  value: 0.1\n", '{"_step": 0, "loss": 1.0}\n{"_st\n'),
     ("wandb-history.jsonl", "line 2")),
    ("trainer_state array", lambda d: trainer(d / "out", "[1, 2, 3]"), ("trainer_state.json", "JSON object")),
    ("non-dict log_history entry", lambda d: trainer(d / "out", json.dumps({"global_step": 2, "log_history": [
        {"loss": 1.0, "step": 1}, "oops"]})), ("trainer_state.json", "entry 1")),
    ("latin-1 config", lambda d: _latin1(generic(d / "exp", "config.yaml", "x: 1\n")), ("config.yaml", "UTF-8")),
]


def _latin1(root: Path) -> Path:
    (root / "config.yaml").write_bytes("name: café\n".encode("latin-1"))
    return root


@pytest.mark.parametrize(("what", "make", "needles"), IMPORT_PROBES, ids=[p[0] for p in IMPORT_PROBES])
def test_bad_import_trees_exit_2(place: Place, tmp_path: Path, what: str, make: Callable[[Path], Path],
                                 needles: tuple[str, ...]) -> None:
    one_message(cli("import", make(tmp_path / "src"), "--store", place.url), *needles)


def test_an_mlflow_step_that_is_not_a_number_exits_2(place: Place, tmp_path: Path, mlflow_files: Path) -> None:
    tree = copy_of(mlflow_files, tmp_path)
    metric = run_folder(tree / "mlruns") / "metrics" / "loss"
    lines = metric.read_text(encoding="utf-8").splitlines()
    stamp, value, _ = lines[1].split()
    lines[1] = f"{stamp} {value} zero"
    metric.write_text("\n".join(lines) + "\n", encoding="utf-8")
    one_message(cli("import", tree, "--store", place.url), "metrics/loss", "line 2")


def test_an_mlflow_param_in_latin_1_exits_2(place: Place, tmp_path: Path, mlflow_files: Path) -> None:
    tree = copy_of(mlflow_files, tmp_path)
    (run_folder(tree / "mlruns") / "params" / "optimizer").write_bytes("adamw-é".encode("latin-1"))
    one_message(cli("import", tree, "--store", place.url), "params/optimizer", "UTF-8")


# -- the store's own files -----------------------------------------------------------------------------


def _set_version(value: object) -> Callable[[Path], None]:
    def change(db: Path) -> None:
        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE runcard_schema SET version = ?", (value,))
    return change


def _sql(statement: str) -> Callable[[Path], None]:
    def change(db: Path) -> None:
        with sqlite3.connect(db) as conn:
            conn.execute(statement)
    return change


def _overwrite_pages(db: Path) -> None:
    data = bytearray(db.read_bytes())
    for start in range(4096, len(data), 4096):  # every page but the first: the tables' contents
        data[start:start + 4096] = b"\xa5" * 4096
    db.write_bytes(bytes(data))


STORE_PROBES: list[tuple[str, Callable[[Path], None], tuple[str, ...]]] = [
    ("truncated", lambda db: db.write_bytes(db.read_bytes()[:5000]), ("damaged", "backup")),
    ("header overwritten", lambda db: db.write_bytes(b"X" * 100 + db.read_bytes()[100:]), ("not a SQLite",)),
    ("pages overwritten", _overwrite_pages, ("damaged", "backup")),
    ("zero-length", lambda db: db.write_bytes(b""), ("empty", "backup")),
    ("version 0", _set_version(0), ("schema version is 0", "backup")),
    ("version 'abc'", _set_version("abc"), ("'abc'", "backup")),
    ("newer version", _set_version(99), ("version 99", "upgrade runcard")),
    ("two version rows", _sql("INSERT INTO runcard_schema VALUES (2, 2)"), ("2 rows", "backup")),
    ("missing column", _sql("ALTER TABLE runcard_runs DROP COLUMN host"), ("lacks column", "host")),
    ("foreign database", lambda db: (db.unlink(), _sql("CREATE TABLE t (x)")(db)), ("not a runcard store",)),
]


@pytest.fixture
def written_store(place: Place) -> Place:
    """A store holding one run, closed and checkpointed (the database file alone holds everything)."""
    with start_run(project="p", name="r", store=place.url) as run:
        for step in range(300):
            run.log_metric("loss", 1.0 / (step + 1), step=step)
    store = open_store(place.url)
    with store.engine.connect() as conn:  # type: ignore[attr-defined]
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.engine.dispose()  # type: ignore[attr-defined]
    from runcard.store import _open

    _open.clear()
    return place


@pytest.mark.parametrize(("what", "change", "needles"), STORE_PROBES, ids=[p[0] for p in STORE_PROBES])
def test_a_damaged_or_foreign_store_is_named_with_what_to_do(written_store: Place, what: str,
                                                             change: Callable[[Path], None],
                                                             needles: tuple[str, ...]) -> None:
    db = written_store.root / "runcard.db"
    change(db)
    one_message(cli("runs", "--store", written_store.url), str(db), *needles)
    with pytest.raises(StoreFileError):  # noqa: PT012 -- the Python API raises the same, never sqlite3.DatabaseError
        from runcard import list_runs

        list_runs(store=written_store.url)


# -- paths and names -----------------------------------------------------------------------------------


def test_out_onto_a_folder_exits_2(tmp_path: Path) -> None:
    preds = _text(tmp_path / "p.csv", "label,prob_a,prob_b\na,0.8,0.2\nb,0.3,0.7\n")
    folder = tmp_path / "cards"
    folder.mkdir()
    place = Place(tmp_path / "store")
    place.root.mkdir()
    with start_run(project="p", name="r", store=place.url) as run:
        run.log_metric("loss", 1.0)
    one_message(cli("card", run.id, "--store", place.url, "--out", folder), str(folder), "folder")
    one_message(cli("compare", preds, preds, "--out", folder), str(folder), "folder")


@pytest.mark.parametrize("name", ["model\x00.pt", "m" * 300 + ".pt"])
def test_a_bad_artifact_name_is_an_input_error(place: Place, tmp_path: Path, name: str) -> None:
    weights = tmp_path / "model.pt"
    weights.write_bytes(b"w")
    with start_run(project="p", name="r", store=place.url) as run, pytest.raises(InputError, match="artifact name"):
        run.log_checkpoint(weights, name=name)
