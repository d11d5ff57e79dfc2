"""Fixtures of the preflight tests: the recipe tests' tiny random BERT."""

from __future__ import annotations

from tests.recipes.conftest import tiny_encoder

__all__ = ["tiny_encoder"]
