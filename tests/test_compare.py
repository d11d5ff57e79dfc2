"""Paired comparison of two prediction tables."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from runcard import compare_predictions, table_from_arrays
from runcard.compare import compare_tables
from runcard.errors import InputError
from tests.conftest import random_probs


def two_systems(rng: np.random.Generator, n: int = 800, k: int = 4) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = rng.integers(0, k, n)
    pa = random_probs(rng, n, k)
    pb = pa.copy()
    better = rng.random(n) < 0.3  # B fixes some rows
    pb[better] = 0.01
    pb[better, y[better]] = 1.0
    pb /= pb.sum(axis=1, keepdims=True)
    return y, pa, pb


def test_difference_and_mcnemar_counts(rng: np.random.Generator) -> None:
    y, pa, pb = two_systems(rng)
    ids = np.array([f"x{i}" for i in range(len(y))])
    a = table_from_arrays(y, pa, ids=ids)
    b = table_from_arrays(y, pb, ids=ids)
    cmp = compare_predictions(a, b)
    acc_a = skm.accuracy_score(y, pa.argmax(1))
    acc_b = skm.accuracy_score(y, pb.argmax(1))
    assert cmp.difference["accuracy"] == pytest.approx(acc_b - acc_a)
    f1_a = skm.f1_score(y, pa.argmax(1), average="macro", labels=range(4), zero_division=0)
    f1_b = skm.f1_score(y, pb.argmax(1), average="macro", labels=range(4), zero_division=0)
    assert cmp.difference["macro_f1"] == pytest.approx(f1_b - f1_a)
    right_a, right_b = pa.argmax(1) == y, pb.argmax(1) == y
    assert cmp.only_a_correct == int((right_a & ~right_b).sum())
    assert cmp.only_b_correct == int((right_b & ~right_a).sum())
    lo, hi = cmp.ci95["accuracy"]
    assert lo <= cmp.difference["accuracy"] <= hi
    assert cmp.p_value < 1e-6 and lo > 0
    assert cmp.paired_by == "id"


def test_paired_ci_matches_a_row_bootstrap(rng: np.random.Generator) -> None:
    y, pa, pb = two_systems(rng, n=500)
    cmp = compare_predictions(table_from_arrays(y, pa), table_from_arrays(y, pb), n_boot=4000, seed=3)
    right_a, right_b = pa.argmax(1) == y, pb.argmax(1) == y
    rows = np.random.default_rng(9).integers(0, len(y), size=(4000, len(y)))
    diffs = right_b[rows].mean(axis=1) - right_a[rows].mean(axis=1)
    ref_lo, ref_hi = np.percentile(diffs, [2.5, 97.5])
    lo, hi = cmp.ci95["accuracy"]
    width = ref_hi - ref_lo
    assert lo == pytest.approx(ref_lo, abs=0.08 * width)
    assert hi == pytest.approx(ref_hi, abs=0.08 * width)


def test_rows_are_paired_by_id_not_position(rng: np.random.Generator) -> None:
    y, pa, pb = two_systems(rng, n=300)
    ids = np.array([f"r{i}" for i in range(300)])
    order = rng.permutation(300)
    shuffled = compare_predictions(table_from_arrays(y, pa, ids=ids), table_from_arrays(y[order], pb[order], ids=ids[order]))
    aligned = compare_predictions(table_from_arrays(y, pa, ids=ids), table_from_arrays(y, pb, ids=ids))
    assert shuffled.difference == aligned.difference
    assert shuffled.ci95 == aligned.ci95


def test_identical_systems_have_p_one(rng: np.random.Generator) -> None:
    y, pa, _ = two_systems(rng, n=100)
    cmp = compare_predictions(table_from_arrays(y, pa), table_from_arrays(y, pa))
    assert cmp.p_value == 1.0 and cmp.difference["accuracy"] == 0.0 and cmp.ci95["accuracy"] == (0.0, 0.0)


def test_mismatches_are_errors(rng: np.random.Generator) -> None:
    y, pa, pb = two_systems(rng, n=50)
    ids = np.array([f"r{i}" for i in range(50)])
    other_ids = ids.copy()
    other_ids[0] = "zzz"
    with pytest.raises(InputError, match="different ids"):
        compare_predictions(table_from_arrays(y, pa, ids=ids), table_from_arrays(y, pb, ids=other_ids))
    flipped = y.copy()
    flipped[3] = (flipped[3] + 1) % 4
    with pytest.raises(InputError, match="id 'r3': label"):
        compare_predictions(table_from_arrays(y, pa, ids=ids), table_from_arrays(flipped, pb, ids=ids))
    with pytest.raises(InputError, match="only one of"):
        compare_predictions(table_from_arrays(y, pa, ids=ids), table_from_arrays(y, pb))


def test_per_class_f1_differences_match_sklearn_and_a_row_bootstrap(rng: np.random.Generator) -> None:
    y, pa, pb = two_systems(rng, n=400, k=3)
    cmp = compare_predictions(table_from_arrays(y, pa), table_from_arrays(y, pb), n_boot=3000, seed=1)
    f1_a = skm.f1_score(y, pa.argmax(1), average=None, labels=range(3), zero_division=0)
    f1_b = skm.f1_score(y, pb.argmax(1), average=None, labels=range(3), zero_division=0)
    assert [cmp.f1[str(c)][0] for c in range(3)] == pytest.approx(f1_a.tolist())
    assert [cmp.f1[str(c)][1] for c in range(3)] == pytest.approx(f1_b.tolist())
    rows = np.random.default_rng(4).integers(0, len(y), size=(1500, len(y)))
    for c in range(3):
        diffs = [skm.f1_score(y[r], pb.argmax(1)[r], labels=[c], average=None, zero_division=0)[0]
                 - skm.f1_score(y[r], pa.argmax(1)[r], labels=[c], average=None, zero_division=0)[0] for r in rows]
        ref_lo, ref_hi = np.percentile(diffs, [2.5, 97.5])
        lo, hi = cmp.f1_ci95[str(c)]
        width = ref_hi - ref_lo
        assert lo == pytest.approx(ref_lo, abs=0.1 * width) and hi == pytest.approx(ref_hi, abs=0.1 * width)
    entry = cmp.to_dict()["per_class_f1"]["2"]
    assert entry["b_minus_a"] == pytest.approx(f1_b[2] - f1_a[2])


def test_minimum_detectable_difference_is_the_normal_power_formula() -> None:
    from scipy.stats import norm

    from runcard.compare import mcnemar_se, minimum_detectable

    assert minimum_detectable(0.01) == pytest.approx((norm.ppf(0.975) + norm.ppf(0.8)) * 0.01)
    assert minimum_detectable(0.01, alpha=0.01, power=0.9) == pytest.approx((norm.ppf(0.995) + norm.ppf(0.9)) * 0.01)
    assert mcnemar_se(30, 10, 1000) == pytest.approx(np.sqrt(40 / 1000 / 1000))


def test_a_difference_the_size_of_the_detectable_one_is_found_four_times_in_five() -> None:
    """Power by simulation: pairs of systems whose true accuracy gap equals the minimum detectable difference
    (from the discordance), tested as the comparison tests them; about 80 % of the tests reject."""
    from runcard.compare import mcnemar_se, minimum_detectable

    rng = np.random.default_rng(0)
    n, discordant = 2000, 0.2
    gap = minimum_detectable(mcnemar_se(int(discordant * n / 2), int(discordant * n / 2), n))
    cells = [0.7, 0.1, (discordant - gap) / 2, (discordant + gap) / 2]  # both right, both wrong, only A, only B
    rejected = 0
    trials = 300
    for _ in range(trials):
        kind = rng.choice(4, size=n, p=cells)
        y = rng.integers(0, 2, n)
        right_a, right_b = np.isin(kind, [0, 2]), np.isin(kind, [0, 3])
        a = table_from_arrays(y, np.eye(2)[np.where(right_a, y, 1 - y)] * 0.8 + 0.1)
        b = table_from_arrays(y, np.eye(2)[np.where(right_b, y, 1 - y)] * 0.8 + 0.1)
        rejected += compare_tables(a, b, n_boot=300, seed=1).p_values["accuracy"] < 0.05
    assert 0.72 <= rejected / trials <= 0.88  # 0.8 within about 3.5 binomial standard errors
