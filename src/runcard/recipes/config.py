"""Typed, frozen recipe configs read from TOML. Unknown keys are errors that name the key.

Relative paths in a config are relative to the config file's folder.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from runcard.data.toml import read_toml
from runcard.errors import InputError
from runcard.eval_settings import EvalSettings


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExperimentBase(Strict):
    """Where a run is filed and how it is seeded; each recipe's config names its own `recipe`."""

    project: str = Field(min_length=1)
    name: str = Field(min_length=1)
    seed: int = Field(default=0, ge=0)
    tags: dict[str, str] = {}


class ExperimentConfig(ExperimentBase):
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


class RecipeConfig(Strict):
    experiment: ExperimentConfig
    data: DataConfig
    split: SplitConfig
    features: FeaturesConfig = FeaturesConfig()
    model: ModelConfig = ModelConfig()
    train: TrainConfig
    calibration: CalibrationConfig = CalibrationConfig()
    evaluation: EvaluationConfig = EvaluationConfig()
    derived: dict[str, str] = {}
    report: ReportConfig = ReportConfig()


def _where(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    return ".".join(parts) if parts else "(top level)"


def load_config(path: str | Path, overrides: dict[str, Any] | None = None) -> tuple[Any, Path]:
    """Read and validate a recipe config (the model `experiment.recipe` names); errors name the file,
    the key and the problem."""
    path = Path(path)
    raw = read_toml(path, "config file")
    return validate_config(raw, str(path), overrides), path.resolve().parent


def apply_overrides(raw: dict[str, Any], overrides: dict[str, Any] | None) -> dict[str, Any]:
    """``{"train.lr": 0.01}`` written into a nested config dict (a copy; tables are created as needed)."""
    out = copy.deepcopy(raw)
    for dotted, value in (overrides or {}).items():
        node = out
        *parents, leaf = dotted.split(".")
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise InputError(f"override {dotted!r}: {part!r} is a value, not a table.")
            node = child
        node[leaf] = value
    return out


def _legacy_bins(raw: dict[str, Any], path: str) -> dict[str, Any]:
    """Configs written before ``[evaluation]`` existed set the bins as ``calibration.bins``: read it as
    ``evaluation.bins`` (one setting, one place); both given and different is an error."""
    calibration = raw.get("calibration")
    if not isinstance(calibration, dict) or "bins" not in calibration:
        return raw
    raw = copy.deepcopy(raw)
    bins = raw["calibration"].pop("bins")
    evaluation = raw.setdefault("evaluation", {})
    if not isinstance(evaluation, dict):
        return raw
    if "bins" in evaluation and evaluation["bins"] != bins:
        raise InputError(f"{path}: calibration.bins = {bins!r} and evaluation.bins = {evaluation['bins']!r}; the bins "
                         "are an evaluation setting now: keep evaluation.bins only.")
    evaluation["bins"] = bins
    return raw


def validate_config(raw: dict[str, Any], source: str, overrides: dict[str, Any] | None = None) -> Any:
    """Validate a config dict (a file's content, or a config stored with a run) for the recipe
    `experiment.recipe` names, after applying dotted ``overrides``."""
    path = source
    raw = _legacy_bins(apply_overrides(raw, overrides), path)
    recipe = raw.get("experiment", {}).get("recipe") if isinstance(raw.get("experiment"), dict) else None
    model: type[Strict] = RecipeConfig
    if recipe == "multitask_encoder":
        from runcard.recipes.multitask_config import MultiTaskConfig

        model = MultiTaskConfig
    elif recipe == "softlabel_encoder":
        from runcard.recipes.softlabel_config import SoftConfig

        model = SoftConfig
    elif recipe == "polychromic":
        from runcard.recipes.polychromic_config import PolyConfig

        model = PolyConfig
    elif recipe not in (None, "tfidf_mlp"):
        raise InputError(f"{path}: experiment.recipe = {recipe!r} is not a recipe; use \"tfidf_mlp\", "
                         "\"multitask_encoder\", \"softlabel_encoder\" or \"polychromic\" (docs/recipes.md).")
    try:
        config = model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        if first["type"] == "extra_forbidden":
            message = f"unknown key {_where(first['loc'])!r}; check its spelling against docs/recipes.md"
        elif first["type"] == "missing":
            message = f"missing key {_where(first['loc'])!r}"
        else:
            message = f"{_where(first['loc'])}: {first['msg']}"
        more = f" (and {len(exc.errors()) - 1} more problems)" if len(exc.errors()) > 1 else ""
        raise InputError(f"{path}: {message}{more}.") from None
    return config
