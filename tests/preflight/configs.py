"""Configs the preflight tests write: a tiny tfidf_mlp config in a scratch folder."""

from __future__ import annotations

from pathlib import Path


def tfidf_config(folder: Path, *, data: str | None = "text,label\nfine day,a\nbad day,b\n", out_dir: Path | None = None,
                 top: str = "", tags: str = "") -> Path:
    """A tfidf_mlp config reading ``folder/train.csv`` (written with ``data`` unless None), with its card folder
    ``out_dir`` (default ``folder/cards``) and ``top`` written before the first table."""
    if data is not None:
        (folder / "train.csv").write_text(data, encoding="utf-8")
    path = folder / "exp.toml"
    path.write_text(f"""{top}
[experiment]
project = "pf"
name = "tiny"
tags = {{ {tags} }}

[data]
paths = ["train.csv"]
text = ["text"]

[data.labels]
column = "label"
classes = ["a", "b"]

[split]
sizes = {{ train = 4, val = 2, test = 2 }}

[train]
lr = 0.01
epochs = 1

[report]
out_dir = "{out_dir or folder / 'cards'}"
html = false
""", encoding="utf-8")
    return path
