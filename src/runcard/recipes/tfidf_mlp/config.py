"""The typed config of the TF-IDF -> MLP recipe (`experiment.recipe = "tfidf_mlp"`, the default).

Data from local files or a Hugging Face dataset, labels mapped (and hash-split) into the listed classes, a
stratified split, TF-IDF features, an MLP (no hidden layer: logistic regression). docs/recipes.md documents
every key; an unknown key is an error that names it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from runcard.recipes.base_config import (
    CalibrationConfig,
    EvaluationConfig,
    ExperimentBase,
    ReportConfig,
    Strict,
)


class TfidfExperiment(ExperimentBase):
    recipe: Literal["tfidf_mlp"] = "tfidf_mlp"


class HashSplitConfig(Strict):
    source: str
    into: tuple[str, str]
    hash: Literal["sha256"] = "sha256"


class LabelConfig(Strict):
    column: str
    classes: list[str] = Field(min_length=2)
    map: dict[str, str] = {}
    hash_split: list[HashSplitConfig] = []

    @model_validator(mode="after")
    def _targets_are_classes(self) -> LabelConfig:
        targets = list(self.map.values()) + [c for h in self.hash_split for c in h.into]
        unknown = sorted(set(targets) - set(self.classes))
        if unknown:
            raise ValueError(f"classes {unknown} are mapped to but not listed in data.labels.classes")
        both = sorted(set(self.map) & {h.source for h in self.hash_split})
        if both:
            raise ValueError(f"source labels {both} are in both map and hash_split")
        return self


class PoolConfig(Strict):
    per_class: dict[str, int] | None = None
    limit: int | None = Field(default=None, gt=0)


class DataConfig(Strict):
    paths: list[str] = []
    layout: Literal["auto", "ag_news"] = "auto"
    hf_dataset: str | None = None
    hf_split: str = "train"
    text: list[str] = Field(min_length=1)
    labels: LabelConfig
    pool: PoolConfig = PoolConfig()
    description: str = ""

    @model_validator(mode="after")
    def _one_source(self) -> DataConfig:
        if bool(self.paths) == bool(self.hf_dataset):
            raise ValueError("give data.paths (local files) or data.hf_dataset, exactly one")
        return self


class SplitConfig(Strict):
    sizes: dict[str, int]
    seed: int = Field(default=0, ge=0)
    stratify: list[str] = ["label"]

    @field_validator("sizes")
    @classmethod
    def _has_train_val_test(cls, sizes: dict[str, int]) -> dict[str, int]:
        missing = [s for s in ("train", "val", "test") if s not in sizes]
        if missing or any(v <= 0 for v in sizes.values()):
            raise ValueError(f"needs positive train, val and test sizes (missing {missing})")
        return sizes


class FeaturesConfig(Strict):
    kind: Literal["tfidf"] = "tfidf"
    max_features: int = Field(default=1500, gt=0)
    ngram_range: tuple[int, int] = (1, 2)
    min_df: int = Field(default=1, ge=1)
    sublinear_tf: bool = False
    lowercase: bool = True


class ModelConfig(Strict):
    hidden: list[int] = [64]
    dropout: float = Field(default=0.2, ge=0.0, lt=1.0)


class TrainConfig(Strict):
    optimizer: Literal["adamw"] = "adamw"
    lr: float = Field(gt=0)
    weight_decay: float = Field(default=0.0, ge=0)
    epochs: int = Field(gt=0)
    batch_size: int = Field(default=64, gt=0)
    threads: int = Field(default=1, gt=0)


class TfidfConfig(Strict):
    experiment: TfidfExperiment
    data: DataConfig
    split: SplitConfig
    features: FeaturesConfig = FeaturesConfig()
    model: ModelConfig = ModelConfig()
    train: TrainConfig
    calibration: CalibrationConfig = CalibrationConfig()
    evaluation: EvaluationConfig = EvaluationConfig()
    derived: dict[str, str] = {}
    report: ReportConfig = ReportConfig()

