"""The typed config of the soft-label recipe (`experiment.recipe = "softlabel_encoder"`).

Items with a distribution of human labels (ChaosNLI: 100 judgements per premise/hypothesis pair);
an encoder, frozen (features computed once and cached) or fine-tuned, and a head trained to match
the distribution, with switchable regularisers. docs/recipes.md documents every key.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from runcard.recipes.base_config import (
    CalibrationConfig,
    EvaluationConfig,
    ExperimentBase,
    ReportConfig,
    Strict,
)
from runcard.recipes.encoders import DEFAULT_ENCODER


class SoftExperiment(ExperimentBase):
    recipe: Literal["softlabel_encoder"]


class SoftData(Strict):
    paths: list[str] = Field(min_length=1)
    text: list[str] = Field(min_length=1, max_length=2)  # one field, or a pair (premise, hypothesis); dotted paths
    target: str  # field holding the label distribution (a list in class order)
    classes: list[str] = Field(min_length=2)
    id: str | None = None  # field with a unique item id (dotted path)
    limit: int | None = Field(default=None, gt=0)  # the first rows only
    description: str = ""
    source: str = ""


class SoftSplit(Strict):
    sizes: dict[str, int]
    seed: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _train_val_test(self) -> SoftSplit:
        missing = [s for s in ("train", "val", "test") if s not in self.sizes]
        if missing or any(v <= 0 for v in self.sizes.values()):
            raise ValueError(f"needs positive train, val and test sizes (missing {missing})")
        return self


class SoftEncoder(Strict):
    path: str = DEFAULT_ENCODER
    mode: Literal["frozen", "finetune"] = "frozen"
    max_length: int = Field(default=128, gt=0, le=512)
    pooling: Literal["cls", "mean"] = "mean"
    batch_size: int = Field(default=64, gt=0)  # encoding batch (frozen mode)
    cache_dir: str = "build/cache/features"  # frozen features, keyed by a hash of encoder, texts and settings


class SoftHead(Strict):
    depth: int = Field(default=1, ge=1)
    hidden: int = Field(default=256, gt=0)
    dropout: float = Field(default=0.1, ge=0.0, lt=1.0)


class SoftLoss(Strict):
    temperature: float = Field(default=1.0, gt=0.0)  # logits are divided by it, in training and prediction
    label_smoothing: float = Field(default=0.0, ge=0.0, lt=1.0)  # targets mixed with the uniform distribution
    entropy_reg: float = Field(default=0.0, ge=0.0)  # confidence penalty: minus beta x entropy of the prediction
    max_suppression: float = Field(default=0.0, ge=0.0)  # lambda x mean top probability
    focal_gamma: float = Field(default=0.0, ge=0.0)  # soft focal: sum_k t_k (1 - p_k)^gamma (-log p_k)


class SoftEarlyStopping(Strict):
    metric: Literal["val/kl", "val/loss", "val/js_distance"] = "val/kl"
    patience: int = Field(default=5, ge=1)


class SoftTrain(Strict):
    epochs: int = Field(gt=0)
    lr: float = Field(gt=0)
    batch_size: int = Field(default=32, gt=0)
    weight_decay: float = Field(default=0.01, ge=0.0)
    warmup_ratio: float = Field(default=0.0, ge=0.0, lt=1.0)
    grad_clip: float | None = Field(default=None, gt=0)
    threads: int = Field(default=2, gt=0)
    early_stopping: SoftEarlyStopping = SoftEarlyStopping()


class Reference(Strict):
    """A published figure printed on the card beside ours (it is not recomputed)."""

    name: str
    note: str = ""
    js_distance: float | None = None
    kl: float | None = None
    accuracy: float | None = None


class SoftConfig(Strict):
    experiment: SoftExperiment
    data: SoftData
    split: SoftSplit
    encoder: SoftEncoder = SoftEncoder()
    head: SoftHead = SoftHead()
    loss: SoftLoss = SoftLoss()
    train: SoftTrain
    calibration: CalibrationConfig = CalibrationConfig()
    evaluation: EvaluationConfig = EvaluationConfig()
    references: list[Reference] = []
    targets: dict[str, dict[str, float | str]] = {}
    report: ReportConfig = ReportConfig()
