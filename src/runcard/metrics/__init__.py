"""Pure metric functions over numpy arrays: no files, no printing, no globals.

The names below are imported on first use, so that a module needing only ``runcard.metrics.directions`` (the
listing of runs) does not import numpy and every metric with it; the names are the same as if imported here.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

_LAZY = {
    **dict.fromkeys(("Bins", "adaptive_calibration_error", "equal_mass_bins", "equal_width_bins",
                     "expected_calibration_error", "max_calibration_error"), "calibration_error"),
    **dict.fromkeys(("SUMMARY_KEYS", "confusion_matrix", "most_confused_pairs", "per_class_scores",
                     "summary_scores"), "classification"),
    **dict.fromkeys(("js_distance_rows", "js_divergence_rows", "kl_rows"), "divergence"),
    **dict.fromkeys(("brier_loss", "log_loss", "top_k_accuracy_score"), "probabilistic"),
}

if TYPE_CHECKING:
    from runcard.metrics.calibration_error import (
        Bins,
        adaptive_calibration_error,
        equal_mass_bins,
        equal_width_bins,
        expected_calibration_error,
        max_calibration_error,
    )
    from runcard.metrics.classification import (
        SUMMARY_KEYS,
        confusion_matrix,
        most_confused_pairs,
        per_class_scores,
        summary_scores,
    )
    from runcard.metrics.divergence import js_distance_rows, js_divergence_rows, kl_rows
    from runcard.metrics.probabilistic import brier_loss, log_loss, top_k_accuracy_score


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # once imported, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = [
    "SUMMARY_KEYS",
    "Bins",
    "adaptive_calibration_error",
    "brier_loss",
    "confusion_matrix",
    "equal_mass_bins",
    "equal_width_bins",
    "expected_calibration_error",
    "js_distance_rows",
    "js_divergence_rows",
    "kl_rows",
    "log_loss",
    "max_calibration_error",
    "most_confused_pairs",
    "per_class_scores",
    "summary_scores",
    "top_k_accuracy_score",
]
