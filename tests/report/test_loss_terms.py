"""The card's loss-term section: each weighted term's share of the total, and weak_regularizer on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from runcard import start_run
from runcard.report.card import build_card
from runcard.report.html import card_html
from runcard.report.markdown import card_markdown
from runcard.runs import get_run
from runcard.store import open_store


def test_shares_of_a_weak_diversity_term(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'runs.db'}")
    lam = 0.3
    quality = [2.0, 1.6, 1.3, 1.1]
    diversity = [0.15, 0.14, 0.13, 0.12]
    torch = pytest.importorskip("torch")
    with start_run("poly", "lambda-0.3", store=store) as run:
        for step, (q, d) in enumerate(zip(quality, diversity), start=1):
            terms = {"quality": torch.tensor(q, requires_grad=True), "diversity": torch.tensor(d, requires_grad=True)}
            run.log_loss_terms(terms, weights={"diversity": -lam}, step=step)
    doc = build_card(store, get_run(run.id, store))
    terms = doc["training"]["loss_terms"]
    expected = [lam * d / (q + lam * d) for q, d in zip(quality, diversity)]
    assert terms["mean_share"]["diversity"] == pytest.approx(sum(expected) / len(expected))
    assert terms["last_share"]["diversity"] == pytest.approx(expected[-1])
    assert terms["mean_share"]["quality"] == pytest.approx(1 - sum(expected) / len(expected))
    weak = [f for f in doc["findings"] if f["kind"] == "weak_regularizer"]
    assert len(weak) == 1 and weak[0]["evidence"]["term"] == "diversity"
    assert weak[0]["evidence"]["mean_share"] == pytest.approx(terms["mean_share"]["diversity"])
    mean = sum(expected) / len(expected)
    assert f"| diversity | {mean:.1%} | {expected[-1]:.1%} |" in card_markdown(doc)
    assert "Share of the total loss per term" in card_html(doc)


def test_gradient_norm_shares_are_the_share_of_the_update(tmp_path: Path) -> None:
    """With grad_norms=True the card adds each weighted term's share of the summed gradient norms."""
    torch = pytest.importorskip("torch")
    store = open_store(f"sqlite:///{tmp_path / 'runs.db'}")
    w = torch.nn.Parameter(torch.tensor([1.0, -2.0, 0.5]))
    lam, norms = 0.2, []
    with start_run("poly", "grad-shares", store=store) as run:
        for step in (1, 2, 3):
            quality, diversity = (w * step).pow(2).sum(), w.sum()
            run.log_loss_terms({"quality": quality, "diversity": diversity}, weights={"diversity": lam}, step=step,
                               grad_norms=step != 2, params=[w])
            if step != 2:  # written out: d quality / dw = 2 step^2 w; d (lam x diversity) / dw = lam
                norms.append((float((2 * step**2 * w).detach().norm()), float(torch.full((3,), lam).norm())))
    doc = build_card(store, get_run(run.id, store))
    grad = doc["training"]["loss_terms"]["grad_norm"]
    shares = [d / (q + d) for q, d in norms]
    assert grad["steps"] == 2
    assert grad["mean_share"]["diversity"] == pytest.approx(sum(shares) / 2, rel=1e-6)
    assert grad["last_share"]["diversity"] == pytest.approx(shares[-1], rel=1e-6)
    text = card_markdown(doc)
    assert "share of the summed gradient norms" in text
    assert f"| diversity | {sum(shares) / 2:.1%} | {shares[-1]:.1%} |" in text
    assert "Share of the update (gradient norm) per term" in card_html(doc)


def test_loss_term_series_are_plotted_apart_from_the_loss() -> None:
    from runcard.report.html import _curve_groups

    points = [[1.0, 0.5], [2.0, 0.4]]
    curves = dict.fromkeys(("train/loss", "val/loss", "loss_terms/quality", "loss_terms/diversity",
                            "loss_terms/quality/grad_norm", "loss_terms/diversity/grad_norm",
                            "loss_terms/quality/has_grad", "loss_grad_cosine/quality/diversity", "rl/kl"), points)
    groups = _curve_groups(curves)
    assert set(groups["loss"]) == {"train/loss", "val/loss"}
    assert set(groups["loss terms (weighted)"]) == {"loss_terms/quality", "loss_terms/diversity"}
    assert set(groups["loss terms: grad_norm"]) == {"loss_terms/quality/grad_norm", "loss_terms/diversity/grad_norm"}
    assert set(groups["gradient cosine between loss terms"]) == {"loss_grad_cosine/quality/diversity"}
    assert set(groups["kl"]) == {"rl/kl"}
