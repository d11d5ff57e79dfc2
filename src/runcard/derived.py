"""Derived metrics: named expressions over the class probabilities, declared in a config.

    regeneration_scope = "P['TargetedRegenerate'] + 2 * P['WholeRepoRegenerate']"
    files_touched = "1 + 4.5 * regeneration_scope"
    pass_at_budget = "1 - (1 - (0.5 + 0.5 * max_prob)) ** 30"

Each expression gives one value per row; later expressions may use earlier names. The language is
small on purpose and interpreted here (never ``eval``): numbers, ``+ - * / **``, parentheses,
``P['<class>']`` (that class's probability), ``max_prob``, ``entropy`` (natural log), the names
defined before, and the functions ``log``, ``exp``, ``sqrt``, ``abs``, ``minimum``, ``maximum``,
``clip``.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from runcard.errors import InputError

#: Each function with its arity, called with exactly that many arguments by name (never numpy's ``out=``).
FUNCTIONS: dict[str, tuple[int, Any]] = {
    "log": (1, lambda x: np.log(x)), "exp": (1, lambda x: np.exp(x)), "sqrt": (1, lambda x: np.sqrt(x)),
    "abs": (1, lambda x: np.abs(x)), "minimum": (2, lambda a, b: np.minimum(a, b)),
    "maximum": (2, lambda a, b: np.maximum(a, b)), "clip": (3, lambda x, lo, hi: np.clip(x, lo, hi)),
}
#: Bounds on an expression: its length in characters, the nesting of its tree, the size of a number in it.
MAX_LENGTH = 1000
MAX_DEPTH = 40
MAX_LITERAL = 1e300
BUILTINS = ("max_prob", "entropy")
OPERATORS = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.divide, ast.Pow: np.power}


def _check(node: ast.AST, name: str, known: set[str], classes: set[str], source: str, depth: int = 0) -> None:
    where = f"derived.{name} = {source[:80]!r}"
    if depth > MAX_DEPTH:
        raise InputError(f"{where}: nested more than {MAX_DEPTH} deep; split it into named steps.")
    if isinstance(node, ast.Expression):
        return _check(node.body, name, known, classes, source, depth + 1)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        try:
            number = float(node.value)
        except OverflowError:
            number = float("inf")
        if not abs(number) <= MAX_LITERAL:
            raise InputError(f"{where}: the number {str(node.value)[:20]}... is larger than {MAX_LITERAL:g}.")
        return None
    if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
        _check(node.left, name, known, classes, source, depth + 1)
        return _check(node.right, name, known, classes, source, depth + 1)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return _check(node.operand, name, known, classes, source, depth + 1)
    if isinstance(node, ast.Name):
        if node.id in known or node.id in BUILTINS:
            return None
        raise InputError(f"{where}: unknown name {node.id!r}; use P['<class>'], {', '.join(BUILTINS)}, or a name "
                         f"defined above it ({', '.join(sorted(known)) or 'none yet'}).")
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "P":
        key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            if key.value not in classes:
                raise InputError(f"{where}: P[{key.value!r}] names no class; classes are {sorted(classes)}.")
            return None
        raise InputError(f"{where}: write P['<class name>'] with a quoted class name.")
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS
            and not node.keywords):
        arity = FUNCTIONS[node.func.id][0]
        if len(node.args) != arity:
            raise InputError(f"{where}: {node.func.id}() takes {arity} argument(s), got {len(node.args)}.")
        for arg in node.args:
            _check(arg, name, known, classes, source, depth + 1)
        return None
    raise InputError(f"{where}: {ast.unparse(node)!r} is not allowed; use numbers, + - * / **, P['<class>'], "
                     f"{', '.join(BUILTINS)}, earlier names and {', '.join(FUNCTIONS)}().")


def validate(expressions: Mapping[str, str], classes: Sequence[str]) -> dict[str, ast.Expression]:
    """Parse and check every expression (in order) against the classes; return the parsed trees."""
    known: set[str] = set()
    parsed = {}
    for name, source in expressions.items():
        if not name.isidentifier() or name in BUILTINS or name == "P" or name in FUNCTIONS:
            raise InputError(f"derived.{name}: use a plain name that is not P, {', '.join(BUILTINS)} or a function.")
        if not isinstance(source, str) or len(source) > MAX_LENGTH:
            raise InputError(f"derived.{name}: give an expression of at most {MAX_LENGTH} characters (a string).")
        try:
            tree = ast.parse(source, mode="eval")
        except SyntaxError as exc:
            raise InputError(f"derived.{name} = {source[:80]!r}: not a valid expression ({exc.msg}).") from None
        except (RecursionError, MemoryError):
            raise InputError(f"derived.{name}: nested too deep to read; split it into named steps.") from None
        _check(tree, name, known, set(classes), source)
        parsed[name] = tree
        known.add(name)
    return parsed


def evaluate(expressions: Mapping[str, str], probs: np.ndarray, classes: Sequence[str]) -> dict[str, np.ndarray]:
    """Every derived value per row (``(N,)`` arrays), in declaration order."""
    parsed = validate(expressions, classes)
    index = {c: i for i, c in enumerate(classes)}
    with np.errstate(divide="ignore", invalid="ignore"):
        env: dict[str, Any] = {"max_prob": probs.max(axis=1),
                               "entropy": -np.where(probs > 0, probs * np.log(probs), 0.0).sum(axis=1)}
    out: dict[str, np.ndarray] = {}

    def run(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return run(node.body)
        if isinstance(node, ast.Constant):
            constant: Any = node.value
            return float(constant)
        if isinstance(node, ast.BinOp):
            return OPERATORS[type(node.op)](run(node.left), run(node.right))
        if isinstance(node, ast.UnaryOp):
            value = run(node.operand)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.Name):
            return env[node.id]
        if isinstance(node, ast.Subscript):
            key: Any = node.slice
            return probs[:, index[str(key.value)]]
        if isinstance(node, ast.Call):
            name: Any = node.func
            func: Any = FUNCTIONS[name.id][1]
            return func(*(run(a) for a in node.args))
        raise AssertionError("validated above")

    for name, tree in parsed.items():
        value = np.broadcast_to(np.asarray(run(tree), dtype=np.float64), (len(probs),)).copy()
        out[name] = value
        env[name] = value
    return out
