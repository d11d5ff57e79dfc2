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

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from runcard.errors import InputError
from runcard.eval_settings import EvalSettings
from runcard.recipes.polychromic import corpus as corp
from runcard.recipes.polychromic.arm import (
    ArmOutcome,
    Setup,
    arm_name,
    evaluate_model,
    run_arm,
    run_tags,
    save_model,
    tweet_examples,
    write_run_card,
)
from runcard.recipes.polychromic.checker import Checker, fit_classifier, ngram_index
from runcard.recipes.polychromic.closing_summary import write_summary
from runcard.recipes.polychromic.closing_tables import ArmRecord
from runcard.recipes.polychromic.config import PolyArm, PolyConfig
from runcard.recipes.polychromic.held_out import embedder, generate, judge
from runcard.recipes.polychromic.lm import (
    Codec,
    build_model,
    library_versions,
    load_lm,
    modules,
    pooled_states,
    train_tokenizer,
)
from runcard.recipes.polychromic.train import pretrain
from runcard.recipes.polychromic.workers import run_arms
from runcard.recipes.progress import Reporter
from runcard.recipes.results import RecipeResult, log_json
from runcard.runs import get_run, load_checkpoint
from runcard.store import Store
from runcard.tracking import ActiveRun, start_run

#: Offset from the experiment seed of the samples that calibrate the checker.
CALIBRATION_SEED = 20_000


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


# -- the data and the checker (the same for every run of one config) ----------------------------------------

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


# -- the supervised run ---------------------------------------------------------------------------------------------

def run_supervised(config: PolyConfig, base: Path, store: Store, say: Reporter) -> tuple[Setup, ArmOutcome]:
    """Data, checker, tokenizer, pre-training, checkpoint (reloaded by hash), thresholds, held-out evaluation."""
    exp = config.experiment
    with start_run(exp.project, f"{exp.name}-supervised", config=config.model_dump(mode="json"),
                   tags=run_tags(config, base, arm="supervised", objective="supervised"), store=store,
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
            sha, weights = save_model(run, model, codec, centre, {"arm": "supervised"})
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
    card = write_run_card(config, store, run.id)
    return setup, ArmOutcome(record, samples, metrics, card, setup.embed(samples.texts))


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
