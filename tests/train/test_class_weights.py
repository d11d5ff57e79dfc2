"""Class weights against the inverse-frequency and effective-number formulas written out."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")  # the `train` extra; this module itself needs only numpy

from runcard.errors import InputError
from runcard.train.class_weights import class_weights

COUNTS = np.array([500, 120, 30, 7])


def test_inverse_formula() -> None:
    raw = COUNTS.sum() / (len(COUNTS) * COUNTS)
    np.testing.assert_allclose(class_weights(COUNTS), raw / raw.mean(), rtol=1e-12)
    assert class_weights(COUNTS).mean() == pytest.approx(1.0)


@pytest.mark.parametrize("beta", [0.9, 0.99, 0.999, 0.9999])
def test_effective_number_formula(beta: float) -> None:
    raw = np.array([(1 - beta) / (1 - beta**n) for n in COUNTS])
    got = class_weights(COUNTS, method="effective", beta=beta)
    np.testing.assert_allclose(got, raw / raw.mean(), rtol=1e-10)
    assert np.all(np.diff(got) > 0)  # rarer classes weigh more


def test_effective_limits() -> None:
    np.testing.assert_allclose(class_weights(COUNTS, method="effective", beta=1e-12), np.ones(4), rtol=1e-9)
    np.testing.assert_allclose(class_weights(COUNTS, method="effective", beta=0.0), np.ones(4))
    # beta -> 1 approaches inverse frequency.
    np.testing.assert_allclose(class_weights(COUNTS, method="effective", beta=1 - 1e-9), class_weights(COUNTS),
                               rtol=1e-5)


def test_none_boosts_and_cap() -> None:
    np.testing.assert_array_equal(class_weights(COUNTS, method="none"), np.ones(4))
    boosts = [1.0, 1.0, 4.0, 0.5]
    np.testing.assert_allclose(class_weights(COUNTS, boosts=boosts), class_weights(COUNTS) * boosts)
    capped = class_weights(COUNTS, boosts=boosts, cap=2.0)
    np.testing.assert_allclose(capped, np.minimum(class_weights(COUNTS) * boosts, 2.0))
    assert capped.max() == 2.0  # no renormalisation after the cap


def test_zero_count_names_the_class() -> None:
    with pytest.raises(InputError, match=r"class 2 .*no training rows cannot be weighted"):
        class_weights([10, 5, 0, 3])


@pytest.mark.parametrize("kwargs", [{"boosts": [1.0, 2.0]}, {"cap": 0.0}, {"method": "sqrt"},
                                    {"method": "effective", "beta": 1.0}, {"boosts": [1, 1, -1, 1]}])
def test_rejects_bad_arguments(kwargs: dict) -> None:
    with pytest.raises(InputError):
        class_weights(COUNTS, **kwargs)


@pytest.mark.parametrize("counts", [[], [[1, 2]], [3, -1], [2, float("nan")]])
def test_rejects_bad_counts(counts: list) -> None:
    with pytest.raises(InputError):
        class_weights(counts)
