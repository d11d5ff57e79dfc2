"""Focal loss against cross_entropy (gamma=0) and the formula written out; R-Drop KL against scipy."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from scipy.stats import entropy

from runcard.errors import InputError
from runcard.train.losses import focal_loss, rdrop_kl


def batch(n: int = 12, k: int = 4, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, k, generator=g) * 2, torch.randint(0, k, (n,), generator=g)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("eps", [0.0, 0.1, 0.3])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(("dtype", "tol"), [(torch.float32, 1e-6), (torch.float64, 1e-12)])
def test_gamma_zero_is_cross_entropy(weighted: bool, eps: float, reduction: str, dtype: Any, tol: float) -> None:
    logits, y = batch()
    logits = logits.to(dtype)
    w = torch.tensor([0.5, 2.0, 1.0, 3.0], dtype=dtype) if weighted else None
    got = focal_loss(logits, y, weight=w, label_smoothing=eps, reduction=reduction)  # type: ignore[arg-type]
    want = F.cross_entropy(logits, y, weight=w, label_smoothing=eps, reduction=reduction)
    # Relative too: a float32 sum near 35 carries rounding of about 4e-6.
    torch.testing.assert_close(got, want, atol=tol, rtol=tol)


def reference_focal(logits: np.ndarray, y: np.ndarray, gamma: float, w: np.ndarray, eps: float) -> np.ndarray:
    """Row losses sum_k c_ik (1 - p_ik)^gamma (-log p_ik), c_ik = w_k ((1 - eps)[k == y_i] + eps / K)."""
    n, k = logits.shape
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    rows = np.zeros(n)
    for i in range(n):
        for c in range(k):
            coef = w[c] * ((1 - eps) * (c == y[i]) + eps / k)
            rows[i] += coef * (1 - p[i, c]) ** gamma * -np.log(p[i, c])
    return rows


@pytest.mark.parametrize("eps", [0.0, 0.2])
def test_gamma_two_matches_formula(eps: float) -> None:
    logits, y = batch(n=6, k=3, seed=1)
    w = np.array([1.0, 2.5, 0.5])
    rows = reference_focal(logits.double().numpy(), y.numpy(), 2.0, w, eps)
    kwargs = {"gamma": 2.0, "weight": torch.tensor(w), "label_smoothing": eps}
    got_rows = focal_loss(logits.double(), y, reduction="none", **kwargs)
    np.testing.assert_allclose(got_rows.numpy(), rows, rtol=1e-12)
    got_mean = focal_loss(logits.double(), y, **kwargs)
    assert got_mean.item() == pytest.approx(rows.sum() / w[y.numpy()].sum(), rel=1e-12)
    assert focal_loss(logits.double(), y, reduction="sum", **kwargs).item() == pytest.approx(rows.sum(), rel=1e-12)


def test_focal_down_weights_easy_rows() -> None:
    logits, y = batch()
    ce = focal_loss(logits, y, reduction="none")
    focal = focal_loss(logits, y, gamma=2.0, reduction="none")
    assert torch.all(focal <= ce)


def test_focal_gradients() -> None:
    logits, y = batch()
    logits.requires_grad_(True)
    focal_loss(logits, y, gamma=2.0, weight=torch.tensor([1.0, 2.0, 1.0, 1.0]), label_smoothing=0.1).backward()
    assert logits.grad is not None
    assert torch.all(torch.isfinite(logits.grad)) and logits.grad.abs().sum() > 0
    # A softmax gradient sums to zero over the classes of each row.
    torch.testing.assert_close(logits.grad.sum(dim=1), torch.zeros(len(y)), atol=1e-6, rtol=0)


@pytest.mark.parametrize("kwargs", [{"gamma": -1.0}, {"label_smoothing": 1.5}, {"reduction": "avg"},
                                    {"weight": torch.ones(3)}])
def test_focal_rejects_bad_arguments(kwargs: dict) -> None:
    logits, y = batch()
    with pytest.raises(InputError):
        focal_loss(logits, y, **kwargs)


def test_focal_rejects_bad_shapes() -> None:
    logits, y = batch()
    with pytest.raises(InputError, match="target"):
        focal_loss(logits, y[:-1])
    with pytest.raises(InputError, match="logits"):
        focal_loss(logits[0], y)


def test_rdrop_kl_matches_scipy() -> None:
    a, _ = batch(n=8, k=5, seed=2)
    b, _ = batch(n=8, k=5, seed=3)
    pa, pb = F.softmax(a.double(), dim=1).numpy(), F.softmax(b.double(), dim=1).numpy()
    want = np.mean([0.5 * (entropy(pa[i], pb[i]) + entropy(pb[i], pa[i])) for i in range(len(pa))])
    assert rdrop_kl(a.double(), b.double()).item() == pytest.approx(want, rel=1e-10)


def test_rdrop_kl_zero_and_symmetric() -> None:
    a, _ = batch(seed=4)
    b, _ = batch(seed=5)
    assert rdrop_kl(a, a).item() == 0.0
    assert rdrop_kl(a, b).item() == pytest.approx(rdrop_kl(b, a).item(), rel=1e-6)
    assert rdrop_kl(a, b).item() > 0
    # Shifting a row's logits by a constant leaves its softmax unchanged.
    assert rdrop_kl(a, a + 3.0).item() == pytest.approx(0.0, abs=1e-6)


def test_rdrop_kl_rejects_mismatched_shapes() -> None:
    a, _ = batch()
    with pytest.raises(InputError):
        rdrop_kl(a, a[:, :3])


def test_soft_label_loss_terms_against_their_formulas() -> None:
    from runcard.train.losses import soft_label_loss

    g = torch.Generator().manual_seed(0)
    logits = torch.randn(6, 3, generator=g, dtype=torch.float64)
    target = torch.softmax(torch.randn(6, 3, generator=g, dtype=torch.float64), dim=1)
    t, eps, beta, lam, gamma = 0.7, 0.1, 0.3, 0.2, 1.5
    terms = soft_label_loss(logits, target, temperature=t, label_smoothing=eps, entropy_reg=beta,
                            max_suppression=lam, focal_gamma=gamma)
    z = logits.numpy() / t
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    q = (1 - eps) * target.numpy() + eps / 3
    fit = np.mean(np.sum(q * (1 - p) ** gamma * -np.log(p), axis=1))
    entropy = -np.sum(p * np.log(p), axis=1).mean()
    assert float(terms["fit"]) == pytest.approx(fit, rel=1e-12)
    assert float(terms["entropy"]) == pytest.approx(-beta * entropy, rel=1e-12)
    assert float(terms["max_prob"]) == pytest.approx(lam * p.max(1).mean(), rel=1e-12)
    assert float(terms["total"]) == pytest.approx(fit - beta * entropy + lam * p.max(1).mean(), rel=1e-12)


def test_soft_cross_entropy_is_kl_plus_target_entropy() -> None:
    from scipy.stats import entropy as scipy_entropy

    from runcard.train.losses import soft_label_loss

    g = torch.Generator().manual_seed(1)
    logits = torch.randn(5, 4, generator=g, dtype=torch.float64)
    target = torch.softmax(torch.randn(5, 4, generator=g, dtype=torch.float64), dim=1)
    p = torch.softmax(logits, dim=1).numpy()
    t = target.numpy()
    expected = np.mean([scipy_entropy(t[i], p[i]) + scipy_entropy(t[i]) for i in range(5)])
    assert float(soft_label_loss(logits, target)["fit"]) == pytest.approx(expected, rel=1e-12)
    assert set(soft_label_loss(logits, target)) == {"fit", "total"}
