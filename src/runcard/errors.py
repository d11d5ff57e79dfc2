"""Exceptions that carry a message a user can act on.

Every message names where the problem is (argument, file, row, column), what was expected, what
was found, and the fix. The CLI maps `InputError` to exit code 2 and any other `RunCardError`
to exit code 1.
"""

from __future__ import annotations


class RunCardError(Exception):
    """Base class of every error runcard raises on purpose."""


class InputError(RunCardError, ValueError):
    """The caller's input is invalid: a bad argument, file, row or value (CLI exit code 2)."""


class ProbabilityError(InputError):
    """A probability matrix failed validation at a known row and column.

    `row` and `col` are 0-based positions in the array; loaders re-raise with the file's own
    row numbering and column name.
    """

    def __init__(self, message: str, *, row: int, col: int | None, problem: str, fix: str) -> None:
        super().__init__(message)
        self.row = row
        self.col = col
        self.problem = problem
        self.fix = fix
