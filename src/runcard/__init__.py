"""runcard: exact evaluation, calibration and findings for ML experiment runs.

>>> import runcard
>>> ev = runcard.evaluate([0, 1, 1], [[0.8, 0.2], [0.3, 0.7], [0.6, 0.4]], ci=False)
>>> ev.to_dict()["confusion_matrix"]
[[1, 0], [1, 1]]
"""

from __future__ import annotations

import sys
from importlib import import_module
from types import ModuleType
from typing import TYPE_CHECKING

from runcard._version import __version__

#: Where each public name lives. Imported on first use, so `import runcard` (and the CLI's start, and a
#: Ctrl-C during it) costs almost nothing; the names are the same as if imported here.
_LAZY = {
    "calibrate": "runcard.api", "compare_predictions": "runcard.api",
    "Comparison": "runcard.compare",
    "load_predictions": "runcard.data.prediction_files", "write_predictions": "runcard.data.prediction_files",
    "InputError": "runcard.errors", "RunCardError": "runcard.errors",
    "Evaluation": "runcard.evaluate", "evaluate": "runcard.evaluate", "evaluate_table": "runcard.evaluate",
    "CalibrationResult": "runcard.posthoc",
    "delete_run": "runcard.runs", "get_run": "runcard.runs", "list_runs": "runcard.runs",
    "load_checkpoint": "runcard.runs",
    "Run": "runcard.store", "open_store": "runcard.store",
    "PredictionTable": "runcard.table", "table_from_arrays": "runcard.table",
    "ActiveRun": "runcard.tracking", "start_run": "runcard.tracking",
    "card": "runcard.documents", "compare_runs": "runcard.documents", "summary": "runcard.documents",
    "Document": "runcard.documents",
}

if TYPE_CHECKING:
    from runcard.api import calibrate, compare_predictions
    from runcard.compare import Comparison
    from runcard.data.prediction_files import load_predictions, write_predictions
    from runcard.documents import Document, card, compare_runs, summary
    from runcard.errors import InputError, RunCardError
    from runcard.evaluate import Evaluation, evaluate, evaluate_table
    from runcard.posthoc import CalibrationResult
    from runcard.runs import delete_run, get_run, list_runs, load_checkpoint
    from runcard.store import Run, open_store
    from runcard.table import PredictionTable, table_from_arrays
    from runcard.tracking import ActiveRun, start_run


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'runcard' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # once imported, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


class _Package(ModuleType):
    """The package module: importing the submodule `runcard.evaluate` sets the package's attribute
    ``evaluate`` to the module; keep the function under that name, as an eager import would."""

    def __setattr__(self, name: str, value: object) -> None:
        if isinstance(value, ModuleType) and _LAZY.get(name) == value.__name__:
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


__all__ = [
    "ActiveRun",
    "CalibrationResult",
    "Comparison",
    "Document",
    "Evaluation",
    "InputError",
    "PredictionTable",
    "Run",
    "RunCardError",
    "__version__",
    "calibrate",
    "card",
    "compare_predictions",
    "compare_runs",
    "delete_run",
    "evaluate",
    "evaluate_table",
    "get_run",
    "list_runs",
    "load_checkpoint",
    "load_predictions",
    "open_store",
    "start_run",
    "summary",
    "table_from_arrays",
    "write_predictions",
]
