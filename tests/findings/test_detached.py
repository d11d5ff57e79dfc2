"""A loss term with no gradient path (the documented polychromic bug) and gradient-norm shares."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from runcard import start_run
from runcard.findings import run_findings
from runcard.report.views import load_run
from runcard.runs import get_run
from runcard.store import open_store


def _train(tmp_path: Path, *, detached: bool, lam: float = 0.3, grad_norms: bool = False) -> list[dict]:
    """Three steps of loss = quality - lambda x diversity on a tiny model, logged with log_loss_terms."""
    store = open_store(f"sqlite:///{tmp_path / 'runs.db'}")
    g = torch.Generator().manual_seed(0)
    model = torch.nn.Linear(4, 3)
    x, y = torch.randn(16, 4, generator=g), torch.randint(0, 3, (16,), generator=g)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with start_run("poly", "detached" if detached else "fixed", store=store) as run:
        for step in range(1, 4):
            logits = model(x)
            quality = torch.nn.functional.cross_entropy(logits, y)
            probs = torch.softmax(logits, dim=1)
            if detached:
                with torch.no_grad():  # the documented bug: a score without gradient tracking
                    diversity = float(probs.std(dim=0).mean())
            else:
                diversity = probs.std(dim=0).mean()
            loss = quality - lam * diversity
            run.log_loss_terms({"quality": quality, "diversity": diversity}, weights={"diversity": -lam}, step=step,
                               grad_norms=grad_norms, params=list(model.parameters()))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    view = load_run(store, get_run(run.id, store)).view
    return [f.to_dict() for f in run_findings(view)]


def test_the_documented_bug_raises_detached_term(tmp_path: Path) -> None:
    findings = _train(tmp_path, detached=True)
    [f] = [f for f in findings if f["kind"] == "detached_term"]
    assert f["severity"] == "error" and f["evidence"]["term"] == "diversity"
    assert f["evidence"]["steps_without_gradient"] == 3 and f["evidence"]["weights"] == [-0.3]
    assert "only shifts the loss value" in f["advice"]


def test_the_fixed_version_does_not(tmp_path: Path) -> None:
    assert not [f for f in _train(tmp_path, detached=False) if f["kind"] == "detached_term"]


def test_gradient_norms_and_cosines_match_autograd(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'runs.db'}")
    torch.manual_seed(1)
    model = torch.nn.Linear(3, 2)
    x = torch.randn(5, 3, generator=torch.Generator().manual_seed(1))
    out = model(x)
    a, b = out.pow(2).mean(), out.sum()
    with start_run("poly", "geometry", store=store) as run:
        run.log_loss_terms({"a": a, "b": b, "c": 0.5}, weights={"b": 0.1}, step=1, grad_norms=True,
                           params=model.parameters())
    params = list(model.parameters())
    # float64, as runcard sums them: a cosine near 0 in float32 is off by more than 1e-6 relative
    ga = torch.cat([g.reshape(-1).double() for g in torch.autograd.grad(a, params, retain_graph=True)])
    gb = torch.cat([g.reshape(-1).double() for g in torch.autograd.grad(0.1 * b, params, retain_graph=True)])
    summary = get_run(run.id, store).summary
    assert summary["loss_terms/a/grad_norm"] == pytest.approx(float(ga.norm()), rel=1e-6)
    assert summary["loss_terms/b/grad_norm"] == pytest.approx(float(gb.norm()), rel=1e-6)
    assert summary["loss_terms/c/grad_norm"] == 0.0 and summary["loss_terms/c/has_grad"] == 0.0
    cosine = float(torch.dot(ga, gb) / (ga.norm() * gb.norm()))
    assert summary["loss_grad_cosine/a/b"] == pytest.approx(cosine, rel=1e-6)


def test_weak_regularizer_is_judged_on_gradient_norms_when_logged(tmp_path: Path) -> None:
    findings = _train(tmp_path, detached=False, lam=0.01, grad_norms=True)
    [f] = [f for f in findings if f["kind"] == "weak_regularizer"]
    assert f["evidence"]["judged_on"] == "gradient-norm share" and "gradient" in f["title"]
