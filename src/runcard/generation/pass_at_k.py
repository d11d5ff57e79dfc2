"""Unbiased pass@k (Chen et al. 2021, "Evaluating Large Language Models Trained on Code").

For a prompt with n samples of which c passed, the probability that at least one of k samples
drawn without replacement passes is ``1 - C(n - c, k) / C(n, k)``, computed in the numerically
stable product form ``1 - prod_{i = n - c + 1}^{n} (1 - k / i)`` (1 when n - c < k). The
system's pass@k is the mean over prompts.

>>> round(float(pass_at_k(np.array([6]), np.array([3]), 1)[0]), 12)
0.5
>>> pass_at_k(np.array([10, 10]), np.array([0, 10]), 5).tolist()
[0.0, 1.0]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from runcard.errors import InputError

#: The k reported when none is asked for (those above the smallest sample count are dropped).
DEFAULT_KS = (1, 5, 10)


def pass_at_k(n: np.ndarray, c: np.ndarray, k: int) -> np.ndarray:
    """Per-prompt unbiased pass@k from sample counts ``n`` and pass counts ``c`` (shape ``(prompts,)``).

    Each distinct (n, c) pair is computed once, with the product form of OpenAI's human-eval.
    """
    n = np.asarray(n, dtype=np.int64)
    c = np.asarray(c, dtype=np.int64)
    out = np.empty(len(n))
    pairs, inverse = np.unique(np.stack([n, c], axis=1), axis=0, return_inverse=True)
    values = np.array([1.0 if ni - ci < k else 1.0 - float(np.prod(1.0 - k / np.arange(ni - ci + 1, ni + 1)))
                       for ni, ci in pairs.tolist()])
    out[:] = values[inverse.reshape(-1)]
    return out


def check_ks(ks: Sequence[int], n: np.ndarray, prompts: Sequence[str], where: str) -> None:
    """Every k must be >= 1 and at most the smallest sample count of any prompt."""
    for k in ks:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise InputError(f"pass@k: k = {k!r}; use whole numbers >= 1, e.g. --k 1,5,10.")
        short = np.flatnonzero(n < k)
        if len(short):
            first = int(short[np.argmin(n[short])])
            raise InputError(
                f"{where}: pass@{k} needs at least {k} samples per prompt, but prompt {prompts[first]!r} has "
                f"{int(n[first])} ({len(short)} prompts have fewer than {k}); ask for k <= {int(n.min())} "
                "or draw more samples."
            )
