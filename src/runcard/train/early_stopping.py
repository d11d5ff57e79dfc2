"""Patience-based early stopping on a validation metric."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from runcard.errors import InputError


@dataclass
class EarlyStopping:
    """Track the best value of a metric and count epochs without improvement.

    ``mode="max"`` for scores (higher is better), ``"min"`` for losses. A value improves on the
    best only by more than ``min_delta``; NaN never improves (a diverged epoch is a bad epoch).
    Stop when ``should_stop``: ``patience`` epochs in a row without improvement.

    >>> stop = EarlyStopping(patience=2)
    >>> [stop.update(v, epoch=e) for e, v in enumerate([0.5, 0.7, 0.6, 0.7])]
    [True, True, False, False]
    >>> stop.best, stop.best_epoch, stop.should_stop
    (0.7, 1, True)
    """

    patience: int
    mode: Literal["max", "min"] = "max"
    min_delta: float = 0.0
    best: float | None = field(default=None, init=False)
    best_epoch: int | None = field(default=None, init=False)
    bad_epochs: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.patience < 1:
            raise InputError(f"patience must be >= 1 epoch; got {self.patience}.")
        if self.mode not in ("max", "min"):
            raise InputError(f"mode must be 'max' (scores) or 'min' (losses); got {self.mode!r}.")
        if not self.min_delta >= 0:
            raise InputError(f"min_delta must be >= 0; got {self.min_delta}.")

    def _improves(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.best is None:
            return True
        if self.mode == "max":
            return value > self.best + self.min_delta
        return value < self.best - self.min_delta

    def update(self, value: float, epoch: int) -> bool:
        """Record this epoch's ``value``; True when it is a new best."""
        value = float(value)
        if self._improves(value):
            self.best, self.best_epoch, self.bad_epochs = value, epoch, 0
            return True
        self.bad_epochs += 1
        return False

    @property
    def should_stop(self) -> bool:
        """True once ``patience`` epochs in a row have not improved on the best."""
        return self.bad_epochs >= self.patience
