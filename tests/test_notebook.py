"""Results in a notebook: a real Jupyter kernel (nbclient + ipykernel) runs a small notebook, and every result
object shows a short text repr and an HTML view; the documents built from Python equal the CLI's."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
from nbclient import NotebookClient

CELLS = [
    """import numpy as np, runcard
rng = np.random.default_rng(0)
y = rng.integers(0, 3, 300)
p = rng.dirichlet([1, 1, 1], 300); p[np.arange(300), y] += 1; p /= p.sum(1, keepdims=True)
with runcard.start_run("nb", name="a <b>", evaluation={"bins": 10}) as run:
    run.log_predictions("val", y[:150], p[:150], classes=["x", "y", "z"])
    run.log_predictions("test", y, p, classes=["x", "y", "z"], texts=[f"row {i}" for i in range(300)])
with runcard.start_run("nb", name="b") as other:
    q = np.roll(p, 1, axis=0)
    other.log_predictions("test", y, q, classes=["x", "y", "z"], texts=[f"row {i}" for i in range(300)])
""",
    "runcard.evaluate(y, p, classes=['x', 'y', 'z'])",
    "runcard.get_run(run.id)",
    "from runcard.posthoc import calibrate_tables\n"
    "calibrate_tables(runcard.get_run(run.id).predictions('val'), runcard.get_run(run.id).predictions('test'))",
    "from runcard.compare import compare_tables\n"
    "compare_tables(runcard.get_run(run.id).predictions('test'), runcard.get_run(other.id).predictions('test'))",
    "from runcard.generation import evaluate_generations, table_from_rows\n"
    "evaluate_generations(table_from_rows([{'prompt_id': i // 4, 'sample': f'text {i % 3} of {i // 4}', "
    "'passed': i % 2 == 0} for i in range(40)]), embed=None, self_bleu=False, ks=(1, 2))",
    "card = runcard.card(run.id)\ncard",
    "runcard.compare_runs(run.id, other.id)",
    "runcard.summary(project='nb')",
    "import json; print(json.dumps(card.to_dict()['result']['lines']))",
]


def test_every_result_shows_itself_in_a_notebook(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("RUNCARD_STORE", f"sqlite:///{tmp_path / 'store' / 'r.db'}")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    NotebookClient(notebook, kernel_name="python3", timeout=300, resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [cell.outputs for cell in notebook.cells]
    assert all(not any(o.output_type == "error" for o in out) for out in outputs)
    shown = {i: out[-1]["data"] for i, out in enumerate(outputs) if out and "data" in out[-1]}
    expected_html = {1: "95 % CI", 2: "runcard.card(run)", 3: "before", 4: "B − A", 5: "pass@1", 6: "<iframe",
                     7: "<iframe", 8: "<iframe"}
    for i, fragment in expected_html.items():
        assert fragment in shown[i]["text/html"], (i, shown[i]["text/html"][:300])
        assert len(shown[i]["text/plain"]) < 400  # a short repr, not a 3,000-character dataclass dump
    assert shown[1]["text/plain"].startswith("Evaluation(n=300, classes=3, accuracy=")
    assert "a &lt;b&gt;" in shown[2]["text/html"] and "<b>" not in shown[2]["text/html"]  # the run name is escaped
    assert shown[6]["text/plain"].startswith("<runcard card: test (300 rows): macro-F1")
    lines = json.loads(outputs[9][0]["text"])
    assert lines[0].startswith("test (300 rows)")


def test_a_document_saves_in_the_form_its_suffix_names(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import numpy as np
    import pytest

    import runcard
    from runcard.errors import InputError

    monkeypatch.setenv("RUNCARD_STORE", f"sqlite:///{tmp_path / 'store' / 'r.db'}")
    with runcard.start_run("nb") as run:
        run.log_predictions("test", np.array([0, 1] * 30), np.array([[0.7, 0.3], [0.4, 0.6]] * 30))
    doc = runcard.card(run.id)
    assert doc.save(tmp_path / "c.md").read_text() == doc.markdown()
    assert doc.save(tmp_path / "c.html").read_text().startswith("<!doctype html>")
    assert json.loads(doc.save(tmp_path / "c.json").read_text())["kind"] == "card"
    with pytest.raises(InputError, match=r"\.md, \.html or \.json"):
        doc.save(tmp_path / "c.pdf")
