"""Pooling, classifier heads and a shared-encoder multi-task classifier.

The encoder is any Hugging Face model that returns ``hidden_states`` when called with
``output_hidden_states=True``; each task gets its own head on the same pooled vector.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import torch
from torch import Tensor, nn

from runcard.errors import InputError

Pooling = Literal["cls", "mean", "mean_last_k"]
POOLINGS: tuple[str, ...] = ("cls", "mean", "mean_last_k")


def masked_mean(hidden: Tensor, attention_mask: Tensor) -> Tensor:
    """Mean over the unmasked tokens: ``(B, T, H)``, mask ``(B, T)`` -> ``(B, H)``.

    A row with no unmasked token pools to zeros rather than NaN.
    """
    mask = attention_mask.to(hidden.dtype).unsqueeze(-1)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)


def pool(hidden_states: Sequence[Tensor], attention_mask: Tensor, method: Pooling, k: int = 4) -> Tensor:
    """One ``(B, H)`` vector per sequence from Hugging Face ``hidden_states``.

    ``hidden_states`` is the embeddings output followed by one ``(B, T, H)`` tensor per layer.
    ``cls``: the last layer at position 0. ``mean``: the last layer averaged over unmasked tokens.
    ``mean_last_k``: the last ``k`` layers averaged, then averaged over unmasked tokens (lower
    layers often carry features the top layer has specialised away).
    """
    if method not in POOLINGS:
        raise InputError(f"method must be one of {POOLINGS}; got {method!r}.")
    if len(hidden_states) < 2:
        raise InputError("hidden_states must hold the embeddings output and at least one layer; "
                         "call the encoder with output_hidden_states=True.")
    last = hidden_states[-1]
    if tuple(attention_mask.shape) != tuple(last.shape[:2]):
        raise InputError(f"attention_mask must have shape {tuple(last.shape[:2])}; got {tuple(attention_mask.shape)}.")
    if method == "cls":
        return last[:, 0]
    if method == "mean":
        return masked_mean(last, attention_mask)
    n_layers = len(hidden_states) - 1
    if not 1 <= k <= n_layers:
        raise InputError(f"k must be between 1 and the number of layers ({n_layers}) for mean_last_k; got {k}.")
    return masked_mean(torch.stack(list(hidden_states[-k:])).mean(dim=0), attention_mask)


class ClassifierHead(nn.Module):
    """Dropout -> Linear for ``depth=1``; for ``depth=d > 1``, Dropout then ``d - 1`` blocks of
    Linear -> GELU -> Dropout (width ``hidden``), then Linear to ``n_classes`` logits."""

    def __init__(self, in_dim: int, n_classes: int, *, depth: int = 1, hidden: int = 256, dropout: float = 0.1) -> None:
        super().__init__()
        if in_dim < 1 or n_classes < 1 or hidden < 1:
            raise InputError(f"in_dim, n_classes and hidden must be >= 1; got {in_dim}, {n_classes}, {hidden}.")
        if depth < 1:
            raise InputError(f"depth must be >= 1 (1 = a linear head); got {depth}.")
        if not 0.0 <= dropout < 1.0:
            raise InputError(f"dropout must be in [0, 1); got {dropout}.")
        layers: list[nn.Module] = [nn.Dropout(dropout)]
        width = in_dim
        for _ in range(depth - 1):
            layers += [nn.Linear(width, hidden), nn.GELU(), nn.Dropout(dropout)]
            width = hidden
        layers.append(nn.Linear(width, n_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        """``(B, in_dim)`` -> ``(B, n_classes)`` logits."""
        out: Tensor = self.net(x)
        return out


class MultiTaskModel(nn.Module):
    """One shared encoder, one ``ClassifierHead`` per task on the same pooled vector.

    ``tasks`` maps task name -> number of classes; ``forward`` returns task -> ``(B, K_task)``
    logits in the order of ``tasks``. ``pooling`` and ``k`` are as in ``pool``; the head options
    as in ``ClassifierHead``. The pooled width is ``encoder.config.hidden_size``.
    """

    def __init__(
        self,
        encoder: nn.Module,
        tasks: Mapping[str, int],
        *,
        pooling: Pooling = "mean",
        k: int = 4,
        depth: int = 1,
        hidden: int = 256,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        if not tasks:
            raise InputError("tasks must name at least one task: {task name: number of classes}.")
        bad = [t for t in tasks if not t or "." in t]
        if bad:
            raise InputError(f"task names must be non-empty and contain no '.'; got {bad}.")
        if pooling not in POOLINGS:
            raise InputError(f"pooling must be one of {POOLINGS}; got {pooling!r}.")
        config: Any = getattr(encoder, "config", None)
        if config is None or not hasattr(config, "hidden_size"):
            raise InputError("encoder must be a Hugging Face model with config.hidden_size.")
        n_layers = getattr(config, "num_hidden_layers", None)
        if pooling == "mean_last_k" and n_layers is not None and not 1 <= k <= n_layers:
            raise InputError(f"k must be between 1 and the encoder's {n_layers} layers for mean_last_k; got {k}.")
        self.encoder = encoder
        self.pooling: Pooling = pooling
        self.k = k
        self.tasks = dict(tasks)
        self.heads = nn.ModuleDict({
            task: ClassifierHead(int(config.hidden_size), n, depth=depth, hidden=hidden, dropout=dropout)
            for task, n in tasks.items()
        })

    def forward(self, input_ids: Tensor, attention_mask: Tensor) -> dict[str, Tensor]:
        """Task -> logits for a batch of token ids ``(B, T)`` and their attention mask ``(B, T)``."""
        out = self.encoder(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True)
        pooled = pool(out.hidden_states, attention_mask, self.pooling, self.k)
        return {task: self.heads[task](pooled) for task in self.tasks}
