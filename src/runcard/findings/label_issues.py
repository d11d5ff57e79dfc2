"""Label issues by confident learning (Northcutt, Jiang, Chuang 2021, "Confident Learning: Estimating
Uncertainty in Dataset Labels", JAIR 70).

A row is a label issue when the model's out-of-sample probabilities confidently put it in another class
than its given label. The count is tested against what a calibrated model of the same predictions shows:
labels redrawn from the model's own probabilities, where every flag is noise by construction.
The flagging mirrors cleanlab's ``find_label_issues(labels, pred_probs, filter_by="confident_learning")``
(cleanlab 2.9) row for row; the tests check it against cleanlab itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np

from runcard.errors import InputError
from runcard.findings.finding import Finding
from runcard.table import PredictionTable

#: cleanlab's fuzzy comparison: a probability within this of a threshold counts as reaching it.
TOLERANCE = 1e-6
#: cleanlab's floor on a threshold (twice the tolerance), so that a zero threshold is never met by a zero prob.
THRESHOLD_FLOOR = 2 * TOLERANCE
#: rows listed in the evidence, and characters kept of each text.
MAX_ROWS = 25
TEXT_CHARS = 300
#: resamples of the calibrated null.
DRAWS = 200
METHOD = ("confident learning (Northcutt et al. 2021): per-class thresholds at the mean self-confidence, "
          "off-diagonal of the confident joint")


def _check(y: Any, probs: Any) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(probs, dtype=float)
    if p.ndim != 2 or p.shape[1] < 1:
        raise InputError(f"probs: expected an (N, K) array, got shape {p.shape}.")
    codes = np.asarray(y)
    if codes.shape != (len(p),) or not np.issubdtype(codes.dtype, np.integer):
        raise InputError(f"y: expected {len(p)} integer class codes, got shape {codes.shape} of {codes.dtype}.")
    if len(codes) and (codes.min() < 0 or codes.max() >= p.shape[1]):
        raise InputError(f"y: class codes must lie in [0, {p.shape[1] - 1}], found {codes.min()}..{codes.max()}.")
    return codes.astype(np.int64), p


def _thresholds(y: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Per class, the mean self-confidence of its rows (floored at `THRESHOLD_FLOOR`); inf for a class with
    no rows, so nothing is counted into it (cleanlab uses 2, the same for probabilities)."""
    order = np.argsort(y, kind="stable")  # each class's rows in row order: cleanlab's np.mean, to the bit
    scores = probs[order, y[order]]
    counts = np.bincount(y, minlength=probs.shape[1])
    ends = np.cumsum(counts)
    out = np.full(probs.shape[1], np.inf)
    for k in np.flatnonzero(counts):
        out[k] = np.mean(scores[ends[k] - counts[k]:ends[k]])
    return np.maximum(out, THRESHOLD_FLOOR)


def _guess(probs: np.ndarray, thresholds: np.ndarray, top: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(true-label guess, counted) per row: the one class at or above its threshold, or with several, the
    row's overall argmax (``top``), as cleanlab does; rows with none are not counted."""
    confident = probs >= thresholds - TOLERANCE
    n_confident = confident.sum(axis=1)
    return np.where(n_confident > 1, top, confident.argmax(axis=1)), n_confident > 0


def _flags(y: np.ndarray, probs: np.ndarray, top: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    thresholds = _thresholds(y, probs)
    guess, counted = _guess(probs, thresholds, top)
    off = np.flatnonzero(counted & (guess != y))
    bumped = probs[off].copy()  # cleanlab's last step: the given label, nudged up by the tolerance, is the argmax
    bumped[np.arange(len(off)), y[off]] += TOLERANCE
    issue = np.zeros(len(y), dtype=bool)
    issue[off[bumped.argmax(axis=1) != y[off]]] = True
    return thresholds, np.where(counted, guess, -1), issue


def confident_joint(y: Any, probs: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(thresholds (K,), joint (K, K) int, issue_mask (N,) bool) of given labels ``y`` and ``probs`` (N, K).

    Threshold t_j: the mean of ``probs[:, j]`` over rows labelled j (floored at 2e-6; inf for a class with no
    rows). A row is confident in class j when ``probs[i, j] >= t_j - 1e-6``; it is counted in
    ``joint[y_i, j]`` for its one confident class, or, with several, for its overall argmax (cleanlab's rule,
    which can pick a class below its threshold); rows confident in no class are not counted. ``joint`` is the
    raw count (cleanlab also raises its diagonal to at least 1 and calibrates it; neither changes the flags).
    Issues are the rows counted off the diagonal, less those whose given label is within 1e-6 of the row's top
    probability (ties broken towards the first class), as cleanlab's ``find_label_issues`` removes them.
    """
    codes, p = _check(y, probs)
    k = p.shape[1]
    thresholds, guess, issue = _flags(codes, p, p.argmax(axis=1))
    counted = guess >= 0
    joint = np.bincount(codes[counted] * k + guess[counted], minlength=k * k).reshape(k, k)
    return thresholds, joint, issue


@dataclass(frozen=True, eq=False)
class LabelIssues:
    """Confident-learning label issues of one table and the calibrated null of their count.

    ``rows``: the flagged rows, lowest self-confidence first, at most ``max_rows``; ``null``: the counts of
    the ``draws`` resamples; ``p_value``: the upper tail of the null at ``observed``, from the normal
    approximation to the draws (mean and standard deviation, continuity-corrected: the empirical share of 200
    draws cannot go below 1/201, which a document's budget may need), or the empirical share when the draws do
    not vary.
    """

    observed: int
    n: int
    thresholds: np.ndarray
    rows: tuple[dict[str, Any], ...]
    null: np.ndarray
    null_mean: float
    null_p95: float
    null_sd: float
    p_value: float


def _positive_int(value: Any, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise InputError(f"{name}={value!r}: give an integer >= {low}.")
    return int(value)


def calibrated_null(probs: np.ndarray, *, draws: int = DRAWS, seed: int = 0) -> np.ndarray:
    """Issue counts when labels are drawn from the model's own probabilities, ``y*_i ~ Categorical(probs[i])``:
    a calibrated model of the same predictions, where every flag is noise. ``(draws,)`` int."""
    rng = np.random.default_rng(seed)
    cum = np.cumsum(probs, axis=1)
    top = probs.argmax(axis=1)
    counts = np.empty(draws, dtype=np.int64)
    for d in range(draws):  # one (N, K) pass per draw; rows are vectorised
        u = rng.random(len(probs)) * cum[:, -1]
        y = (cum[:, :-1] < u[:, None]).sum(axis=1)
        counts[d] = np.count_nonzero(_flags(y, probs, top)[2])
    return counts


def _row(table: PredictionTable, i: int, suggested: int, confidence: float) -> dict[str, Any]:
    text = None if table.texts is None else str(table.texts[i])
    if text is not None and len(text) > TEXT_CHARS:
        text = text[: TEXT_CHARS - 1] + "…"
    return {"row": i, "id": None if table.ids is None else str(table.ids[i]), "text": text,
            "given": str(table.classes[int(table.y_true[i])]), "suggested": str(table.classes[suggested]),
            "self_confidence": confidence}


def default_draws(n: int, k: int) -> int:
    """`DRAWS` null draws up to 200,000 probabilities, fewer beyond (at least 30; the p-value reads the draws'
    mean and spread, which 30 estimate), so a card of 100,000 rows x 20 classes stays quick."""
    return max(30, min(DRAWS, int(DRAWS * NULL_CELLS / max(n * k, 1))))


#: Probabilities (rows x classes) the null may resample `DRAWS` times; beyond it, fewer draws.
NULL_CELLS = 200_000


def label_issues(table: PredictionTable, *, max_rows: int = MAX_ROWS, draws: int | None = None, seed: int = 0
                 ) -> LabelIssues:
    """The confident-learning issues of ``table`` (`confident_joint`), ranked by self-confidence
    (``probs[i, y_i]``, lowest first, ties by row), and their count's calibrated null (`calibrated_null`;
    ``draws`` default: `default_draws`)."""
    max_rows = _positive_int(max_rows, "max_rows", 0)
    draws = _positive_int(default_draws(table.n, table.n_classes) if draws is None else draws, "draws", 1)
    seed = _positive_int(seed, "seed", 0)
    y, probs = table.y_true.astype(np.int64), table.probs
    thresholds, guess, issue = _flags(y, probs, probs.argmax(axis=1))
    flagged = np.flatnonzero(issue)
    confidence = probs[flagged, y[flagged]]
    order = flagged[np.argsort(confidence, kind="stable")][:max_rows]
    rows = tuple(_row(table, int(i), int(guess[i]), float(probs[i, y[i]])) for i in order)
    null = calibrated_null(probs, draws=draws, seed=seed)
    observed = len(flagged)
    mean, sd = float(null.mean()), float(null.std(ddof=1)) if draws > 1 else 0.0
    if sd > 0:
        p_value = 1 - NormalDist(mean, sd).cdf(observed - 0.5)
    else:
        p_value = (np.count_nonzero(null >= observed) + 1) / (draws + 1)
    return LabelIssues(observed=observed, n=table.n, thresholds=thresholds, rows=rows, null=null, null_mean=mean,
                       null_p95=float(np.percentile(null, 95)), null_sd=sd, p_value=float(p_value))


def label_issue(table: PredictionTable, split: str, run: str = "", **kw: Any) -> list[Finding]:
    """A test of H0 "the labels are draws from the model's probabilities": the confident-learning issue count
    against `calibrated_null` (one candidate for the document's budget; eligible when the count exceeds the
    null's mean). ``kw`` goes to `label_issues`. None on fewer than 2 classes or 20 rows."""
    if table.n_classes < 2 or table.n < 20:
        return []
    found = label_issues(table, **kw)
    evidence = {
        "split": split, "n": found.n, "observed": found.observed, "null_mean": found.null_mean,
        "null_p95": found.null_p95, "null_sd": found.null_sd, "null_draws": len(found.null),
        "thresholds": {str(c): float(t) for c, t in zip(table.classes, found.thresholds)},
        "rows": [dict(r) for r in found.rows], "method": METHOD,
    }
    title = (f"{split}: {found.observed} rows whose label the model's out-of-sample probabilities contradict "
             f"(a calibrated model would show {found.null_mean:.0f} [95th pct {found.null_p95:.0f}]; "
             f"p = {found.p_value:.3g})")
    advice = ("Re-check these rows' labels (evidence.rows, least self-confident first); relabel or drop the wrong "
              "ones. They are evidence only on a split the model was not trained on.")
    return [Finding("label_issue", "warning", title, evidence, advice, runs=(run,) if run else (), splits=(split,),
                    impact=max(0.0, (found.observed - found.null_mean) / found.n), p_value=found.p_value,
                    eligible=found.observed > found.null_mean)]
