"""Reading another tool's files safely: never following a link out of the imported tree, never
expanding a hostile YAML, and failing on bad bytes with the file named.

Every importer reads through these functions. A symbolic link is never followed: a metadata file
that is a link is refused (`InputError` naming it), links met while listing a run's files are
skipped and named in the import report, and `escape` tells `write_runs` whether a file it is about
to copy into the store lies inside the tree being imported.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import yaml

from runcard.data.jsonl import parse_object
from runcard.errors import InputError

#: YAML aliases (``*name``) a file may use; configs written by tools use none.
MAX_YAML_ALIASES = 100
#: Values (scalars, list items, mapping entries, with aliases expanded) one config or metadata file may hold.
MAX_VALUES = 1_000_000


def escape(path: Path, root: Path) -> str | None:
    """Why ``path`` may not be read as part of the tree ``root`` (it lies outside it, or a symbolic link is
    on the way down to it), or None when it may."""
    base = Path(os.path.abspath(root))
    target = Path(os.path.abspath(path))
    if target != base and base not in target.parents:
        return f"{path} is outside the imported tree {root}"
    here = base
    for part in target.relative_to(base).parts:
        here = here / part
        if here.is_symlink():
            return f"{here} is a symbolic link (to {os.readlink(here)}), which runcard does not follow"
    return None


def regular_files(folder: Path, skipped: list[str]) -> list[Path]:
    """The regular files under ``folder``, sorted, without following links; each link met is named in
    ``skipped`` (the import report's notes)."""
    files: list[Path] = []
    for here, dirs, names in os.walk(folder, followlinks=False):
        for entry in [*dirs, *names]:
            path = Path(here) / entry
            if path.is_symlink():
                skipped.append(f"skipped {path}: a symbolic link (to {os.readlink(path)}), which runcard does not "
                               "follow")
        files += [Path(here) / n for n in names if not (Path(here) / n).is_symlink()]
    return sorted(files)


def read_text(path: Path) -> str:
    """A text file's content (UTF-8); a link, an unreadable file or bytes that are not UTF-8 are an
    `InputError` naming the file and the fix."""
    if path.is_symlink():
        raise InputError(f"{path} is a symbolic link (to {os.readlink(path)}); runcard does not follow links out "
                         "of an imported tree: replace it with the file itself.")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror}).") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"{path}: line {line}: not UTF-8 text (byte {data[exc.start]:#04x}); the tools runcard "
                         "imports write UTF-8: re-save the file as UTF-8.") from None


def load_json(path: Path) -> Any:
    """A JSON file's value, bounded like `load_yaml`."""
    try:
        value = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: line {exc.lineno}: not valid JSON ({exc.msg}).") from None
    except RecursionError:
        raise InputError(f"{path}: a JSON value is nested too deeply to read.") from None
    return bounded(value, str(path))


def load_json_lines(path: Path) -> list[dict[str, Any]]:
    """The objects of a JSON-lines file (blank lines skipped), each line checked."""
    return [bounded(parse_object(line, f"{path}: line {i}"), f"{path}: line {i}")
            for i, line in enumerate(read_text(path).splitlines(), start=1) if line.strip()]


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader (plain data only: no Python tags) that refuses more than `MAX_YAML_ALIASES` aliases."""

    aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_YAML_ALIASES:
                raise yaml.YAMLError(f"more than {MAX_YAML_ALIASES} aliases (*name); the file looks built to "
                                     "expand without bound")
        return super().compose_node(parent, index)


def load_yaml(path: Path) -> Any:
    """A YAML file's plain data. Python tags are refused, aliases are capped and the expanded value must hold
    at most `MAX_VALUES` values (a "billion laughs" file is refused, not expanded)."""
    text = read_text(path)
    try:
        value = yaml.load(text, Loader=_BoundedLoader)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f"line {where.line + 1}: " if where is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(f"{path}: {line}not YAML that runcard reads ({problem}); runcard reads plain YAML data "
                         "(no Python tags, few aliases).") from None
    return bounded(value, str(path))


def bounded(value: Any, where: str) -> Any:
    """``value`` unchanged, or an `InputError` when it holds more than `MAX_VALUES` values counting
    shared parts (YAML aliases) once per use."""
    count, stack = 0, [value]
    while stack:
        item = stack.pop()
        count += 1
        if count > MAX_VALUES:
            raise InputError(f"{where}: holds more than {MAX_VALUES:,} values once its aliases are expanded; "
                             "runcard refuses it rather than fill the memory.")
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return value
