"""The typed config of the polychromic recipe (`experiment.recipe = "polychromic"`).

A small GPT-2 pre-trained on sentiment-labelled tweets, then fine-tuned with set-level RL: the
polychromic objective (Ibn Hamid et al. 2025: a set's score is its mean pass times its diversity
to the power lambda) or the documented objective (a supervised loss minus lambda times a diversity
score computed without gradient tracking), one run per arm. docs/recipes.md documents every key.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from runcard.recipes.base_config import ExperimentBase, ReportConfig, Strict

Objective = Literal["polychromic", "documented"]
OBJECTIVES: tuple[Objective, ...] = ("polychromic", "documented")


class PolyExperiment(ExperimentBase):
    recipe: Literal["polychromic"]


class PolyData(Strict):
    paths: list[str] = Field(min_length=1)  # CSV files with id, label, text columns (relative to the config)
    classes: list[str] = Field(default_factory=lambda: ["negative", "neutral", "positive"], min_length=2)
    limit: int | None = Field(default=None, gt=0)  # the first rows only
    description: str = ""


class PolyPrompts(Strict):
    min_count: int = Field(default=30, ge=1)  # a topic appears in at least this many tweets of every class
    proper_ratio: float = Field(default=2.0, gt=0)  # capitalised or hashtag uses over lowercase uses, at least
    max_topics: int = Field(default=60, ge=2)
    heldout_topics: int = Field(default=20, ge=1)  # evaluation only: never seen in RL


class PolyTokenizer(Strict):
    vocab_size: int = Field(default=4096, ge=300)
    min_frequency: int = Field(default=2, ge=1)


class PolyModel(Strict):
    n_layer: int = Field(default=4, ge=1)
    n_embd: int = Field(default=192, ge=8)
    n_head: int = Field(default=4, ge=1)
    n_positions: int = Field(default=64, ge=16)

    @model_validator(mode="after")
    def _heads_divide(self) -> PolyModel:
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd {self.n_embd} is not a multiple of n_head {self.n_head}")
        return self


class PolyPretrain(Strict):
    steps: int = Field(default=700, ge=1)
    batch_size: int = Field(default=32, ge=1)
    lr: float = Field(default=3e-3, gt=0)
    beta2: float = Field(default=0.95, gt=0, lt=1)  # AdamW's second-moment decay (0.999 learns the prompt later)
    warmup_steps: int = Field(default=40, ge=0)
    final_lr_ratio: float = Field(default=0.3, gt=0, le=1)  # cosine decay from lr to lr x this
    weight_decay: float = Field(default=0.01, ge=0)
    grad_clip: float = Field(default=1.0, gt=0)
    topic_weight: float = Field(default=8.0, ge=1)  # loss weight of the topic's tokens in the tweet (1: plain MLE)
    log_every: int = Field(default=10, ge=1)


class PolyChecker(Strict):
    min_words: int = Field(default=5, ge=1)
    max_words: int = Field(default=30, ge=1)
    copy_ngram: int = Field(default=6, ge=2)  # no word n-gram of this length copied from a training tweet
    min_unique_ratio: float = Field(default=0.5, gt=0, le=1)  # unique words over words, at least
    target_pass_rate: float = Field(default=0.15, gt=0, lt=1)  # the supervised model's pass@1 the threshold aims at
    calibration_samples: int = Field(default=4, ge=1)  # per RL prompt, to choose the thresholds
    n_features: int = Field(default=2 ** 18, ge=2 ** 10)  # hashed features of each classifier
    C: float = Field(default=4.0, gt=0)  # inverse regularisation of the logistic regressions

    @model_validator(mode="after")
    def _bounds(self) -> PolyChecker:
        if self.min_words > self.max_words:
            raise ValueError(f"min_words {self.min_words} is above max_words {self.max_words}")
        return self


class PolyDiversity(Strict):
    threshold: float = Field(default=0.5, gt=-1, lt=1)  # cosine at or above: the same cluster (single link)
    reference_tweets: int = Field(default=2000, ge=10)  # tweets whose mean state centres the embeddings


class PolySampling(Strict):
    temperature: float = Field(default=1.0, gt=0)
    max_new_tokens: int = Field(default=44, ge=4)
    batch_size: int = Field(default=128, ge=1)  # samples drawn at once in evaluation


class PolyRL(Strict):
    objectives: list[Objective] = Field(default_factory=lambda: list(OBJECTIVES), min_length=1)
    lambdas: list[float] = Field(default_factory=lambda: [0.0, 0.3, 1.0, 2.0], min_length=1)  # polychromic arms
    documented_lambdas: list[float] = Field(default_factory=lambda: [0.3, 1.0, 2.0], min_length=1)
    noise_seeds: int = Field(default=2, ge=1)  # lambda = 0 of the polychromic objective runs with this many seeds
    steps: int = Field(default=40, ge=1)
    prompts_per_step: int = Field(default=8, ge=1)
    samples_per_prompt: int = Field(default=8, ge=2)  # N
    set_size: int = Field(default=4, ge=1)  # n: all C(N, n) sets are scored
    lr: float = Field(default=1e-3, gt=0)
    beta: float = Field(default=0.05, ge=0)  # KL(policy || supervised) weight
    grad_clip: float = Field(default=1.0, gt=0)
    grad_norm_every: int = Field(default=10, ge=1)  # each loss term's gradient norm at step 1 and every k steps
    workers: int = Field(default=1, ge=1)  # processes training arms at once: the wall time, never the weights
    threads: int = Field(default=1, ge=1)  # torch threads of each arm (the thread count changes the last bits)
    documented_batch: int = Field(default=8, ge=1)  # training tweets per prompt in the documented quality loss

    @model_validator(mode="after")
    def _sets(self) -> PolyRL:
        if self.set_size > self.samples_per_prompt:
            raise ValueError(f"set_size {self.set_size} is above samples_per_prompt {self.samples_per_prompt}")
        for key, values in (("lambdas", self.lambdas), ("documented_lambdas", self.documented_lambdas)):
            if any(lam < 0 for lam in values) or len(set(values)) != len(values):
                raise ValueError(f"{key} {values}: give distinct values >= 0")
        return self


class PolyEvaluation(Strict):
    samples_per_prompt: int = Field(default=16, ge=2)
    ks: list[int] = Field(default_factory=lambda: [1, 5, 10], min_length=1)
    n_boot: int = Field(default=1000, ge=100)

    @model_validator(mode="after")
    def _ks(self) -> PolyEvaluation:
        if any(k < 1 or k > self.samples_per_prompt for k in self.ks):
            raise ValueError(f"ks {self.ks}: each must be 1..samples_per_prompt ({self.samples_per_prompt})")
        return self


class PolyArm(Strict):
    """Set on the config stored with each arm's run: `runcard run --from <arm run>` re-runs that arm
    alone, from the supervised run's stored checkpoint."""

    objective: Objective
    lam: float = Field(ge=0)
    seed: int = Field(ge=0)
    supervised_run: str = Field(min_length=1)


class PolyConfig(Strict):
    experiment: PolyExperiment
    data: PolyData
    prompts: PolyPrompts = PolyPrompts()
    tokenizer: PolyTokenizer = PolyTokenizer()
    model: PolyModel = PolyModel()
    pretrain: PolyPretrain = PolyPretrain()
    checker: PolyChecker = PolyChecker()
    diversity: PolyDiversity = PolyDiversity()
    sampling: PolySampling = PolySampling()
    rl: PolyRL = PolyRL()
    evaluation: PolyEvaluation = PolyEvaluation()
    threads: int = Field(default=1, ge=1)  # torch threads of the supervised run and the summary
    arm: PolyArm | None = None
    report: ReportConfig = ReportConfig()

    @model_validator(mode="after")
    def _prompts_fit(self) -> PolyConfig:
        if self.sampling.max_new_tokens >= self.model.n_positions - 3:
            raise ValueError(f"sampling.max_new_tokens {self.sampling.max_new_tokens} leaves no room for the prompt "
                             f"in model.n_positions {self.model.n_positions}")
        return self
