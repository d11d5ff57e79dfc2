"""Bootstrap over prompts: every generation metric as a ratio of per-prompt sums.

A metric that is a mean over prompts (pass@k, Self-BLEU, semantic diversity, per-prompt
distinct-n, quality) is ``sum_p v_p [p defined] / sum_p [p defined]``; corpus distinct-n is
``sum_p credit_p / sum_p total_p`` (`runcard.generation.distinct`). Resampling prompts with
replacement only changes how often each prompt counts, so a resample is
``(w @ num) / (w @ den)`` with ``w`` the prompts' multinomial draw counts. Systems compared on the
same prompts share the same draws: that is the paired bootstrap.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from runcard.stats import percentile_interval, resample_cells

#: Draw counts built at once are capped at this many cells (memory bound).
BATCH_CELLS = 4_000_000


@dataclass(frozen=True, eq=False)
class Ratio:
    """``sum(num) / sum(den)`` over prompts; ``exact`` overrides the point value (exact counts);
    ``per_prompt`` says whether ``num / den`` is the prompt's own value (a mean over prompts)."""

    num: np.ndarray
    den: np.ndarray
    exact: float | None = None
    per_prompt: bool = True

    @classmethod
    def mean_of(cls, values: np.ndarray, valid: np.ndarray) -> Ratio:
        """The mean of ``values`` over the prompts where ``valid``."""
        valid = np.asarray(valid, dtype=bool)
        return cls(np.where(valid, values, 0.0), valid.astype(np.float64))

    @property
    def prompts(self) -> int:
        """Prompts that count (non-zero denominator)."""
        return int(np.count_nonzero(self.den))

    def value(self) -> float:
        if self.exact is not None:
            return self.exact
        den = float(self.den.sum())
        return float(self.num.sum()) / den if den else float("nan")

    def resampled(self, weights: np.ndarray) -> np.ndarray:
        """Values under draw counts ``weights`` (shape ``(m, prompts)``): shape ``(m,)``, NaN where empty."""
        num, den = weights @ self.num, weights @ self.den
        return np.divide(num, den, out=np.full(len(weights), np.nan), where=den > 0)


def prompt_draws(n_prompts: int, n_boot: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Chunks of ``(m, n_prompts)`` draw counts, ``n_boot`` rows in all: each row is one resample of
    the prompts with replacement (a multinomial with equal probabilities), at most `BATCH_CELLS` at once."""
    chunk = max(1, BATCH_CELLS // max(n_prompts, 1))
    ones = np.ones(n_prompts, dtype=np.int64)
    for start in range(0, n_boot, chunk):
        yield resample_cells(ones, min(chunk, n_boot - start), rng)


def interval(samples: np.ndarray) -> tuple[float, float] | None:
    """95 % percentile interval of the finite resamples; None when fewer than half are finite
    (the metric is undefined on most resamples: too few prompts count)."""
    finite = samples[np.isfinite(samples)]
    if len(finite) == 0 or len(finite) < len(samples) / 2:
        return None
    lo, hi = percentile_interval(finite)
    return float(lo), float(hi)
