"""Set scoring and advantages against a brute-force computation written out with itertools."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from runcard.recipes.polychromic.sets import (
    all_sets,
    cosine_matrix,
    polychromic_advantages,
    reinforce_scale,
    sample_advantages,
    set_diversity,
    set_scores,
)


def clusters_brute(members: tuple[int, ...], similarity: np.ndarray, threshold: float) -> int:
    """Connected components by union-find over the members' pairs at or above the threshold."""
    parent = {m: m for m in members}

    def root(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b in itertools.combinations(members, 2):
        if similarity[a, b] >= threshold:
            parent[root(a)] = root(b)
    return len({root(m) for m in members})


def advantages_brute(passed: np.ndarray, similarity: np.ndarray, lam: float, k: int, threshold: float) -> np.ndarray:
    """The paper's recipe, literally: score every set, centre, average over each sample's sets."""
    n = len(passed)
    sets = list(itertools.combinations(range(n), k))
    scores = {s: np.mean([passed[i] for i in s]) * (clusters_brute(s, similarity, threshold) / k) ** lam
              for s in sets}
    mean = np.mean(list(scores.values()))
    return np.array([np.mean([scores[s] - mean for s in sets if i in s]) for i in range(n)])


def random_case(seed: int, n: int = 8) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    passed = (rng.random(n) < 0.4).astype(float)
    vectors = rng.normal(size=(n, 3))
    vectors[n // 2:] = vectors[: n - n // 2] + 0.1 * rng.normal(size=(n - n // 2, 3))  # near-duplicates
    return passed, cosine_matrix(vectors)


def test_all_sets_are_the_70_subsets_of_4_of_8() -> None:
    sets = all_sets(8, 4)
    assert sets.shape == (70, 4)
    assert [tuple(s) for s in sets.tolist()] == list(itertools.combinations(range(8), 4))
    assert np.all(np.bincount(sets.ravel()) == 35)  # each sample is in C(7, 3) sets


@pytest.mark.parametrize("lam", [0.0, 0.3, 1.0, 2.0])
@pytest.mark.parametrize("seed", range(6))
def test_advantages_match_brute_force(seed: int, lam: float) -> None:
    passed, similarity = random_case(seed)
    got = polychromic_advantages(passed, similarity, lam=lam, set_size=4, threshold=0.8)
    np.testing.assert_allclose(got.total, advantages_brute(passed, similarity, lam, 4, 0.8), atol=1e-12)
    np.testing.assert_allclose(got.quality + got.diversity, got.total, atol=1e-15)
    np.testing.assert_allclose(got.quality, advantages_brute(passed, similarity, 0.0, 4, 0.8), atol=1e-12)


@given(st.integers(0, 2**32 - 1), st.floats(-0.5, 0.99))
def test_set_diversity_counts_connected_components(seed: int, threshold: float) -> None:
    _, similarity = random_case(seed)
    sets = all_sets(8, 4)
    expected = [clusters_brute(tuple(s), similarity, threshold) / 4 for s in sets.tolist()]
    np.testing.assert_allclose(set_diversity(similarity, sets, threshold), expected)


def test_a_chain_is_one_cluster() -> None:
    """Single link: a ~ b and b ~ c put a and c in one cluster even when a and c are far apart."""
    similarity = np.eye(4)
    similarity[0, 1] = similarity[1, 0] = similarity[1, 2] = similarity[2, 1] = 0.9
    assert set_diversity(similarity, np.array([[0, 1, 2, 3]]), 0.8).tolist() == [0.5]


@pytest.mark.parametrize(("n", "k"), [(8, 4), (8, 2), (6, 3), (5, 1), (4, 4)])
@pytest.mark.parametrize("seed", range(4))
def test_lambda_zero_is_set_level_reinforce(seed: int, n: int, k: int) -> None:
    """At lambda = 0 a set's score is its mean pass, and each sample's mean centred set score equals
    REINFORCE with the mean baseline, scaled by (N - n) / (n (N - 1))."""
    passed, similarity = random_case(seed, n)
    sets = all_sets(n, k)
    set_level = sample_advantages(passed[sets].mean(axis=1), sets, n)  # REINFORCE on sets, credited to members
    got = polychromic_advantages(passed, similarity, lam=0.0, set_size=k, threshold=0.5)
    np.testing.assert_allclose(got.total, set_level, atol=1e-12)
    np.testing.assert_allclose(got.total, (passed - passed.mean()) * reinforce_scale(n, k), atol=1e-12)
    assert np.all(got.diversity == 0)


def test_diversity_raises_the_advantage_of_a_distinct_passing_sample() -> None:
    """Two passing samples: one a near-duplicate of failing samples, one distinct. With lambda > 0 the
    distinct one gets the larger advantage; at lambda = 0 they are equal."""
    vectors = np.array([[1.0, 0, 0]] * 7 + [[0, 1.0, 0]])
    passed = np.array([1.0, 0, 0, 0, 0, 0, 0, 1.0])
    similarity = cosine_matrix(vectors)
    flat = polychromic_advantages(passed, similarity, lam=0.0, set_size=4, threshold=0.9)
    assert flat.total[0] == pytest.approx(flat.total[7])
    diverse = polychromic_advantages(passed, similarity, lam=1.0, set_size=4, threshold=0.9)
    assert diverse.total[7] > diverse.total[0]
    assert diverse.diversity[7] > diverse.diversity[0]


def test_scores_with_no_pass_are_zero_whatever_lambda() -> None:
    sets = all_sets(8, 4)
    assert np.all(set_scores(np.zeros(8), np.full(70, 0.5), sets, lam=2.0) == 0)
    assert np.all(sample_advantages(np.zeros(70), sets, 8) == 0)
