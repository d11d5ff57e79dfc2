"""The two objectives through real runs: the documented one raises detached_term and trains the same
weights for every lambda; the polychromic one has a gradient in every term and its arms differ."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from runcard import start_run
from runcard.findings import run_findings
from runcard.recipes.polychromic.checker import Verdicts
from runcard.recipes.polychromic.corpus import Prompt
from runcard.recipes.polychromic.lm import weights_sha256
from runcard.recipes.polychromic.train import Example, RLSetting, lm_batch, lm_loss, rl_train
from runcard.report.views import load_run
from runcard.runs import get_run
from runcard.store import open_store

PROMPTS = [Prompt("positive", "Sunday"), Prompt("negative", "Obama"), Prompt("neutral", "Apple")]


class EvenLengthChecker:
    """A stand-in checker: a sample passes when its text has an even number of characters (about half do)."""

    def judge(self, texts: list[str], sentiments: list[str], topics: list[str]) -> Verdicts:
        passed = np.array([len(t) % 2 == 0 for t in texts], dtype=bool)
        ones = np.ones(len(texts), dtype=bool)
        return Verdicts(passed, ones, ones, ones, np.ones(len(texts)), np.ones(len(texts)), 0.0, 0.0)


def train_arm(tmp_path: Path, tiny_lm: tuple[Any, Any], objective: str, lam: float, seed: int = 0
              ) -> tuple[str, list[dict[str, Any]], dict[str, float]]:
    """Three RL steps of one arm in its own run; (weights sha256, findings, summary metrics)."""
    model, codec = tiny_lm
    reference = copy.deepcopy(model).eval()
    policy = copy.deepcopy(model)
    setting = RLSetting(reference, codec, EvenLengthChecker(), np.zeros(32),  # type: ignore[arg-type]
                        samples_per_prompt=8, set_size=4, threshold=0.0, beta=0.05, max_new_tokens=12, temperature=1.0)
    examples = [Example(codec.prompt(p.sentiment, p.topic), codec.tweet(f"about {p.topic} today"), codec.topic(p.topic))
                for p in PROMPTS]
    store = open_store(f"sqlite:///{tmp_path / 'runs.db'}")
    with start_run("poly", f"{objective}-{lam}-{seed}", store=store) as run:
        rl_train(policy, setting, PROMPTS, objective=objective, lam=lam, seed=seed, steps=3, prompts_per_step=2,
                 lr=1e-2, grad_clip=1.0, grad_norm_every=2, run=run,
                 tweets=lambda prompts: lm_batch(examples, np.array([PROMPTS.index(p) for p in prompts]), codec.pad,
                                                 topic_weight=5.0))
    stored = get_run(run.id, store)
    findings = [f.to_dict() for f in run_findings(load_run(store, stored).view)]
    return weights_sha256(policy), findings, stored.summary


def test_documented_objective_is_detached_and_lambda_changes_nothing(tmp_path: Path, tiny_lm: tuple[Any, Any]) -> None:
    hashes = set()
    for lam in (0.0, 0.3, 1.0, 2.0):
        sha, findings, summary = train_arm(tmp_path, tiny_lm, "documented", lam)
        hashes.add(sha)
        detached = [f for f in findings if f["kind"] == "detached_term"]
        assert len(detached) == 1 and detached[0]["evidence"]["term"] == "diversity"
        assert detached[0]["evidence"]["steps_without_gradient"] == 3
        assert summary["loss_terms/quality/has_grad"] == 1.0 and summary["loss_terms/diversity/has_grad"] == 0.0
    assert len(hashes) == 1
    assert sha != weights_sha256(tiny_lm[0])  # it did train: the supervised loss moved the weights


def test_polychromic_arms_differ_and_every_term_has_a_gradient(tmp_path: Path, tiny_lm: tuple[Any, Any]) -> None:
    hashes = {}
    for lam, seed in ((0.0, 0), (0.0, 1), (0.3, 0), (1.0, 0), (2.0, 0)):
        sha, findings, summary = train_arm(tmp_path, tiny_lm, "polychromic", lam, seed)
        hashes[(lam, seed)] = sha
        assert not [f for f in findings if f["kind"] == "detached_term"]
        assert summary["loss_terms/quality/has_grad"] == 1.0 and summary["loss_terms/kl/has_grad"] == 1.0
        if lam > 0:
            assert summary["loss_terms/diversity/has_grad"] == 1.0
            assert "loss_terms/diversity/grad_norm" in summary
        else:
            assert "loss_terms/diversity" not in summary  # lambda = 0 has no diversity part
    assert len(set(hashes.values())) == len(hashes)


def test_the_topic_weight_multiplies_the_topic_tokens_loss(tiny_lm: tuple[Any, Any]) -> None:
    model, codec = tiny_lm
    example = Example(codec.prompt("positive", "Sunday"), codec.tweet("I love Sunday"), codec.topic("Sunday"))
    ids, mask, labels, weights = lm_batch([example], np.array([0]), codec.pad, 5.0)
    topic_at = [i for i, t in enumerate(ids[0].tolist()) if t in example.topic and labels[0, i] != -100]
    assert topic_at and all(weights[0, i] == 5.0 for i in topic_at)
    others = [i for i in range(ids.shape[1]) if labels[0, i] != -100 and i not in topic_at]
    assert others and all(weights[0, i] == 1.0 for i in others)
    plain = lm_loss(model, *lm_batch([example], np.array([0]), codec.pad, 1.0))
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask).logits[0, :-1]
        nll = torch.nn.functional.cross_entropy(logits, ids[0, 1:], reduction="none")
        tweet = labels[0, 1:] != -100
    assert float(plain.detach()) == pytest.approx(float(nll[tweet].mean()), rel=1e-5)
    weighted = lm_loss(model, ids, mask, labels, weights)
    w = weights[0, 1:][tweet]
    assert float(weighted.detach()) == pytest.approx(float((nll[tweet] * w).sum() / w.sum()), rel=1e-5)
