"""What starting runcard imports: `import runcard` and `import runcard.metrics` without the store, `runcard --help`
without any command module, `runcard eval FILE` without SQLAlchemy, scipy, pydantic, pandas, torch, transformers,
sacrebleu or the UI's server, `runcard runs` without numpy. Checked in fresh interpreters (sys.modules after the
fact); times live in bench/bench_cli.py, not here."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from importlib import import_module
from pathlib import Path

import pytest

from runcard.cli.app import COMMANDS

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "agnews_tfidf_lr" / "test.csv"
HEAVY = ("sqlalchemy", "torch", "transformers", "sacrebleu", "starlette", "uvicorn", "sklearn")


def modules_after(code: str) -> set[str]:
    """The top-level and runcard modules loaded once ``code`` has run in a fresh interpreter."""
    script = (f"import sys, json, io, contextlib\n{code}\n"
              "sys.__stdout__.write('\\nMODULES ' + json.dumps(sorted(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT)
    return set(json.loads(result.stdout.rsplit("MODULES ", 1)[1]))


def cli(*args: str) -> str:
    return ("from runcard.cli.entry import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try:\n"
            f"        main({list(args)!r})\n"
            "    except SystemExit:\n"
            "        pass")


def heavy(modules: set[str]) -> set[str]:
    return {m for m in modules if m.split(".")[0] in HEAVY}


@pytest.mark.parametrize("code", ["import runcard", "import runcard.metrics", "from runcard import evaluate"])
def test_the_library_imports_without_the_store(code: str) -> None:
    loaded = modules_after(code)
    assert heavy(loaded) == set()
    assert not any(m.startswith("runcard.store") for m in loaded)


def test_help_imports_no_command_module_nor_numpy_nor_rich() -> None:
    loaded = modules_after(cli("--help"))
    assert not any(m.startswith("runcard.cli.") and m.endswith("_cmd") for m in loaded)
    assert {m.split(".")[0] for m in loaded} & {"numpy", "rich", "pydantic", *HEAVY} == set()


def test_metric_directions_import_no_numpy() -> None:
    """The listing of runs needs only which way each metric is better: `runcard.metrics` imports its functions on
    first use."""
    assert "numpy" not in modules_after("import runcard.metrics.directions")


def test_eval_imports_neither_the_store_nor_training_libraries_nor_scipy() -> None:
    loaded = modules_after(cli("eval", str(EXAMPLE)))
    assert "runcard.cli.eval_cmd" in loaded and "runcard.evaluate" in loaded  # it did run
    assert heavy(loaded) == set()
    tops = {m.split(".")[0] for m in loaded}
    assert tops & {"scipy", "pydantic", "pandas"} == set()  # the tails in runcard.stats; runcard.cli.coercion
    assert "pyarrow.parquet" not in loaded
    assert not any(m.startswith("runcard.store") for m in loaded)


def test_runs_imports_no_numpy_nor_pydantic(tmp_path: Path) -> None:
    loaded = modules_after(cli("runs", "--store", f"sqlite:///{tmp_path / 'runs.db'}"))
    assert "runcard.cli.runs_cmd" in loaded and "sqlalchemy" in loaded  # it did run
    assert {m.split(".")[0] for m in loaded} & {"numpy", "pydantic", "scipy", "pyarrow", "pandas"} == set()


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_listed_summary_is_its_commands_docstring_and_its_help_works(name: str) -> None:
    spec = COMMANDS[name]
    function = getattr(import_module(f"runcard.cli.{spec.module}"), spec.function)
    first = " ".join(inspect.getdoc(function).split("\n\n")[0].split())  # type: ignore[union-attr]
    assert spec.summary == first
    result = subprocess.run([sys.executable, "-m", "runcard", name, "--help"], capture_output=True, text=True,
                            cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout

