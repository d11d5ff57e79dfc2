"""Pure metric functions over numpy arrays: no files, no printing, no globals."""

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
