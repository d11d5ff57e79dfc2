"""What every recipe config shares: strict frozen tables, the ``[experiment]`` base, and the ``[calibration]``,
``[evaluation]`` and ``[report]`` tables. Each recipe's own config (``<recipe>/config.py``) builds on them.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from runcard.eval_settings import EvalSettings


class Strict(BaseModel):
    """A config table: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ExperimentBase(Strict):
    """Where a run is filed and how it is seeded; each recipe's config narrows `recipe` to its own name."""

    project: str = Field(min_length=1)
    name: str = Field(min_length=1)
    seed: int = Field(default=0, ge=0)
    tags: dict[str, str] = {}
    recipe: str


class CalibrationConfig(Strict):
    method: Literal["temperature", "vector"] = "temperature"


class EvaluationConfig(Strict):
    """``[evaluation]``: how every split's predictions are evaluated (`runcard.eval_settings.EvalSettings`),
    recorded with the run and used by every document of it."""

    bins: int = Field(default=15, gt=0)
    n_boot: int = Field(default=1000, gt=0)
    seed: int = Field(default=0, ge=0)
    level: float = Field(default=0.95, ge=0.5, lt=1.0)
    top_k: tuple[int, ...] = (2, 3)
    primary: Literal["macro_f1", "accuracy", "balanced_accuracy", "weighted_f1", "mcc", "cohen_kappa"] = "macro_f1"

    def settings(self) -> EvalSettings:
        return EvalSettings(bins=self.bins, n_boot=self.n_boot, seed=self.seed, level=self.level, top_k=self.top_k,
                            primary=self.primary)


class ReportConfig(Strict):
    out_dir: str = "build/cards"
    html: bool = True


class RunConfig(Protocol):
    """What runcard reads of any recipe's validated config (each recipe's config model has these)."""

    @property
    def experiment(self) -> ExperimentBase: ...

    @property
    def report(self) -> ReportConfig: ...

    def model_dump(self, *, mode: str = "python") -> dict[str, Any]: ...
