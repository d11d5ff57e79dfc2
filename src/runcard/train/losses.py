"""Classification losses for imbalanced data: focal loss and R-Drop's symmetric KL.

``focal_loss`` with ``gamma=0`` is exactly ``torch.nn.functional.cross_entropy`` (same class
weights, label smoothing and ``mean`` convention), so one loss function covers both.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from runcard.errors import InputError

Reduction = Literal["mean", "sum", "none"]
REDUCTIONS: tuple[str, ...] = ("mean", "sum", "none")


def _check_logits(logits: Tensor, target: Tensor) -> int:
    if logits.ndim != 2:
        raise InputError(f"logits must have shape (N, K); got {tuple(logits.shape)}.")
    if target.ndim != 1 or target.shape[0] != logits.shape[0]:
        raise InputError(f"target must have shape ({logits.shape[0]},) to match logits; got {tuple(target.shape)}.")
    return int(logits.shape[1])


def focal_loss(
    logits: Tensor,
    target: Tensor,
    *,
    gamma: float = 0.0,
    weight: Tensor | None = None,
    label_smoothing: float = 0.0,
    reduction: Reduction = "mean",
) -> Tensor:
    """Focal loss (Lin et al. 2017) with class weights and label smoothing.

    ``logits`` ``(N, K)``, ``target`` ``(N,)`` class indices. With ``p = softmax(logits)`` the loss
    of row ``i`` is ``sum_k c_ik (1 - p_ik)**gamma (-log p_ik)`` where
    ``c_ik = w_k ((1 - eps) [k == y_i] + eps / K)``: ``gamma > 0`` down-weights rows the model
    already gets right. ``mean`` divides the summed loss by ``sum_i w_{y_i}`` (PyTorch's
    ``cross_entropy`` convention), ``sum`` sums, ``none`` returns the ``(N,)`` row losses.
    """
    k = _check_logits(logits, target)
    if gamma < 0:
        raise InputError(f"gamma must be >= 0; got {gamma}.")
    if not 0.0 <= label_smoothing <= 1.0:
        raise InputError(f"label_smoothing must be in [0, 1]; got {label_smoothing}.")
    if reduction not in REDUCTIONS:
        raise InputError(f"reduction must be one of {REDUCTIONS}; got {reduction!r}.")
    if weight is not None and tuple(weight.shape) != (k,):
        raise InputError(f"weight must have one entry per class, shape ({k},); got {tuple(weight.shape)}.")
    logp = F.log_softmax(logits, dim=1)
    nll = -logp
    if gamma != 0.0:
        # 1 - p computed as -expm1(log p): exact for confident rows where p is close to 1.
        nll = nll * (-torch.expm1(logp)).pow(gamma)
    w = torch.ones(k, dtype=logp.dtype, device=logp.device) if weight is None else weight.to(logp)
    y = target.long()
    w_y = w[y]
    rows = (1.0 - label_smoothing) * w_y * nll.gather(1, y[:, None]).squeeze(1)
    if label_smoothing > 0:
        rows = rows + (label_smoothing / k) * (nll * w).sum(dim=1)
    if reduction == "none":
        return rows
    if reduction == "sum":
        return rows.sum()
    return rows.sum() / w_y.sum()


def rdrop_kl(logits_a: Tensor, logits_b: Tensor) -> Tensor:
    """R-Drop's symmetric KL between two forward passes of the same batch (Liang et al. 2021).

    Mean over rows of ``0.5 (KL(p_a || p_b) + KL(p_b || p_a))``, each KL summed over classes;
    ``logits_*`` ``(N, K)``. Add ``alpha * rdrop_kl(a, b)`` to the task loss to make predictions
    robust to dropout.
    """
    if logits_a.shape != logits_b.shape or logits_a.ndim != 2:
        raise InputError(f"logits_a and logits_b must both have shape (N, K); got {tuple(logits_a.shape)} "
                         f"and {tuple(logits_b.shape)}.")
    logp_a = F.log_softmax(logits_a, dim=1)
    logp_b = F.log_softmax(logits_b, dim=1)
    # KL(a||b) + KL(b||a) = sum_k (p_a - p_b)(log p_a - log p_b).
    both = ((logp_a.exp() - logp_b.exp()) * (logp_a - logp_b)).sum(dim=1)
    return 0.5 * both.mean()


def soft_label_loss(
    logits: Tensor,
    target: Tensor,
    *,
    temperature: float = 1.0,
    label_smoothing: float = 0.0,
    entropy_reg: float = 0.0,
    max_suppression: float = 0.0,
    focal_gamma: float = 0.0,
) -> dict[str, Tensor]:
    """Loss terms for matching a target distribution ``(N, K)``, each a mean over rows.

    With ``p = softmax(logits / temperature)`` and ``t`` the target mixed with the uniform
    distribution by ``label_smoothing``: ``fit = sum_k t_k (1 - p_k)**focal_gamma (-log p_k)``
    (soft cross-entropy, i.e. KL(t || p) plus the constant entropy of t, when ``focal_gamma = 0``);
    ``entropy = -entropy_reg * H(p)`` (a confidence penalty: higher entropy lowers the loss);
    ``max_prob = max_suppression * max_k p_k``. The total is their sum (key ``total``).
    """
    if logits.ndim != 2 or target.shape != logits.shape:
        raise InputError(f"logits and target must both have shape (N, K); got {tuple(logits.shape)} and "
                         f"{tuple(target.shape)}.")
    if temperature <= 0:
        raise InputError(f"temperature must be > 0; got {temperature}.")
    k = logits.shape[1]
    logp = F.log_softmax(logits / temperature, dim=1)
    p = logp.exp()
    t = (1.0 - label_smoothing) * target.to(logp) + label_smoothing / k
    nll = -logp
    if focal_gamma:
        nll = nll * (-torch.expm1(logp)).pow(focal_gamma)
    terms = {"fit": (t * nll).sum(dim=1).mean()}
    if entropy_reg:
        terms["entropy"] = entropy_reg * (p * logp).sum(dim=1).mean()  # = -beta * H(p)
    if max_suppression:
        terms["max_prob"] = max_suppression * p.max(dim=1).values.mean()
    terms["total"] = sum(terms.values())  # type: ignore[assignment]
    return terms
