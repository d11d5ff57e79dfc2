"""Preflight: check every resource a recipe config needs before a long run, and list what is missing.

`preflight` runs, in order: the packages the recipe imports, the recipe's own checks (its data files, its encoder:
`Recipe.checks`), the output folders and their free space, the store, the ``resume_from`` checkpoint (when present)
and the device; `failure_message` turns the failed ones into one line each (config key, path, problem, fix).
Nothing is trained or recorded. The single checks are in `runcard.recipes.preflight_checks`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runcard.data.toml import read_toml
from runcard.errors import RunCardError
from runcard.recipes.base_config import RunConfig
from runcard.recipes.config import validate_config
from runcard.recipes.preflight_checks import (
    Check,
    check_device,
    check_free_space,
    check_package,
    check_writable_dir,
    load_error,
)
from runcard.recipes.registry import get_recipe
from runcard.recipes.spec import Recipe
from runcard.runs import load_checkpoint
from runcard.store import Store, open_store, store_url
from runcard.urls import safe_url

GIB = 1024**3
#: Top-level keys only preflight reads; they are removed before the config is validated.
PREFLIGHT_KEYS = ("resume_from",)


def check_packages(recipe: Recipe) -> list[Check]:
    """Each package the recipe imports (`Recipe.packages`) is installed."""
    return [check_package(module, "experiment.recipe", install) for module, install in recipe.packages]


def check_store(store: str | Store | None) -> tuple[Check, Store | None]:
    """The store opens (a SQLite file is created if absent, as `runcard run` would)."""
    target = safe_url(store_url(store) if store is None or isinstance(store, str) else store.url)
    try:
        opened = open_store(store)
    except Exception as exc:  # noqa: BLE001 -- a store that does not open is the finding
        return Check("store", "--store", target, False, f"does not open ({load_error(exc)})",
                     "check the URL (--store or RUNCARD_STORE) and that the database is reachable"), None
    return Check("store", "--store", target, True, f"artifacts in {opened.artifacts.root}"), opened


def check_checkpoint(ref: object, store: Store | None) -> Check:
    """The top-level ``resume_from`` run (id or prefix) is in the store and its checkpoint verifies by hash."""
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


def load_for_preflight(path: str | Path, overrides: dict[str, Any] | None = None
                       ) -> tuple[RunConfig, Path, dict[str, Any]]:
    """``(validated config, config folder, raw TOML)``; the preflight-only keys (`PREFLIGHT_KEYS`) are kept in
    the raw dict and left out of validation."""
    path = Path(path)
    raw = read_toml(path, "config file")
    config = validate_config({k: v for k, v in raw.items() if k not in PREFLIGHT_KEYS}, str(path), overrides)
    return config, path.resolve().parent, raw


def _value(config: RunConfig, dotted: str) -> Any:
    """The value at a dotted key (``encoder.cache_dir``) of a validated config."""
    value: Any = config
    for part in dotted.split("."):
        value = getattr(value, part)
    return value


def output_dirs(config: RunConfig, recipe: Recipe) -> list[tuple[str, Path]]:
    """``(key, folder)`` of each folder the run writes to: ``report.out_dir`` and the recipe's `Recipe.outputs`
    (relative to the working directory)."""
    dirs = [("report.out_dir", Path(config.report.out_dir))]
    dirs += [(key, Path(_value(config, key))) for key in recipe.outputs]
    return [(key, folder if folder.is_absolute() else Path.cwd() / folder) for key, folder in dirs]


def preflight(source: str | Path | RunConfig, base: Path | None = None, store: str | Store | None = None, *,
              overrides: dict[str, Any] | None = None, raw: dict[str, Any] | None = None, min_free_gb: float = 1.0,
              probe_cuda: bool = True) -> list[Check]:
    """Every check the config calls for, in order: packages, the recipe's own (data files, encoder), output
    folders, disk space, store, the ``resume_from`` checkpoint (checked when present), device.

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
    recipe = get_recipe(config.experiment.recipe, "config")
    store_check, opened = check_store(store)  # listed after the output folders; the recipe's checks may read it
    checks = check_packages(recipe) + recipe.checks(config, base, opened)
    min_free = min_free_gb * GIB
    for key, folder in output_dirs(config, recipe):
        checks += [check_writable_dir(key, folder), check_free_space(key, folder, min_free)]
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
