"""Polychromic RL on short posts, against the documented objective it was named after, tracked end to end.

Reads like the experiment. The supervised run: tweets and their (sentiment, topic) prompts, the
checker's classifiers, a byte-level BPE tokenizer, a small GPT-2 pre-trained on
``<sentiment> topic <sep> tweet``, its checkpoint logged and reloaded from the store by hash, the
checker's thresholds chosen on its samples, and its held-out samples evaluated and logged. Then one
run per arm (objective x lambda, and lambda = 0 with more seeds as the noise floor): the supervised
checkpoint reloaded from the store, RL fine-tuning with every loss term logged, the weights hashed,
logged and reloaded by hash, held-out samples evaluated and logged as generations. A summary with
paired differences and the weight-hash checks closes the experiment; `runcard compare` of the runs
repeats the paired comparison from the store. Needs torch, transformers, tokenizers, scikit-learn.
"""

from __future__ import annotations

import copy
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from runcard.errors import InputError
from runcard.eval_settings import EvalSettings
from runcard.generation.semantic import CachedEmbedder
from runcard.polychromic import corpus as corp
from runcard.polychromic.checker import Checker, fit_classifier, ngram_index
from runcard.polychromic.evaluate import (
    SPLITS,
    SystemSamples,
    embedder,
    evaluate_one,
    generate,
    judge,
)
from runcard.polychromic.lm import (
    Codec,
    build_model,
    library_versions,
    load_lm,
    modules,
    pooled_states,
    save_lm,
    train_tokenizer,
    weights_sha256,
)
from runcard.polychromic.summary import ArmRecord
from runcard.polychromic.train import Example, RLSetting, lm_batch, pretrain, rl_train
from runcard.recipes.polychromic_config import PolyArm, PolyConfig
from runcard.recipes.progress import Reporter
from runcard.recipes.results import RecipeResult, log_json, write_card
from runcard.runs import get_run, load_checkpoint
from runcard.store import Store
from runcard.tracking import ActiveRun, start_run

#: Offsets from the experiment seed: evaluation samples (the same draws for every system) and calibration.
EVAL_SEED, CALIBRATION_SEED = 10_000, 20_000


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


def run_polychromic(config: PolyConfig, base: Path, store: Store, *, reporter: Reporter | None = None) -> RecipeResult:
    """Run the experiment of ``config`` (paths relative to ``base``) into ``store``: the supervised run and every
    arm, or, when ``config.arm`` is set (an arm's stored config, re-run with `runcard run --from`), that arm alone."""
    torch, _, _ = modules()
    say = reporter or Reporter()
    torch.set_num_threads(config.threads)
    if config.arm is not None:
        setup = setup_from_store(config, config.arm, base, store, say)
        torch.set_num_threads(config.rl.threads)  # as when it first ran: the thread count changes the last bits
        outcome = run_arm(config, base, store, setup, config.arm, say)
        return RecipeResult(outcome.record.run_id, *outcome.card, outcome.metrics)
    setup, supervised = run_supervised(config, base, store, say)
    from runcard.recipes.polychromic_summary import write_summary
    from runcard.recipes.polychromic_workers import run_arms

    outcomes = run_arms(config, base, store, setup, plan_arms(config, setup.supervised_run), say)
    summary = write_summary(config, setup, supervised, outcomes, say, store_url=store.url)
    return RecipeResult(supervised.record.run_id, *supervised.card, summary)


def plan_arms(config: PolyConfig, supervised_run: str) -> list[PolyArm]:
    """Polychromic: each of ``rl.lambdas``, lambda = 0 with ``rl.noise_seeds`` seeds (the noise floor);
    documented: each of ``rl.documented_lambdas``. Seeds count up from the experiment's seed."""
    seed = config.experiment.seed
    arms = []
    for objective in config.rl.objectives:
        for lam in config.rl.lambdas if objective == "polychromic" else config.rl.documented_lambdas:
            seeds = config.rl.noise_seeds if (objective == "polychromic" and lam == 0) else 1
            arms += [PolyArm(objective=objective, lam=lam, seed=seed + i, supervised_run=supervised_run)
                     for i in range(seeds)]
    return arms


def arm_name(arm: PolyArm) -> str:
    return f"{arm.objective}-lambda{arm.lam:g}-seed{arm.seed}"


# -- shared pieces ------------------------------------------------------------------------------------------------

def prepare(config: PolyConfig, base: Path) -> tuple[corp.Corpus, list[str], list[str], list[str]]:
    """Read the tweets, find the topics, hold some out: (corpus, RL topics, held-out topics, filed topics)."""
    paths = [Path(p) if Path(p).is_absolute() else base / p for p in config.data.paths]
    corpus = corp.read_corpus(paths, config.data.classes, config.data.limit)
    pc = config.prompts
    topics = corp.find_topics(corpus.texts, corpus.labels, len(corpus.classes), min_count=pc.min_count,
                              proper_ratio=pc.proper_ratio, max_topics=pc.max_topics)
    if len(topics) < 2:
        raise InputError(f"prompts: only {len(topics)} topic(s) appear at least {pc.min_count} times in every class "
                         f"of {corpus.n:,} tweets; lower prompts.min_count.")
    rl_topics, heldout = corp.split_topics(topics, pc.heldout_topics, config.experiment.seed)
    return corpus, rl_topics, heldout, corp.tweet_topics(corpus.texts, topics, config.experiment.seed)


def build_checker(config: PolyConfig, corpus: corp.Corpus) -> tuple[Checker, dict[str, float]]:
    """Classifier A on one half of the tweets, B on the other, the training n-gram index (thresholds 0),
    and each classifier's accuracy on the half it did not see."""
    cc = config.checker
    half_a, half_b = corp.halves(corpus.n, config.experiment.seed)
    texts = corpus.texts
    a = fit_classifier([texts[i] for i in half_a], corpus.labels[half_a], kind="word", n_features=cc.n_features,
                       C=cc.C, seed=config.experiment.seed)
    b = fit_classifier([texts[i] for i in half_b], corpus.labels[half_b], kind="char", n_features=cc.n_features,
                       C=cc.C, seed=config.experiment.seed)
    accuracy = {f"checker/accuracy_{name}": float(np.mean(model.proba([texts[i] for i in unseen]).argmax(1)
                                                          == corpus.labels[unseen]))
                for name, model, unseen in (("a", a, half_b), ("b", b, half_a))}
    checker = Checker(cc.min_words, cc.max_words, cc.copy_ngram, cc.min_unique_ratio,
                      ngram_index(texts, cc.copy_ngram), a, b, corpus.classes)
    return checker, accuracy


def setup_from_store(config: PolyConfig, arm: PolyArm, base: Path, store: Store, say: Reporter) -> Setup:
    """The shared pieces rebuilt for one arm's re-run: the same data and checker (deterministic from the
    config), the thresholds the supervised run chose."""
    supervised = get_run(arm.supervised_run, store)
    missing = [k for k in ("checker/threshold_a", "checker/threshold_b") if k not in supervised.summary]
    if missing:
        raise InputError(f"run {supervised.id} has no {missing}; it is not a finished supervised run of this recipe.")
    corpus, rl_topics, heldout, filed = prepare(config, base)
    checker, _ = build_checker(config, corpus)
    checker = replace(checker, threshold_a=supervised.summary["checker/threshold_a"],
                      threshold_b=supervised.summary["checker/threshold_b"])
    say.line(f"re-running arm {arm_name(arm)} from supervised run {supervised.id}")
    reference, codec, _, centre = load_lm(load_checkpoint(supervised.id, store=store))
    return Setup(corpus, corp.make_prompts(rl_topics, corpus.classes), corp.make_prompts(heldout, corpus.classes),
                 filed, checker, supervised.id, embedder(reference, codec, centre, config.model.n_positions))


def _tags(config: PolyConfig, base: Path, **extra: str) -> dict[str, str]:
    exp = config.experiment
    return {"recipe": exp.recipe, "seed": str(exp.seed), "config_dir": str(base), **extra, **exp.tags}


def _card(config: PolyConfig, store: Store, run_id: str) -> tuple[Path, Path | None]:
    """Write the run's card (Markdown, and HTML when ``report.html``); their paths."""
    result = write_card(store, run_id, out_dir=config.report.out_dir, html=config.report.html, metrics={})
    return result.card_markdown, result.card_html


def _save(run: ActiveRun, model: Any, codec: Codec, centre: np.ndarray, meta: dict[str, Any]) -> tuple[str, str]:
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


# -- the supervised run ---------------------------------------------------------------------------------------------

def run_supervised(config: PolyConfig, base: Path, store: Store, say: Reporter) -> tuple[Setup, ArmOutcome]:
    """Data, checker, tokenizer, pre-training, checkpoint (reloaded by hash), thresholds, held-out evaluation."""
    exp = config.experiment
    with start_run(exp.project, f"{exp.name}-supervised", config=config.model_dump(mode="json"),
                   tags=_tags(config, base, arm="supervised", objective="supervised"), store=store,
                   evaluation=EvalSettings(n_boot=config.evaluation.n_boot)) as run:
        with run.stage("data"):
            log_json(run, "environment.json", library_versions())
            corpus, rl_topics, heldout, filed = prepare(config, base)
            run.log_metrics({"data/tweets": corpus.n, "data/rl_topics": len(rl_topics),
                             "data/heldout_topics": len(heldout), "data/tweets_with_topic": sum(1 for f in filed if f)},
                            step=0)
            log_json(run, "prompts.json", {"rl_topics": rl_topics, "heldout_topics": heldout,
                                            "classes": list(corpus.classes)})
            say.line(f"{corpus.n:,} tweets; {len(rl_topics)} RL topics; {len(heldout)} held out: {', '.join(heldout)}")
        with run.stage("checker"):
            checker, accuracy = build_checker(config, corpus)
            run.log_metrics(accuracy, step=0)
        with run.stage("pretrain"):
            model, codec = pretrain_model(config, run, corpus, filed, say)
        with run.stage("checkpoint"):
            centre = embedding_centre(model, codec, corpus, config)
            sha, weights = _save(run, model, codec, centre, {"arm": "supervised"})
            del model
            reference, codec, _, centre = load_lm(load_checkpoint(run.id, store=store))
        rl_prompts = corp.make_prompts(rl_topics, corpus.classes)
        with run.stage("calibrate"):
            checker = calibrate(config, run, checker, reference, codec, rl_prompts, say)
        setup = Setup(corpus, rl_prompts, corp.make_prompts(heldout, corpus.classes), filed, checker, run.id,
                      embedder(reference, codec, centre, config.model.n_positions))
        with run.stage("evaluate"):
            samples, metrics = evaluate_model(config, run, setup, "supervised", reference, codec, sha, say)
    record = ArmRecord("supervised", run.id, "supervised", None, None, weights)
    return setup, ArmOutcome(record, samples, metrics, _card(config, store, run.id), setup.embed(samples.texts))


def pretrain_model(config: PolyConfig, run: ActiveRun, corpus: corp.Corpus, filed: list[str], say: Reporter
                   ) -> tuple[Any, Codec]:
    """Train the tokenizer, then pre-train a fresh GPT-2 on ``<sentiment> topic <sep> tweet`` for a fixed
    number of steps (``train/loss`` logged every ``pretrain.log_every`` steps)."""
    tokenizer = train_tokenizer(corpus.texts + sorted(set(filed) - {""}), corpus.classes,
                                vocab_size=config.tokenizer.vocab_size, min_frequency=config.tokenizer.min_frequency)
    codec = Codec(tokenizer)
    examples = tweet_examples(codec, corpus, filed, config.model.n_positions)
    m, p = config.model, config.pretrain
    model = build_model(codec.vocab_size, n_layer=m.n_layer, n_embd=m.n_embd, n_head=m.n_head,
                        n_positions=m.n_positions, pad=codec.pad, eos=codec.eos, seed=config.experiment.seed)
    n_params = sum(t.numel() for t in model.parameters())
    run.log_metrics({"model/n_parameters": n_params, "tokenizer/vocab_size": codec.vocab_size,
                     "tokenizer/tokens_per_tweet": float(np.mean([len(e.tweet) for e in examples]))}, step=0)
    say.line(f"GPT-2 of {n_params:,} parameters, vocabulary {codec.vocab_size:,}; pre-training {p.steps} steps of "
             f"{p.batch_size} tweets")
    running: list[float] = []
    with say.progress("pre-training", total=p.steps) as bar:
        def on_step(step: int, loss: float) -> None:
            running.append(loss)
            if step % p.log_every == 0 or step == p.steps:
                run.log_metric("train/loss", float(np.mean(running)), step=step)
                running.clear()
            bar.advance(1, loss=loss)

        pretrain(model, examples, steps=p.steps, batch_size=p.batch_size, lr=p.lr, beta2=p.beta2,
                 warmup_steps=p.warmup_steps, final_lr_ratio=p.final_lr_ratio, weight_decay=p.weight_decay,
                 grad_clip=p.grad_clip,
                 topic_weight=p.topic_weight, pad=codec.pad, seed=config.experiment.seed, on_step=on_step)
    return model, codec


def tweet_examples(codec: Codec, corpus: corp.Corpus, filed: list[str], limit: int) -> list[Example]:
    """Every tweet as ids under its prompt, the tweet cut so both fit in ``limit`` positions."""
    out = []
    for text, label, topic in zip(corpus.texts, corpus.labels.tolist(), filed):
        prompt = codec.prompt(corpus.classes[label], topic)
        out.append(Example(prompt, codec.tweet(text)[: limit - len(prompt)], codec.topic(topic)))
    return out


def embedding_centre(model: Any, codec: Codec, corpus: corp.Corpus, config: PolyConfig) -> np.ndarray:
    """Mean pooled state of ``diversity.reference_tweets`` random tweets (subtracted before every cosine)."""
    count = min(config.diversity.reference_tweets, corpus.n)
    rows = np.random.default_rng(config.experiment.seed).choice(corpus.n, size=count, replace=False)
    limit = config.model.n_positions
    parts = [pooled_states(model, [codec.tweet(corpus.texts[i])[:limit] for i in rows[s:s + 256]], codec.pad)
             for s in range(0, len(rows), 256)]
    return np.concatenate(parts).mean(axis=0)


def calibrate(config: PolyConfig, run: ActiveRun, checker: Checker, model: Any, codec: Codec,
              prompts: list[corp.Prompt], say: Reporter) -> Checker:
    """Choose A's threshold so the supervised model passes about ``checker.target_pass_rate`` of its samples on
    the RL prompts (never the held-out ones), and B's so B alone would pass as many."""
    n, s = config.checker.calibration_samples, config.sampling
    texts = generate(model, codec, prompts, n, max_new_tokens=s.max_new_tokens, temperature=s.temperature,
                     batch_size=s.batch_size, seed=config.experiment.seed + CALIBRATION_SEED)
    verdicts = judge(checker, "supervised", prompts, n, texts).verdicts
    calibrated = checker.calibrated(verdicts, config.checker.target_pass_rate)
    rates = judge(calibrated, "supervised", prompts, n, texts).verdicts.rates()
    run.log_metrics({"checker/threshold_a": calibrated.threshold_a, "checker/threshold_b": calibrated.threshold_b,
                     **{f"calibration/rule_{k}": v for k, v in rates.items()}}, step=0)
    if rates["passed"] < 0.5 * config.checker.target_pass_rate:
        say.line(f"[yellow]warning[/]: only {rates['passed']:.3f} of the supervised samples pass the rules other than "
                 "sentiment; the pass rate cannot reach checker.target_pass_rate")
    say.line(f"checker thresholds: A {calibrated.threshold_a:.3f}, B {calibrated.threshold_b:.3f}; supervised pass "
             f"rate on RL prompts {rates['passed']:.3f} (A), {rates['passed_ab']:.3f} (A and B)")
    return calibrated


# -- one arm ----------------------------------------------------------------------------------------------------------

def run_arm(config: PolyConfig, base: Path, store: Store, setup: Setup, arm: PolyArm, say: Reporter) -> ArmOutcome:
    """Fine-tune the supervised model with one arm's objective, log and reload its weights, evaluate."""
    exp, rl = config.experiment, config.rl
    name = arm_name(arm)
    stored = config.model_copy(update={"arm": arm}).model_dump(mode="json")
    tags = _tags(config, base, arm=name, objective=arm.objective, rl_lambda=f"{arm.lam:g}", rl_seed=str(arm.seed),
                 supervised_run=setup.supervised_run)
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
            sha, weights = _save(run, policy, codec, centre, {"arm": name})
            log_json(run, "weights.json", {"arm": name, "weights_sha256": weights, "checkpoint_sha256": sha})
            del policy
            model, codec, _, _ = load_lm(load_checkpoint(run.id, store=store))
        with run.stage("evaluate"):
            samples, metrics = evaluate_model(config, run, setup, name, model, codec, sha, say)
    record = ArmRecord(name, run.id, arm.objective, arm.lam, arm.seed, weights)
    return ArmOutcome(record, samples, metrics, _card(config, store, run.id), setup.embed(samples.texts))


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
