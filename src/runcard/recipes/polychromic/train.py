"""Training: supervised pre-training of the language model, and one RL step of each objective.

Polychromic (Ibn Hamid et al. 2025, set RL): per prompt, N samples; every set of n is scored
``mean(pass) x d ** lambda``; each sample's advantage is the mean centred score of its sets
(`runcard.recipes.polychromic.sets`); the loss is ``-mean(A x log p(sample)) + beta x KL(policy || supervised)``.
The advantage is split into its quality part (the advantage at lambda = 0) and the diversity part
lambda adds, and each part's policy-gradient term is logged with `log_loss_terms`, so the card
shows each part's share of the update.

Documented (the write-up this recipe audits): ``loss = supervised quality loss - lambda x diversity``
with the diversity a Python float computed under ``torch.no_grad()``. It has no gradient, so every
lambda trains the same weights; `detached_term` says so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from runcard.recipes.polychromic.checker import Checker
from runcard.recipes.polychromic.corpus import Prompt
from runcard.recipes.polychromic.lm import (
    Codec,
    Samples,
    embed_ids,
    kl_per_sample,
    modules,
    right_pad,
    sample,
    sequence_logprob,
    token_logits,
)
from runcard.recipes.polychromic.sets import (
    all_sets,
    cosine_matrix,
    polychromic_advantages,
    set_diversity,
)


def length_batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator, bucket: int = 50
                   ) -> Iterator[np.ndarray]:
    """Endless batches of row indices: shuffled, grouped by similar length within chunks of ``bucket``
    batches (less padding), the batches of a chunk in random order."""
    n = len(lengths)
    while True:
        order = rng.permutation(n)
        for start in range(0, n, batch_size * bucket):
            chunk = order[start:start + batch_size * bucket]
            chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
            batches = [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
            for i in rng.permutation(len(batches)):
                yield batches[i]


class Example(NamedTuple):
    """A training tweet as ids: its prompt, the tweet (with its end), and the topic's ids."""

    prompt: list[int]
    tweet: list[int]
    topic: tuple[int, ...] = ()


def lm_batch(examples: list[Example], rows: np.ndarray, pad: int, topic_weight: float = 1.0
             ) -> tuple[Any, Any, Any, Any]:
    """(ids, mask, labels, weights) of prompt + tweet rows, right-padded. Labels are -100 on prompt and
    padding tokens, so the loss is the tweet's (and its end) given the prompt; ``weights`` is
    ``topic_weight`` where the next token is one of the topic's tokens, 1 elsewhere."""
    torch, _, _ = modules()
    ids, mask = right_pad([examples[i].prompt + examples[i].tweet for i in rows], pad)
    labels = ids.clone()
    labels[mask == 0] = -100
    weights = torch.ones(ids.shape, dtype=torch.float32)
    for row, i in enumerate(rows):
        labels[row, : len(examples[i].prompt)] = -100
        if topic_weight != 1.0 and examples[i].topic:
            weights[row] = torch.where(torch.isin(ids[row], torch.tensor(examples[i].topic)), topic_weight, 1.0)
    return ids, mask, labels, weights


def lm_loss(model: Any, ids: Any, mask: Any, labels: Any, weights: Any) -> Any:
    """Weighted mean cross-entropy of each labelled token given the tokens before it."""
    torch, _, _ = modules()
    logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1]
    target, weight = labels[:, 1:], weights[:, 1:] * (labels[:, 1:] != -100)
    nll = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1),
                                            ignore_index=-100, reduction="none").reshape(target.shape)
    return (nll * weight).sum() / weight.sum().clamp(min=1e-9)


def warmup_cosine(step: int, total: int, warmup: int, floor: float = 0.1) -> float:
    """Learning-rate factor: linear warm-up over ``warmup`` steps, then cosine decay to ``floor``."""
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return floor + (1 - floor) * 0.5 * (1 + np.cos(np.pi * min(1.0, progress)))


def pretrain(model: Any, examples: list[Example], *, steps: int, batch_size: int, lr: float, beta2: float,
             warmup_steps: int, final_lr_ratio: float, weight_decay: float, grad_clip: float, topic_weight: float,
             pad: int, seed: int, on_step: Callable[[int, float], None]) -> None:
    """Teacher-forced training on the examples for ``steps`` batches (`lm_loss`, the topic's tokens weighted
    ``topic_weight``); ``on_step(step, loss)`` after each (the caller logs and draws progress)."""
    torch, _, _ = modules()
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay, betas=(0.9, beta2))
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: warmup_cosine(s, steps, warmup_steps,
                                                                                       final_lr_ratio))
    lengths = np.array([len(e.prompt) + len(e.tweet) for e in examples])
    batches = length_batches(lengths, batch_size, np.random.default_rng(seed))
    for step in range(1, steps + 1):
        loss = lm_loss(model, *lm_batch(examples, next(batches), pad, topic_weight))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        optimizer.step()
        schedule.step()
        on_step(step, float(loss.detach()))
    model.eval()


@dataclass(frozen=True, eq=False)
class RLSetting:
    """What every RL step needs besides the policy: the frozen supervised model, codec, checker and
    the step's settings."""

    reference: Any
    codec: Codec
    checker: Checker
    centre: np.ndarray
    samples_per_prompt: int
    set_size: int
    threshold: float
    beta: float
    max_new_tokens: int
    temperature: float


@dataclass(frozen=True, eq=False)
class StepResult:
    """The loss to minimise, the terms and weights to log, and per-step statistics."""

    loss: Any
    terms: dict[str, Any]
    weights: dict[str, float]
    stats: dict[str, float]


def draw(policy: Any, setting: RLSetting, prompts: list[Prompt], generator: Any) -> tuple[Samples, list[str], Any]:
    """N samples per prompt (prompt-major order), their texts, and the checker's verdicts."""
    n = setting.samples_per_prompt
    rows = [setting.codec.prompt(p.sentiment, p.topic) for p in prompts for _ in range(n)]
    samples = sample(policy, rows, max_new_tokens=setting.max_new_tokens, temperature=setting.temperature,
                     generator=generator, pad=setting.codec.pad, eos=setting.codec.eos)
    texts = [setting.codec.decode(r) for r in samples.rows()]
    verdicts = setting.checker.judge(texts, [p.sentiment for p in prompts for _ in range(n)],
                                     [p.topic for p in prompts for _ in range(n)])
    return samples, texts, verdicts


def similarities(setting: RLSetting, samples: Samples, n_prompts: int) -> np.ndarray:
    """Cosine similarity of each prompt's samples under the frozen supervised model, ``(P, N, N)``."""
    vectors = embed_ids(setting.reference, samples.rows(), setting.codec.pad, setting.centre)
    vectors = vectors.reshape(n_prompts, setting.samples_per_prompt, -1)
    return np.stack([cosine_matrix(v) for v in vectors])


def polychromic_step(policy: Any, setting: RLSetting, prompts: list[Prompt], lam: float, generator: Any) -> StepResult:
    """One polychromic update's loss: sample, judge, score all sets, split the advantages, log-probs, KL."""
    torch, _, _ = modules()
    samples, _, verdicts = draw(policy, setting, prompts, generator)
    passed = verdicts.passed.reshape(len(prompts), -1).astype(np.float64)
    sims = similarities(setting, samples, len(prompts))
    parts = [polychromic_advantages(passed[p], sims[p], lam=lam, set_size=setting.set_size,
                                    threshold=setting.threshold) for p in range(len(prompts))]
    quality_adv = torch.tensor(np.concatenate([a.quality for a in parts]), dtype=torch.float32)
    diversity_adv = torch.tensor(np.concatenate([a.diversity for a in parts]), dtype=torch.float32)
    logits = token_logits(policy, samples)
    logp = sequence_logprob(logits, samples)
    terms: dict[str, Any] = {"quality": -(quality_adv * logp).mean()}
    if lam > 0:
        terms["diversity"] = -(diversity_adv * logp).mean()
    loss = sum(terms.values())
    weights = {}
    with torch.no_grad():
        reference_logits = token_logits(setting.reference, samples)
    kl = kl_per_sample(logits, reference_logits, samples.mask).mean()
    if setting.beta > 0:
        terms["kl"], weights["kl"] = kl, setting.beta
        loss = loss + setting.beta * kl
    q_abs, d_abs = float(quality_adv.abs().mean()), float(diversity_adv.abs().mean())
    stats = {"rl/pass_rate": float(passed.mean()), "rl/set_diversity": float(np.mean([a.set_diversity.mean()
                                                                                      for a in parts])),
             "rl/set_score": float(np.mean([a.scores.mean() for a in parts])), "rl/kl": float(kl.detach()),
             "rl/length_tokens": float(samples.mask.sum(dim=1).float().mean()), "advantage/quality_abs": q_abs,
             **{f"rl/rule_{k}": v for k, v in verdicts.rates().items() if k != "passed_ab"}}
    if lam > 0:  # the share of the advantage that diversity adds (none at lambda = 0)
        stats["advantage/diversity_abs"] = d_abs
        stats["advantage/diversity_share"] = d_abs / (q_abs + d_abs) if q_abs + d_abs > 0 else float("nan")
    return StepResult(loss, terms, weights, stats)


def documented_step(policy: Any, setting: RLSetting, prompts: list[Prompt], lam: float, generator: Any,
                    tweets: Callable[[list[Prompt]], tuple[Any, Any, Any, Any]]) -> StepResult:
    """The documented objective: the supervised loss (`lm_loss`) on training tweets of the batch's prompts
    minus lambda x the mean set diversity of the policy's samples, computed without gradient tracking (a
    Python float)."""
    quality = lm_loss(policy, *tweets(prompts))
    torch, _, _ = modules()
    with torch.no_grad():
        samples, _, verdicts = draw(policy, setting, prompts, generator)
        sims = similarities(setting, samples, len(prompts))
        sets = all_sets(setting.samples_per_prompt, setting.set_size)
        diversity = float(np.mean([set_diversity(s, sets, setting.threshold).mean() for s in sims]))
    loss = quality - lam * diversity
    stats = {"rl/pass_rate": float(verdicts.passed.mean()), "rl/set_diversity": diversity,
             "rl/length_tokens": float(samples.mask.sum(dim=1).float().mean()),
             **{f"rl/rule_{k}": v for k, v in verdicts.rates().items() if k != "passed_ab"}}
    return StepResult(loss, {"quality": quality, "diversity": diversity}, {"diversity": -lam}, stats)


def prompt_batches(n: int, size: int, rng: np.random.Generator) -> Iterator[list[int]]:
    """Endless batches of ``size`` prompt indices, each pass over the prompts in a new random order."""
    while True:
        order = rng.permutation(n).tolist()
        for start in range(0, n - size + 1 if n >= size else 1, size):
            yield order[start:start + size]


def rl_train(policy: Any, setting: RLSetting, prompts: list[Prompt], *, objective: str, lam: float, seed: int,
             steps: int, prompts_per_step: int, lr: float, grad_clip: float, grad_norm_every: int, run: Any,
             tweets: Callable[[list[Prompt]], tuple[Any, Any, Any, Any]] | None = None,
             on_step: Callable[[int, dict[str, float]], None] | None = None) -> None:
    """Fine-tune ``policy`` in place for ``steps`` updates of ``objective``; every step's loss terms
    (`ActiveRun.log_loss_terms`, with gradient norms every ``grad_norm_every`` steps and at step 1) and
    statistics are logged on ``run``."""
    torch, _, _ = modules()
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    batches = prompt_batches(len(prompts), prompts_per_step, np.random.default_rng(seed))
    optimizer = torch.optim.AdamW(policy.parameters(), lr=lr, weight_decay=0.0)
    policy.train()
    for step in range(1, steps + 1):
        batch = [prompts[i] for i in next(batches)]
        if objective == "polychromic":
            out = polychromic_step(policy, setting, batch, lam, generator)
        else:
            if tweets is None:
                raise ValueError("the documented objective needs `tweets` (its supervised quality loss's batches)")
            out = documented_step(policy, setting, batch, lam, generator, tweets)
        run.log_loss_terms(out.terms, out.weights, step=step, grad_norms=step == 1 or step % grad_norm_every == 0,
                           params=list(policy.parameters()))
        optimizer.zero_grad()
        out.loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(policy.parameters(), grad_clip)
        optimizer.step()
        stats = {**out.stats, "rl/loss": float(out.loss.detach()), "rl/grad_norm": float(norm)}
        run.log_metrics(stats, step=step)
        if on_step is not None:
            on_step(step, stats)
    policy.eval()
