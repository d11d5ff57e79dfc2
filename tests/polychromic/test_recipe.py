"""The recipe end to end on a made-up corpus: three pre-training and three RL steps of a tiny GPT-2,
every arm its own run, generations logged, cards and the summary written, an arm re-run from the store."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("sklearn")

from runcard.errors import InputError
from runcard.findings import run_findings
from runcard.generation.stored import generation_splits
from runcard.recipes import rerun, run_config
from runcard.recipes.config import load_config
from runcard.report.views import load_run
from runcard.runs import list_runs, load_checkpoint
from runcard.store import open_store
from tests.report.cards import assert_recipe_card_is_the_stored_card

ROOT = Path(__file__).resolve().parents[2]
RUNCARD = shutil.which("runcard", path=str(Path(sys.executable).parent)) or "runcard"

CONFIG = """
[experiment]
recipe = "polychromic"
project = "poly-test"
name = "tiny"

[data]
paths = ["{data}"]

[prompts]
min_count = 5
max_topics = 6
heldout_topics = 2

[tokenizer]
vocab_size = 400

[model]
n_layer = 1
n_embd = 32
n_head = 2
n_positions = 48

[pretrain]
steps = 3
batch_size = 16
log_every = 1

[checker]
min_words = 2
calibration_samples = 2
n_features = 4096

[diversity]
reference_tweets = 50

[sampling]
max_new_tokens = 16

[rl]
lambdas = [0.0, 1.0]
documented_lambdas = [0.0, 1.0]
steps = 3
prompts_per_step = 2
grad_norm_every = 2

[evaluation]
samples_per_prompt = 4
ks = [1, 2]
n_boot = 100

[report]
out_dir = "{out}"
html = false
"""


@pytest.fixture(scope="module")
def experiment(tweets_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("poly")
    config = folder / "tiny.toml"
    config.write_text(CONFIG.format(data=tweets_csv, out=folder / "cards"))
    store = open_store(f"sqlite:///{folder / 'runs.db'}")
    result = run_config(config, store, quiet=True)
    return {"folder": folder, "config": config, "store": store, "result": result,
            "runs": {r.tags["arm"]: r for r in list_runs("poly-test", store)}}


def test_every_arm_is_its_own_run(experiment: dict[str, Any]) -> None:
    runs = experiment["runs"]
    assert sorted(runs) == sorted(["supervised", "polychromic-lambda0-seed0", "polychromic-lambda0-seed1",
                                   "polychromic-lambda1-seed0", "documented-lambda0-seed0",
                                   "documented-lambda1-seed0"])
    supervised = runs["supervised"]
    assert experiment["result"].run_id == supervised.id
    for name, run in runs.items():
        assert run.status == "finished"
        assert set(generation_splits(run)) == {"test", "test_a_and_b"}
        assert [a for a in run.artifacts if a.kind == "checkpoint"]
        card = experiment["folder"] / "cards" / f"{run.id}.md"
        assert_recipe_card_is_the_stored_card(experiment["store"], card, None, run.id)
        [env] = [a for a in run.artifacts if a.name == "environment.json"]
        versions = json.loads(experiment["store"].artifacts.verify(env.path, env.sha256).read_text())
        assert versions["torch"] == version("torch") and versions["tokenizers"] == version("tokenizers")
        if name != "supervised":
            assert run.tags["supervised_run"] == supervised.id and run.config["arm"]["supervised_run"] == supervised.id
    assert "checker/threshold_a" in supervised.summary and "test/pass@1" in supervised.summary
    assert "test_a_and_b/pass@2" in runs["polychromic-lambda1-seed0"].summary


def test_summary_records_weights_and_the_compare_command(experiment: dict[str, Any]) -> None:
    supervised = experiment["runs"]["supervised"]
    doc = json.loads((experiment["folder"] / "cards" / f"polychromic-{supervised.id}.json").read_text())
    assert doc["weights"]["documented"]["identical"] is True
    assert doc["compare_command"].startswith(f"runcard compare {supervised.id} ")
    assert doc["compare_command"].endswith(f" --store {experiment['store'].url}")  # not the default store
    assert {a["name"] for a in doc["arms"]} == set(experiment["runs"])
    text = (experiment["folder"] / "cards" / f"polychromic-{supervised.id}.md").read_text()
    assert "Paired difference against the supervised model" in text


def test_documented_arms_raise_detached_term(experiment: dict[str, Any]) -> None:
    store = experiment["store"]
    for name, run in experiment["runs"].items():
        kinds = {f.kind for f in run_findings(load_run(store, run).view)}
        assert ("detached_term" in kinds) is name.startswith("documented"), name
        assert "all_zero_metric" not in kinds, name  # a NaN gradient cosine of a detached term is not a failure


def test_an_arm_reruns_from_the_stored_supervised_checkpoint(experiment: dict[str, Any]) -> None:
    store = experiment["store"]
    original = experiment["runs"]["documented-lambda1-seed0"]
    result = rerun(original.id, store, quiet=True)
    again = store.get_run(result.run_id)
    assert again.tags["rerun_of"] == original.id and again.tags["arm"] == "documented-lambda1-seed0"
    weights = [json.loads(store.artifacts.verify(a.path, a.sha256).read_text()) for r in (original, again)
               for a in r.artifacts if a.name == "weights.json"]
    assert weights[0]["weights_sha256"] == weights[1]["weights_sha256"]


def test_config_errors_name_the_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(CONFIG.format(data="x.csv", out="cards") + "\n[rl.extra]\n")
    with pytest.raises(InputError, match="rl"):
        load_config(path)
    path.write_text(CONFIG.format(data="x.csv", out="cards").replace("samples_per_prompt = 4",
                                                                     "samples_per_prompt = 4\nks_typo = 1"))
    with pytest.raises(InputError, match=r"unknown key 'evaluation\.ks_typo'"):
        load_config(path)


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([RUNCARD, *map(str, args)], check=False, capture_output=True, text=True, timeout=300)


def test_objective_documented_runs_only_its_arms_through_the_cli(tweets_csv: Path, tmp_path: Path) -> None:
    config = tmp_path / "tiny.toml"
    config.write_text(CONFIG.format(data=tweets_csv, out=tmp_path / "cards"))
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    result = _cli("run", config, "--objective", "documented", "--store", url, "--json", "--quiet")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    store = open_store(url)
    runs = {r.tags["arm"]: r for r in list_runs("poly-test", store)}
    assert sorted(runs) == ["documented-lambda0-seed0", "documented-lambda1-seed0", "supervised"]
    assert payload["run"] == runs["supervised"].id
    assert runs["documented-lambda1-seed0"].config["rl"]["objectives"] == ["documented"]
    for name, run in runs.items():
        kinds = {f.kind for f in run_findings(load_run(store, run).view)}
        assert ("detached_term" in kinds) is (name != "supervised"), name
    doc = json.loads((tmp_path / "cards" / f"polychromic-{payload['run']}.json").read_text())
    assert list(doc["weights"]) == ["documented"] and doc["weights"]["documented"]["identical"] is True


@pytest.mark.parametrize(("args", "message"), [
    (("--objective", "fancy"), "--objective 'fancy' is not an objective of the polychromic recipe"),
    (("--from", "abc", "--objective", "documented"), "--objective does not apply with --from"),
])
def test_objective_errors_exit_2(tweets_csv: Path, tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    config = tmp_path / "tiny.toml"
    config.write_text(CONFIG.format(data=tweets_csv, out=tmp_path / "cards"))
    given = args if args[0] == "--from" else (config, *args)
    result = _cli("run", *given, "--store", f"sqlite:///{tmp_path / 'runs.db'}")
    assert result.returncode == 2 and message in result.stderr, result.stderr


def test_objective_is_refused_for_a_recipe_without_objectives(tmp_path: Path) -> None:
    config = ROOT / "examples" / "agnews_actions.toml"
    result = _cli("run", config, "--objective", "documented", "--store", f"sqlite:///{tmp_path / 'runs.db'}")
    assert result.returncode == 2 and "--objective is for recipes with RL objectives" in result.stderr, result.stderr


def _weights(store: Any, runs: dict[str, Any]) -> dict[str, str]:
    return {name: json.loads((load_checkpoint(run.id, store=store) / "lm.json").read_text())["weights_sha256"]
            for name, run in runs.items()}


def test_arms_on_two_workers_train_the_same_weights(experiment: dict[str, Any], tweets_csv: Path,
                                                    tmp_path: Path) -> None:
    """Each arm is seeded alone on one torch thread: two worker processes change the wall time, not a number."""
    config = tmp_path / "tiny.toml"
    config.write_text(CONFIG.format(data=tweets_csv, out=tmp_path / "cards").replace("grad_norm_every = 2",
                                                                                     "grad_norm_every = 2\nworkers = 2"))
    store = open_store(f"sqlite:///{tmp_path / 'runs.db'}")
    result = run_config(config, store, quiet=True)
    runs = {r.tags["arm"]: r for r in list_runs("poly-test", store)}
    assert set(runs) == set(experiment["runs"]) and all(r.status == "finished" for r in runs.values())
    assert _weights(store, runs) == _weights(experiment["store"], experiment["runs"])
    for name, run in runs.items():
        assert run.summary["test/pass@1"] == experiment["runs"][name].summary["test/pass@1"], name
    doc = json.loads((tmp_path / "cards" / f"polychromic-{result.run_id}.json").read_text())
    assert doc["arms"][0]["name"] == "supervised" and len(doc["arms"]) == len(runs)
