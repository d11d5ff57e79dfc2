"""Self-BLEU per prompt group, computed by sacrebleu (never a hand-written BLEU).

For a group of m samples: sacrebleu's corpus BLEU with the m samples as hypotheses and, for
hypothesis i, the other m - 1 samples as its references (m - 1 reference streams), on its
defaults (13a tokenizer, exp smoothing, mixed case, BLEU-4). 0..100; higher = the samples are more
alike (less diverse). Only the first ``cap`` samples of a prompt (file order) take part: the cost
grows with m^2.

Left out, and counted: groups of one sample (no reference), and groups without a single 4-gram
(every sample under 4 tokens), whose BLEU-4 is undefined (sacrebleu returns 0 for them whatever
the overlap, which would read as "perfectly diverse").

>>> r = self_bleu([["the cat sat on the mat"] * 3, ["one two three four", "five six seven eight"], ["alone"]])
>>> [round(v, 6) for v in r.values.tolist()], r.valid.tolist(), r.single_sample
([100.0, 0.0, 0.0], [True, True, False], 1)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from runcard.errors import InputError

#: Samples per prompt that take part in Self-BLEU (the first ones in file order).
DEFAULT_CAP = 20


@dataclass(frozen=True, eq=False)
class SelfBleu:
    """Per-prompt Self-BLEU (``values``, 0..100) with ``valid`` marking the prompts it is defined for."""

    values: np.ndarray
    valid: np.ndarray
    single_sample: int  # prompts left out: one sample only
    no_4grams: int  # prompts left out: no hypothesis has a 4-gram
    capped: int  # prompts with more than `cap` samples (the rest ignored)
    signature: str


def _bleu() -> Any:
    try:
        from sacrebleu.metrics import BLEU
    except ImportError:
        raise InputError("Self-BLEU needs sacrebleu: pip install 'sacrebleu>=2.4' "
                         "(or pip install -e '.[generation]').") from None
    return BLEU()


def group_self_bleu(samples: Sequence[str], bleu: Any | None = None) -> Any:
    """sacrebleu's BLEUScore of one group: each sample against the others (needs 2+ samples)."""
    m = len(samples)
    if m < 2:
        raise ValueError("Self-BLEU needs at least two samples in a group.")
    bleu = bleu or _bleu()
    streams = [[samples[i if i < j else i + 1] for j in range(m)] for i in range(m - 1)]
    # stream s holds, for hypothesis j, the s-th of the other samples (in order)
    return bleu.corpus_score(list(samples), streams)


def self_bleu(groups: Sequence[Sequence[str]], *, cap: int = DEFAULT_CAP,
              progress: Callable[[int], None] | None = None) -> SelfBleu:
    """Self-BLEU of every prompt group (one list of samples per prompt, file order)."""
    if cap < 2:
        raise InputError(f"self-BLEU cap {cap}: needs at least 2 samples per prompt.")
    bleu = _bleu()
    values = np.zeros(len(groups))
    valid = np.zeros(len(groups), dtype=bool)
    single = short = capped = 0
    for p, group in enumerate(groups):
        capped += len(group) > cap
        kept = list(group[:cap])
        if len(kept) < 2:
            single += 1
        else:
            score = group_self_bleu(kept, bleu)
            if score.totals[3] == 0:
                short += 1
            else:
                values[p], valid[p] = score.score, True
        if progress is not None:
            progress(len(group))
    return SelfBleu(values, valid, single, short, capped, signature(bleu))


def signature(bleu: Any | None = None) -> str:
    """sacrebleu's signature of the settings, with ``nrefs:m-1`` (it varies by group)."""
    bleu = bleu or _bleu()
    import sacrebleu

    return (f"nrefs:m-1|case:{'lc' if bleu.lowercase else 'mixed'}|eff:{'yes' if bleu.effective_order else 'no'}|"
            f"tok:{bleu.tokenizer.signature()}|smooth:{bleu.smooth_method}|version:{sacrebleu.__version__}")
