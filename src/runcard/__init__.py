"""runcard: exact evaluation, calibration and findings for ML experiment runs.

>>> import runcard
>>> ev = runcard.evaluate([0, 1, 1], [[0.8, 0.2], [0.3, 0.7], [0.6, 0.4]], ci=False)
>>> ev.to_dict()["confusion_matrix"]
[[1, 0], [1, 1]]
"""

from runcard._version import __version__
from runcard.api import calibrate, compare_predictions
from runcard.compare import Comparison
from runcard.data.predictions import load_predictions, write_predictions
from runcard.errors import InputError, RunCardError
from runcard.evaluate import Evaluation, evaluate, evaluate_table
from runcard.posthoc import CalibrationResult
from runcard.runs import delete_run, get_run, list_runs, load_checkpoint
from runcard.store import Run, open_store
from runcard.table import PredictionTable, table_from_arrays
from runcard.tracking import ActiveRun, start_run

#: Built on the store and the reports: imported when first used, so `import runcard` stays light.
_DOCUMENTS = ("card", "compare_runs", "summary", "Document")


def __getattr__(name: str) -> object:
    if name in _DOCUMENTS:
        from runcard import documents

        return getattr(documents, name)
    raise AttributeError(f"module 'runcard' has no attribute {name!r}")


__all__ = [
    "Document",
    "card",
    "compare_runs",
    "summary",
    "ActiveRun",
    "CalibrationResult",
    "Comparison",
    "Evaluation",
    "InputError",
    "PredictionTable",
    "Run",
    "RunCardError",
    "__version__",
    "calibrate",
    "compare_predictions",
    "delete_run",
    "evaluate",
    "evaluate_table",
    "get_run",
    "list_runs",
    "load_checkpoint",
    "load_predictions",
    "open_store",
    "start_run",
    "table_from_arrays",
    "write_predictions",
]
