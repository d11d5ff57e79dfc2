"""Fixtures of the sweep tests: the AG News agent-action recipe cut down to a few seconds, in a scratch folder."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: examples/agnews_actions.toml with the overrides of tests/recipes/test_tfidf_mlp.py made smaller still.
TINY_CONFIG = f"""
[experiment]
project = "sweep-test"
name = "tiny"
recipe = "tfidf_mlp"
seed = 13

[data]
paths = ["{ROOT / 'data' / 'ag_news' / 'test.csv'}"]
layout = "ag_news"
text = ["title", "description"]

[data.labels]
column = "class_index"
classes = ["LocalPatch", "TargetedRegenerate", "RefineDecomposition", "ContractUpdate", "WholeRepoRegenerate"]
map = {{ "1" = "LocalPatch", "2" = "TargetedRegenerate", "3" = "RefineDecomposition" }}

[[data.labels.hash_split]]
source = "4"
into = ["ContractUpdate", "WholeRepoRegenerate"]

[data.pool.per_class]
LocalPatch = 60
TargetedRegenerate = 60
RefineDecomposition = 60
ContractUpdate = 30
WholeRepoRegenerate = 30

[split]
sizes = {{ train = 140, val = 50, test = 50 }}
seed = 13

[features]
max_features = 200

[model]
hidden = [16]

[train]
lr = 1e-2
epochs = 2
batch_size = 32

[report]
out_dir = "cards"
html = false
"""


@dataclass(frozen=True)
class Workspace:
    """A scratch folder (the working directory while tests run) with the tiny config and a SQLite store."""

    root: Path
    store: str
    config: Path

    def sweep_file(self, name: str, text: str) -> Path:
        path = self.root / f"{name}.toml"
        path.write_text(text, encoding="utf-8")
        return path


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    root = tmp_path_factory.mktemp("sweep")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RUNCARD_ARTIFACTS", str(root / "artifacts"))
        patch.setenv("RUNCARD_JOURNAL", str(root / "journal"))
        patch.delenv("RUNCARD_STORE", raising=False)
        patch.chdir(root)
        config = root / "tiny.toml"
        config.write_text(TINY_CONFIG, encoding="utf-8")
        yield Workspace(root, f"sqlite:///{root / 'runcard.db'}", config)
