"""One run of the polychromic experiment: what every run shares (`Setup`), a finished run (`ArmOutcome`), the
pieces each run goes through (checkpoint logged and reloaded by hash, held-out evaluation logged as generations,
card), and one RL arm: the supervised checkpoint reloaded from the store, RL fine-tuning with every loss term
logged, the weights hashed, logged and reloaded by hash, held-out samples evaluated, the card.
"""

from __future__ import annotations

import copy
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from runcard.errors import InputError
from runcard.eval_settings import EvalSettings
from runcard.generation.semantic import CachedEmbedder
from runcard.recipes.polychromic import corpus as corp
from runcard.recipes.polychromic.checker import Checker
from runcard.recipes.polychromic.closing_tables import ArmRecord
from runcard.recipes.polychromic.config import PolyArm, PolyConfig
from runcard.recipes.polychromic.held_out import (
    SPLITS,
    SystemSamples,
    evaluate_one,
    generate,
    judge,
)
from runcard.recipes.polychromic.lm import Codec, library_versions, load_lm, save_lm, weights_sha256
from runcard.recipes.polychromic.train import Example, RLSetting, lm_batch, rl_train
from runcard.recipes.progress import Reporter
from runcard.recipes.results import log_json, write_card
from runcard.runs import load_checkpoint
from runcard.store import Store
from runcard.tracking import ActiveRun, start_run

#: Offset from the experiment seed of the evaluation samples (the same draws for every system).
EVAL_SEED = 10_000


@dataclass(frozen=True, eq=False)
class Setup:
    """What every arm shares: the corpus and prompts, the calibrated checker, the supervised run's id."""

    corpus: corp.Corpus
    rl_prompts: list[corp.Prompt]
    heldout_prompts: list[corp.Prompt]
    filed: list[str]  # each tweet's pre-training topic
    checker: Checker
    supervised_run: str
    embed: CachedEmbedder  # texts -> embeddings under the frozen supervised model (each text embedded once)


@dataclass(frozen=True, eq=False)
class ArmOutcome:
    """A finished run of the experiment: its record, held-out samples with their embeddings, metrics and card."""

    record: ArmRecord
    samples: SystemSamples
    metrics: dict[str, float]
    card: tuple[Path, Path | None]  # Markdown, HTML
    embeddings: np.ndarray  # (samples, H), row i the embedding of samples.texts[i]


def arm_name(arm: PolyArm) -> str:
    return f"{arm.objective}-lambda{arm.lam:g}-seed{arm.seed}"


def run_tags(config: PolyConfig, base: Path, **extra: str) -> dict[str, str]:
    exp = config.experiment
    return {"recipe": exp.recipe, "seed": str(exp.seed), "config_dir": str(base), **extra, **exp.tags}


def write_run_card(config: PolyConfig, store: Store, run_id: str) -> tuple[Path, Path | None]:
    """Write the run's card (Markdown, and HTML when ``report.html``); their paths."""
    result = write_card(store, run_id, out_dir=config.report.out_dir, html=config.report.html, metrics={})
    return result.card_markdown, result.card_html


def save_model(run: ActiveRun, model: Any, codec: Codec, centre: np.ndarray, meta: dict[str, Any]) -> tuple[str, str]:
    """Log the model as a checkpoint; (checkpoint sha256, weights sha256)."""
    weights = weights_sha256(model)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "polychromic_lm"
        save_lm(folder, model, codec, {**meta, "weights_sha256": weights}, centre)
        return run.log_checkpoint(folder), weights


def evaluate_model(config: PolyConfig, run: ActiveRun, setup: Setup, system: str, model: Any, codec: Codec, sha: str,
                   say: Reporter) -> tuple[SystemSamples, dict[str, float]]:
    """Held-out samples (the same seeded draws for every system), judged, logged as generations, scored."""
    ev, s = config.evaluation, config.sampling
    texts = generate(model, codec, setup.heldout_prompts, ev.samples_per_prompt, max_new_tokens=s.max_new_tokens,
                     temperature=s.temperature, batch_size=s.batch_size, seed=config.experiment.seed + EVAL_SEED)
    samples = judge(setup.checker, system, setup.heldout_prompts, ev.samples_per_prompt, texts)
    for split in SPLITS:
        run.log_generations(split, samples.rows(split))
    metrics, details = evaluate_one(samples, ks=list(ev.ks), n_boot=ev.n_boot, seed=config.experiment.seed,
                                    embed=setup.embed)
    run.log_metrics(metrics, step=0)
    log_json(run, "evaluation.json", {"checkpoint_sha256": sha,
                                       "heldout_prompts": [p.id for p in setup.heldout_prompts], **details})
    labels = {"test/pass@1": "pass@1 (A)", "test_a_and_b/pass@1": "pass@1 (A and B)", "test/distinct_2": "distinct-2",
              "test/semantic_diversity": "embedding diversity"}
    shown = ", ".join(f"{label} {metrics[k]:.3f}" for k, label in labels.items() if k in metrics)
    say.line(f"{system}: {shown}")
    return samples, metrics


def run_arm(config: PolyConfig, base: Path, store: Store, setup: Setup, arm: PolyArm, say: Reporter) -> ArmOutcome:
    """Fine-tune the supervised model with one arm's objective, log and reload its weights, evaluate."""
    exp, rl = config.experiment, config.rl
    name = arm_name(arm)
    stored = config.model_copy(update={"arm": arm}).model_dump(mode="json")
    tags = run_tags(config, base, arm=name, objective=arm.objective, rl_lambda=f"{arm.lam:g}",
                    rl_seed=str(arm.seed), supervised_run=setup.supervised_run)
    with start_run(exp.project, f"{exp.name}-{name}", config=stored, tags=tags, store=store,
                   evaluation=EvalSettings(n_boot=config.evaluation.n_boot)) as run:
        with run.stage("load"):
            log_json(run, "environment.json", library_versions())
            reference, codec, _, centre = load_lm(load_checkpoint(setup.supervised_run, store=store))
            for p in reference.parameters():
                p.requires_grad_(False)
            policy = copy.deepcopy(reference)
            for p in policy.parameters():
                p.requires_grad_(True)
            run.log_metrics({"model/n_parameters": sum(t.numel() for t in policy.parameters())}, step=0)
        setting = RLSetting(reference, codec, setup.checker, centre, rl.samples_per_prompt, rl.set_size,
                            config.diversity.threshold, rl.beta, config.sampling.max_new_tokens,
                            config.sampling.temperature)
        with run.stage("train"), say.progress(f"{name}", total=rl.steps) as bar:
            rl_train(policy, setting, setup.rl_prompts, objective=arm.objective, lam=arm.lam, seed=arm.seed,
                     steps=rl.steps, prompts_per_step=rl.prompts_per_step, lr=rl.lr, grad_clip=rl.grad_clip,
                     grad_norm_every=rl.grad_norm_every, run=run,
                     tweets=_tweet_batches(config, setup, codec, arm.seed) if arm.objective == "documented" else None,
                     on_step=lambda step, stats: bar.advance(1, passed=stats["rl/pass_rate"]))
        with run.stage("checkpoint"):
            sha, weights = save_model(run, policy, codec, centre, {"arm": name})
            log_json(run, "weights.json", {"arm": name, "weights_sha256": weights, "checkpoint_sha256": sha})
            del policy
            model, codec, _, _ = load_lm(load_checkpoint(run.id, store=store))
        with run.stage("evaluate"):
            samples, metrics = evaluate_model(config, run, setup, name, model, codec, sha, say)
    record = ArmRecord(name, run.id, arm.objective, arm.lam, arm.seed, weights)
    card = write_run_card(config, store, run.id)
    return ArmOutcome(record, samples, metrics, card, setup.embed(samples.texts))


def _tweet_batches(config: PolyConfig, setup: Setup, codec: Codec, seed: int) -> Any:
    """The documented objective's supervised batches: ``rl.documented_batch`` training tweets filed under each
    prompt of the step (drawn with replacement, seeded), weighted as in pre-training."""
    examples = tweet_examples(codec, setup.corpus, setup.filed, config.model.n_positions)
    by_prompt = corp.examples_by_prompt(setup.corpus, setup.filed, setup.rl_prompts)
    empty = [k for k, rows in by_prompt.items() if not len(rows)]
    if empty:
        raise InputError(f"no training tweet is filed under prompts {empty[:3]}; raise prompts.min_count.")
    rng = np.random.default_rng(seed)

    def batch(prompts: list[corp.Prompt]) -> tuple[Any, Any, Any, Any]:
        rows = np.concatenate([rng.choice(by_prompt[p.id], size=config.rl.documented_batch) for p in prompts])
        return lm_batch(examples, rows, codec.pad, config.pretrain.topic_weight)

    return batch


def tweet_examples(codec: Codec, corpus: corp.Corpus, filed: list[str], limit: int) -> list[Example]:
    """Every tweet as ids under its prompt, the tweet cut so both fit in ``limit`` positions."""
    out = []
    for text, label, topic in zip(corpus.texts, corpus.labels.tolist(), filed):
        prompt = codec.prompt(corpus.classes[label], topic)
        out.append(Example(prompt, codec.tweet(text)[: limit - len(prompt)], codec.topic(topic)))
    return out

