"""Layer-wise learning-rate decay (LLRD) parameter groups and linear warmup for fine-tuning.

LLRD gives the top encoder layer the base rate and each layer below it ``decay`` times less, so
general low-level features move least (Howard & Ruder 2018; Sun et al. 2019). Parameter names
follow Hugging Face BERT-family models: ``embeddings.*``, ``encoder.layer.<i>.*``, ``pooler.*``.
"""

from __future__ import annotations

import math
import re
from functools import partial
from typing import Any

from torch import nn
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR

from runcard.errors import InputError

_LAYER = re.compile(r"(?:^|\.)layer\.(\d+)\.")
_EMBEDDING = re.compile(r"(?:^|\.)embed")


def _no_decay(name: str, norm_params: set[int], param: nn.Parameter) -> bool:
    """Biases and normalisation weights: decaying them only hurts (BERT's own recipe)."""
    return name == "bias" or name.endswith(".bias") or "norm" in name.lower() or id(param) in norm_params


def _norm_params(*modules: nn.Module) -> set[int]:
    """Ids of parameters owned by normalisation layers, whose names need not say "norm" (``head.1.weight``)."""
    return {id(p) for m in modules for sub in m.modules() if "norm" in type(sub).__name__.lower()
            for p in sub.parameters(recurse=False)}


def _block(name: str) -> tuple[str, int | None]:
    """(group name, layer index) of an encoder parameter."""
    match = _LAYER.search(name)
    if match:
        return f"layer.{match.group(1)}", int(match.group(1))
    if _EMBEDDING.search(name):
        return "embeddings", None
    return "other", None


def llrd_param_groups(
    encoder: nn.Module,
    head: nn.Module,
    *,
    lr: float,
    decay: float = 1.0,
    head_lr_multiplier: float = 1.0,
    weight_decay: float = 0.0,
) -> list[dict[str, Any]]:
    """Optimizer parameter groups with layer-wise learning-rate decay.

    With ``L`` encoder layers, layer ``i`` gets ``lr * decay**(L - 1 - i)``, embeddings
    ``lr * decay**L``, other encoder parameters (pooler, final norms) ``lr``, and the head
    ``lr * head_lr_multiplier``. Each block is split into a decayed group (named after the block:
    ``"embeddings"``, ``"layer.3"``, ``"other"``, ``"head"``) and a ``weight_decay=0`` group for
    biases and norm weights (``"<block>.no_decay"``): names ending in ``.bias`` or containing
    ``norm``, and the parameters of any module whose class name contains ``Norm``. Empty groups
    and frozen parameters are left out, so every trainable parameter is in exactly one group.
    Order: embeddings, layers bottom to top, other, head.
    """
    if not lr > 0:
        raise InputError(f"lr must be > 0; got {lr}.")
    if not decay > 0:
        raise InputError(f"decay must be > 0 (1 means no layer-wise decay); got {decay}.")
    if not head_lr_multiplier > 0:
        raise InputError(f"head_lr_multiplier must be > 0; got {head_lr_multiplier}.")
    if not weight_decay >= 0:
        raise InputError(f"weight_decay must be >= 0; got {weight_decay}.")
    enc = [(n, p) for n, p in encoder.named_parameters() if p.requires_grad]
    top = [(n, p) for n, p in head.named_parameters() if p.requires_grad]
    shared = {id(p) for _, p in enc} & {id(p) for _, p in top}
    if shared:
        raise InputError("encoder and head share parameters; pass a head whose parameters are its own.")
    layers = [i for n, _ in enc if (i := _block(n)[1]) is not None]
    n_layers = max(layers) + 1 if layers else 0
    lrs = {"embeddings": lr * decay**n_layers, "other": lr, "head": lr * head_lr_multiplier}
    lrs |= {f"layer.{i}": lr * decay ** (n_layers - 1 - i) for i in range(n_layers)}
    order = ["embeddings", *(f"layer.{i}" for i in range(n_layers)), "other", "head"]
    norms = _norm_params(encoder, head)
    buckets: dict[tuple[str, bool], list[nn.Parameter]] = {}
    for name, param in enc:
        buckets.setdefault((_block(name)[0], _no_decay(name, norms, param)), []).append(param)
    for name, param in top:
        buckets.setdefault(("head", _no_decay(name, norms, param)), []).append(param)
    groups = []
    for block in order:
        for no_decay in (False, True):
            params = buckets.get((block, no_decay))
            if params:
                groups.append({"params": params, "lr": lrs[block], "weight_decay": 0.0 if no_decay else weight_decay,
                               "name": f"{block}.no_decay" if no_decay else block})
    return groups


def warmup_linear(step: int, total_steps: int, warmup_steps: int) -> float:
    """Learning-rate multiplier: 0 to 1 linearly over ``warmup_steps``, then down to 0 at ``total_steps``.

    The definition of Hugging Face's ``get_linear_schedule_with_warmup``.

    >>> [warmup_linear(s, 10, 2) for s in (0, 1, 2, 6, 10, 12)]
    [0.0, 0.5, 1.0, 0.5, 0.0, 0.0]
    """
    if step < warmup_steps:
        return step / max(1, warmup_steps)
    return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))


def linear_warmup_scheduler(optimizer: Optimizer, total_steps: int, warmup_ratio: float) -> LambdaLR:
    """``LambdaLR`` applying ``warmup_linear`` to every group's own rate (LLRD ratios are kept).

    Warmup lasts ``ceil(total_steps * warmup_ratio)`` steps, as in Hugging Face's ``Trainer``.
    Call ``scheduler.step()`` after each ``optimizer.step()``.
    """
    if total_steps < 1:
        raise InputError(f"total_steps must be >= 1; got {total_steps}.")
    if not 0.0 <= warmup_ratio <= 1.0:
        raise InputError(f"warmup_ratio must be in [0, 1]; got {warmup_ratio}.")
    warmup_steps = math.ceil(total_steps * warmup_ratio)
    return LambdaLR(optimizer, partial(warmup_linear, total_steps=total_steps, warmup_steps=warmup_steps))
