"""What is computed from a run's stored predictions, computed once and kept in the store.

An evaluation of one predictions artifact (a split, or ``split/task``) with the run's `EvalSettings` is
stored under the predictions' sha256 and the settings' key the first time anything asks for it (at
`log_predictions` time for tracked runs); every document then reads that record, so the card written by a
recipe, `runcard card`, `compare`, `summary`, `runs`, `show` and a sweep's objective show one value.
Results built on evaluations (temperature scaling fitted on validation, decision rules) are kept the same
way, under the sha256 of every predictions file they read. Asked for other settings than the run's (e.g.
``runcard card RUN --bins 20``), these functions recompute and store nothing: the stored numbers stay the
run's.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from runcard._version import __version__
from runcard.errors import InputError
from runcard.eval_settings import EvalSettings
from runcard.evaluate import Evaluation, evaluate_table
from runcard.store.base import Record, Store
from runcard.store.predictions import load_artifact_table
from runcard.store.runs import Artifact, Run, latest_predictions
from runcard.table import PredictionTable

EVALUATION = "evaluation"


def keep_evaluation(store: Store, run_id: str, key: str, sha256: str, settings: EvalSettings, ev: Evaluation) -> None:
    """Store ``ev``, the evaluation of the predictions ``sha256`` (``key``) of run ``run_id`` with its settings."""
    _keep(store, run_id, settings, Record(EVALUATION, key, sha256, settings.key, json.dumps(ev.to_record()),
                                          __version__, time.time(), ev.named_scores(f"{key}/")))


def _keep(store: Store, run_id: str, settings: EvalSettings, record: Record) -> None:
    """Keep a computed record. A read-only store keeps nothing: the result is recomputed, from the same
    stored inputs with the same settings (so the same numbers), each time it is read."""
    if store.read_only:
        return
    store.set_eval_settings(run_id, settings.to_dict())
    store.put_record(run_id, record)


def evaluate_and_keep(store: Store, run_id: str, key: str, sha256: str, table: PredictionTable,
                      settings: EvalSettings) -> Evaluation:
    """Evaluate freshly logged predictions with the run's settings and store the result."""
    ev = _round_trip(evaluate_table(table, settings=settings))
    keep_evaluation(store, run_id, key, sha256, settings, ev)
    return ev


def _round_trip(ev: Evaluation) -> Evaluation:
    """``ev`` as a later reader gets it from the store, so the first document equals every later one."""
    return Evaluation.from_record(json.loads(json.dumps(ev.to_record())))


def _artifact(run: Run, key: str) -> Artifact:
    latest = latest_predictions(run.artifacts)
    if key not in latest:
        raise InputError(f"run {run.id} has no predictions for {key!r} (it has: {sorted(latest) or 'none'}).")
    return latest[key]


def stored_evaluation(store: Store, run: Run, key: str, settings: EvalSettings | None = None, *,
                      load: Callable[[], PredictionTable] | None = None) -> Evaluation:
    """The evaluation of ``run``'s latest predictions for ``key``: the stored one, else computed (from the
    table ``load()`` gives, when the caller reads tables itself) and stored. With ``settings`` other than the
    run's, computed and not stored."""
    art = _artifact(run, key)
    own = run.settings
    use = settings or own
    record = store.get_record(run.id, EVALUATION, key, art.sha256, use.key)
    if record is not None:
        return Evaluation.from_record(json.loads(record.payload))
    table = load() if load is not None else load_artifact_table(store, run, art)
    ev = _round_trip(evaluate_table(table, settings=use))
    if use.key == own.key:
        keep_evaluation(store, run.id, key, art.sha256, own, ev)
    return ev


def input_shas(run: Run, keys: list[str]) -> list[str]:
    """The sha256 of ``run``'s latest predictions for each of ``keys``."""
    return [_artifact(run, k).sha256 for k in keys]


def stored_result(store: Store, run: Run, kind: str, key: str, inputs: list[str], settings: EvalSettings | None,
                  compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """A JSON result built from ``run``'s stored artifacts (``inputs``: their sha256, e.g. `input_shas`): the
    stored one for these inputs and settings, else ``compute()`` stored (only with the run's settings)."""
    own = run.settings
    use = settings or own
    shas = "+".join(inputs)
    record = store.get_record(run.id, kind, key, shas, use.key)
    if record is not None:
        payload: dict[str, Any] = json.loads(record.payload)
        return payload
    result = json.loads(json.dumps(compute()))
    if use.key == own.key:
        _keep(store, run.id, own, Record(kind, key, shas, own.key, json.dumps(result), __version__, time.time()))
    return result
