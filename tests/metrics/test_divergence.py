"""KL and Jensen-Shannon against scipy on random distributions."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import entropy

from runcard.metrics.divergence import KL_CLIP, js_distance_rows, js_divergence_rows, kl_rows


@pytest.mark.parametrize("k", [2, 3, 10])
def test_against_scipy(rng: np.random.Generator, k: int) -> None:
    target = rng.dirichlet(np.ones(k) * 0.5, size=200)
    probs = rng.dirichlet(np.ones(k), size=200)
    probs[:5, 0] = 0.0  # zeros in the model: KL clips them
    probs /= probs.sum(axis=1, keepdims=True)
    target[5:10, -1] = 0.0  # zeros in the target: 0 log 0 = 0
    target /= target.sum(axis=1, keepdims=True)
    clipped = np.clip(probs, KL_CLIP, None)
    clipped /= clipped.sum(axis=1, keepdims=True)
    kl_ref = np.array([entropy(t, q) for t, q in zip(target, clipped)])
    js_ref = np.array([jensenshannon(t, q) for t, q in zip(target, probs)])
    np.testing.assert_allclose(kl_rows(target, probs), kl_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(js_distance_rows(target, probs), js_ref, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(js_divergence_rows(target, probs), js_ref**2, rtol=1e-9, atol=1e-12)


def test_identical_distributions_have_zero_divergence(rng: np.random.Generator) -> None:
    p = rng.dirichlet(np.ones(4), size=50)
    assert np.allclose(kl_rows(p, p), 0.0, atol=1e-12)
    assert np.allclose(js_distance_rows(p, p), 0.0, atol=1e-7)
