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
