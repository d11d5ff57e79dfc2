"""Shared helpers and hypothesis strategies for the suite."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

settings.register_profile("runcard", deadline=None, max_examples=60,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("runcard")


def random_probs(rng: np.random.Generator, n: int, k: int, *, sharpness: float = 1.0) -> np.ndarray:
    """Softmax of Gaussian logits: continuous, so ties have probability zero."""
    z = rng.normal(size=(n, k)) * sharpness
    p = np.exp(z - z.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


@st.composite
def prediction_cases(draw: st.DrawFn, max_classes: int = 50, max_rows: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """(codes, probs) cases: 2 to ``max_classes`` classes, 1 to ``max_rows`` rows, sometimes a
    class with zero support and sometimes a class that is never predicted."""
    k = draw(st.sampled_from([2, 3, 5, 10, max_classes]) | st.integers(2, max_classes))
    n = draw(st.sampled_from([1, 2, 7]) | st.integers(1, max_rows))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    probs = random_probs(rng, n, k, sharpness=draw(st.sampled_from([0.3, 1.0, 3.0])))
    codes = rng.integers(0, k, n)
    if draw(st.booleans()) and k > 2:
        absent = int(rng.integers(0, k))  # a class with no true examples
        codes[codes == absent] = (absent + 1) % k
    if draw(st.booleans()):
        never = int(rng.integers(0, k))  # a class that is never the argmax
        probs[:, never] *= 1e-3
        probs /= probs.sum(axis=1, keepdims=True)
    return codes, probs


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)
