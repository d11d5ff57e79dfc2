"""Loaders and writers at the edge of the library: prediction files, data sets."""

from runcard.data.prediction_files import load_predictions, write_predictions

__all__ = ["load_predictions", "write_predictions"]
