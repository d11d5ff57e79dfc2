"""Top-level conveniences that accept file paths as well as loaded tables."""

from __future__ import annotations

from pathlib import Path

from runcard.compare import Comparison, compare_tables
from runcard.data.prediction_files import load_predictions
from runcard.posthoc import CalibrationResult, calibrate_tables
from runcard.table import PredictionTable

TableLike = PredictionTable | str | Path


def _table(value: TableLike, renormalize: bool = False) -> PredictionTable:
    return value if isinstance(value, PredictionTable) else load_predictions(value, renormalize=renormalize)


def compare_predictions(a: TableLike, b: TableLike, *, n_boot: int = 1000, seed: int = 0) -> Comparison:
    """Paired comparison of two prediction files (or tables) on the same ids: B minus A.

    Gives the difference in accuracy and macro-F1 with paired-bootstrap 95 % intervals and the
    exact McNemar p-value.
    """
    return compare_tables(_table(a), _table(b), n_boot=n_boot, seed=seed)


def calibrate(
    val: TableLike,
    test: TableLike | None = None,
    *,
    method: str = "temperature",
    bins: int = 15,
    renormalize: bool = False,
) -> CalibrationResult:
    """Fit post-hoc calibration (``temperature`` or ``vector``) on ``val``; apply it to ``test``."""
    return calibrate_tables(
        _table(val, renormalize),
        None if test is None else _table(test, renormalize),
        method=method,
        bins=bins,
    )
