"""Temperature and vector scaling, and the table-level calibrate step."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from runcard import calibrate, table_from_arrays
from runcard.calibration import fit_temperature, fit_vector_scaling, nll_of_logits
from runcard.errors import InputError
from runcard.logits import softmax


def sample_labels(rng: np.random.Generator, logits: np.ndarray) -> np.ndarray:
    """Draw each row's label from softmax(logits): a perfectly calibrated labelling."""
    probs = softmax(logits.copy())
    u = rng.random(len(probs))[:, None]
    return (probs.cumsum(axis=1) < u).sum(axis=1)


@pytest.mark.parametrize("true_t", [0.5, 1.0, 2.5])
def test_recovers_a_known_temperature(rng: np.random.Generator, true_t: float) -> None:
    """Labels drawn from softmax(z / T0): fitting on z must find T close to T0."""
    z = rng.normal(size=(20_000, 5)) * 3.0
    y = sample_labels(rng, z / true_t)
    fitted = fit_temperature(z, y)
    assert not fitted.at_bound
    assert fitted.temperature == pytest.approx(true_t, rel=0.05)


def test_temperature_is_the_nll_minimiser(rng: np.random.Generator) -> None:
    z = rng.normal(size=(3000, 4)) * 2.0
    y = sample_labels(rng, z / 1.7)
    fitted = fit_temperature(z, y)
    reference = minimize_scalar(lambda t: nll_of_logits(z / t, y), bounds=(0.01, 100), method="bounded",
                                options={"xatol": 1e-10})
    assert fitted.temperature == pytest.approx(reference.x, rel=1e-5)


def test_log_probabilities_give_the_same_temperature(rng: np.random.Generator) -> None:
    z = rng.normal(size=(5000, 3)) * 2.0
    y = sample_labels(rng, z / 0.8)
    from_logits = fit_temperature(z, y).temperature
    from_probs = fit_temperature(np.log(softmax(z.copy())), y).temperature
    assert from_probs == pytest.approx(from_logits, rel=1e-8)


def test_separable_data_hits_the_bound_and_says_so() -> None:
    z = np.array([[5.0, 0.0], [0.0, 5.0]] * 50)
    y = np.array([0, 1] * 50)
    fitted = fit_temperature(z, y)
    assert fitted.at_bound and fitted.temperature == 0.01


def test_vector_scaling_does_at_least_as_well_as_temperature(rng: np.random.Generator) -> None:
    z = rng.normal(size=(4000, 4)) * 2.0
    y = sample_labels(rng, z * np.array([0.5, 1.0, 1.5, 1.0]) + np.array([0.3, 0.0, -0.2, 0.1]))
    vector = fit_vector_scaling(z, y)
    temperature = fit_temperature(z, y)
    assert vector.converged
    assert nll_of_logits(vector.transform(z), y) <= nll_of_logits(temperature.transform(z), y) + 1e-9
    np.testing.assert_allclose(vector.weights, [0.5, 1.0, 1.5, 1.0], atol=0.15)


def test_calibrate_tables_reports_before_after_and_keeps_argmax(rng: np.random.Generator) -> None:
    z_val, z_test = rng.normal(size=(2000, 3)) * 4, rng.normal(size=(1000, 3)) * 4
    y_val, y_test = sample_labels(rng, z_val / 2.0), sample_labels(rng, z_test / 2.0)
    val = table_from_arrays(y_val, logits=z_val)
    test = table_from_arrays(y_test, logits=z_test)
    result = calibrate(val, test)
    assert result.scaler.temperature == pytest.approx(2.0, rel=0.1)
    assert result.argmax_invariant
    for split in ("val", "test"):
        assert result.after[split]["accuracy"] == result.before[split]["accuracy"]
        assert result.after[split]["nll"] < result.before[split]["nll"]
    d = result.to_dict()
    assert d["method"] == "temperature" and d["argmax_invariant"] is True
    assert set(d["splits"]) == {"val", "test"}


def test_calibrate_rejects_different_classes(rng: np.random.Generator) -> None:
    probs = softmax(rng.normal(size=(10, 2)))
    val = table_from_arrays(["a"] * 10, probs, classes=["a", "b"])
    test = table_from_arrays(["a"] * 10, probs, classes=["a", "c"])
    with pytest.raises(InputError, match="same classes"):
        calibrate(val, test)


def test_unknown_method_is_rejected(rng: np.random.Generator) -> None:
    table = table_from_arrays([0, 1], [[0.6, 0.4], [0.3, 0.7]])
    with pytest.raises(InputError, match="method: expected one of temperature, vector"):
        calibrate(table, method="platt")
