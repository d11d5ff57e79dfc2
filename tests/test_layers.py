"""The layer contract: the table in docs/architecture.md is the rule, and the import graph of src/runcard must obey
it. An import (at module level or inside a function; only `if TYPE_CHECKING:` imports are left out) may only go to
the same layer or a lower one, every module must have a row, and no two packages may import each other in a circle.

`test_the_check_catches_a_wrong_import` shows the check can fail: it builds a small package with one import going
up a layer and one circle, and asserts both are reported.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

grimp = pytest.importorskip("grimp")

ROOT = Path(__file__).resolve().parents[1]
ARCHITECTURE = ROOT / "docs" / "architecture.md"
ROW = re.compile(r"^\|\s*(\d+)\s*\|(.+?)\|")


def layer_table(markdown: str) -> dict[str, int]:
    """``module -> layer`` from the rows ``| <layer> | `runcard.x`, `runcard.y` | ... |`` of a Markdown table."""
    table: dict[str, int] = {}
    for line in markdown.splitlines():
        match = ROW.match(line)
        if match:
            for name in re.findall(r"`([a-z_][\w.]*)`", match.group(2)):
                table[name] = int(match.group(1))
    return table


def layer_of(module: str, table: Mapping[str, int]) -> int | None:
    """The layer of the longest table entry that is ``module`` or a package above it."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        name = ".".join(parts[:end])
        if name in table:
            return table[name]
    return None


def package_of(module: str, root: str) -> str:
    """``root.x`` for ``root.x.y.z``: the unit between which circles are forbidden."""
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else root


def circles(edges: Iterable[tuple[str, str]]) -> list[list[str]]:
    """The strongly connected groups of more than one node (Tarjan), each sorted."""
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def violations(package: str, table: Mapping[str, int]) -> list[str]:
    """Every breach of the contract in ``package`` (importable from sys.path), one line each."""
    graph = grimp.build_graph(package, include_external_packages=False, exclude_type_checking_imports=True,
                              cache_dir=None)
    problems = []
    edges = set()
    for module in sorted(graph.modules):
        mine = layer_of(module, table)
        if mine is None:
            problems.append(f"{module}: not in the layer table")
            continue
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            theirs = layer_of(imported, table)
            if theirs is not None and theirs > mine:
                lines = sorted({d["line_number"] for d in graph.get_import_details(importer=module,
                                                                                    imported=imported)})
                problems.append(f"{module} (layer {mine}) imports {imported} (layer {theirs}) at line(s) {lines}")
            a, b = package_of(module, package), package_of(imported, package)
            if a != b:
                edges.add((a, b))
    problems += [f"packages import each other in a circle: {' -> '.join(group)}" for group in circles(edges)]
    return problems


def test_the_import_graph_obeys_the_layer_table() -> None:
    table = layer_table(ARCHITECTURE.read_text(encoding="utf-8"))
    assert len(table) > 20, "docs/architecture.md lost its layer table"
    assert violations("runcard", table) == []


def test_the_check_catches_a_wrong_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "fakepkg"
    for sub in ("low", "high", "a", "b"):
        (pkg / sub).mkdir(parents=True)
        (pkg / sub / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "high" / "top.py").write_text("X = 1\n", encoding="utf-8")
    (pkg / "low" / "core.py").write_text("def f():\n    from fakepkg.high import top  # inside a function\n"
                                         "    return top.X\n", encoding="utf-8")
    (pkg / "a" / "m.py").write_text("import fakepkg.b.n\n", encoding="utf-8")
    (pkg / "b" / "n.py").write_text("import fakepkg.a.m\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    table = layer_table("| 1 | `fakepkg`, `fakepkg.low` | |\n| 2 | `fakepkg.high` | |\n| 1 | `fakepkg.a`, `fakepkg.b` | |")
    found = violations("fakepkg", table)
    assert "fakepkg.low.core (layer 1) imports fakepkg.high.top (layer 2) at line(s) [2]" in found
    assert "packages import each other in a circle: fakepkg.a -> fakepkg.b" in found
    assert len(found) == 2
