"""Post-hoc calibration maps fitted on validation logits: temperature and vector scaling.

Both minimise the mean negative log-likelihood of the true class. Temperature scaling divides
every logit by one ``T > 0``, which never changes a row's argmax; vector scaling learns a weight
and a bias per class, which can. When only probabilities exist, their logs serve as logits (a
softmax is invariant to the per-row constant that this loses).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from runcard.logits import logsumexp, softmax
from runcard.metrics.probabilistic import gather

#: Search interval for the temperature.
TEMPERATURE_BOUNDS: tuple[float, float] = (0.01, 100.0)



def nll_of_logits(logits: np.ndarray, y: np.ndarray) -> float:
    """Mean ``-log softmax(logits)[y]``, computed in log space."""
    return float((logsumexp(logits) - gather(logits, y)).mean())


@dataclass(frozen=True)
class TemperatureScaling:
    """``softmax(z / T)``. ``at_bound`` is True when the optimum lies at a search bound."""

    temperature: float
    at_bound: bool = False

    def transform(self, logits: np.ndarray) -> np.ndarray:
        """Scaled logits."""
        return logits / self.temperature

    def params(self) -> dict[str, Any]:
        return {"temperature": self.temperature}


@dataclass(frozen=True)
class VectorScaling:
    """``softmax(z * w + b)`` with one weight and one bias per class."""

    weights: np.ndarray
    bias: np.ndarray
    converged: bool = field(default=True)

    def transform(self, logits: np.ndarray) -> np.ndarray:
        """Scaled and shifted logits."""
        return logits * self.weights + self.bias

    def params(self) -> dict[str, Any]:
        return {"weights": self.weights.tolist(), "bias": self.bias.tolist()}


def fit_temperature(
    logits: np.ndarray, y: np.ndarray, *, bounds: tuple[float, float] = TEMPERATURE_BOUNDS
) -> TemperatureScaling:
    """Fit ``T`` by minimising validation NLL.

    The NLL is convex in ``beta = 1/T``, so its derivative
    ``mean_i(sum_k softmax(beta z_i)_k z_ik - z_iy)`` is increasing and has one root, found to
    1e-12 by Brent's method. If the derivative does not change sign inside ``bounds`` the
    optimum is at a bound, and ``at_bound`` says so.
    """
    from scipy.optimize import brentq  # imported on use: keeps CLI start-up fast

    target = float(gather(logits, y).mean())

    def slope(beta: float) -> float:
        return float(np.einsum("ij,ij->", softmax(beta * logits), logits)) / len(logits) - target

    beta_lo, beta_hi = 1.0 / bounds[1], 1.0 / bounds[0]
    if slope(beta_lo) >= 0:
        return TemperatureScaling(bounds[1], at_bound=True)
    if slope(beta_hi) <= 0:
        return TemperatureScaling(bounds[0], at_bound=True)
    beta = brentq(slope, beta_lo, beta_hi, xtol=1e-12, rtol=1e-12)
    return TemperatureScaling(1.0 / beta)


def fit_vector_scaling(logits: np.ndarray, y: np.ndarray) -> VectorScaling:
    """Fit per-class weights and biases by L-BFGS on validation NLL, starting from temperature scaling."""
    from scipy.optimize import minimize  # imported on use: keeps CLI start-up fast

    n, k = logits.shape
    onehot = np.zeros((n, k))
    onehot[np.arange(n), y] = 1.0
    start = 1.0 / fit_temperature(logits, y).temperature

    def loss_and_grad(x: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = x[:k], x[k:]
        z = logits * w + b
        lse = logsumexp(z)
        loss = float((lse - gather(z, y)).mean())
        residual = (np.exp(z - lse[:, None]) - onehot) / n
        return loss, np.concatenate([(residual * logits).sum(axis=0), residual.sum(axis=0)])

    x0 = np.concatenate([np.full(k, start), np.zeros(k)])
    result = minimize(loss_and_grad, x0, jac=True, method="L-BFGS-B", options={"maxiter": 1000, "gtol": 1e-9})
    return VectorScaling(weights=result.x[:k].copy(), bias=result.x[k:].copy(), converged=bool(result.success))
