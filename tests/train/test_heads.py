"""Pooling against hand computations; classifier head layout; the multi-task model on a tiny BERT."""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

from runcard.errors import InputError
from runcard.train.heads import ClassifierHead, MultiTaskModel, pool


def states(n_layers: int = 3, b: int = 2, t: int = 4, h: int = 5) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return [torch.randn(b, t, h, generator=g, dtype=torch.float64) for _ in range(n_layers + 1)]


MASK = torch.tensor([[1, 1, 1, 0], [1, 1, 0, 0]])


def test_cls_is_first_token_of_last_layer() -> None:
    hs = states()
    torch.testing.assert_close(pool(hs, MASK, "cls"), hs[-1][:, 0])


def test_mean_by_hand() -> None:
    hs = states()
    want = torch.stack([hs[-1][0, :3].mean(dim=0), hs[-1][1, :2].mean(dim=0)])
    torch.testing.assert_close(pool(hs, MASK, "mean"), want)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_mean_last_k_by_hand(k: int) -> None:
    hs = states()
    rows = []
    for i, n_tokens in enumerate([3, 2]):
        tokens = [sum(hs[-j][i, t] for j in range(1, k + 1)) / k for t in range(n_tokens)]
        rows.append(sum(tokens) / n_tokens)
    torch.testing.assert_close(pool(hs, MASK, "mean_last_k", k=k), torch.stack(rows))
    if k == 1:
        torch.testing.assert_close(pool(hs, MASK, "mean_last_k", k=1), pool(hs, MASK, "mean"))


@pytest.mark.parametrize("method", ["mean", "mean_last_k"])
def test_padding_does_not_change_mean(method: str) -> None:
    hs = states()
    noisy = [h.clone() for h in hs]
    for h in noisy:
        h[MASK == 0] = 1e6
    torch.testing.assert_close(pool(noisy, MASK, method, k=2), pool(hs, MASK, method, k=2))  # type: ignore[arg-type]


def test_pool_rejects_bad_input() -> None:
    hs = states()
    with pytest.raises(InputError, match="number of layers"):
        pool(hs, MASK, "mean_last_k", k=4)
    with pytest.raises(InputError, match="method"):
        pool(hs, MASK, "max")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="attention_mask"):
        pool(hs, MASK[:, :3], "mean")
    with pytest.raises(InputError, match="output_hidden_states"):
        pool(hs[:1], MASK, "mean")


def test_head_depth_one() -> None:
    head = ClassifierHead(16, 3)
    assert [type(m) for m in head.net] == [nn.Dropout, nn.Linear]
    assert (head.net[1].in_features, head.net[1].out_features) == (16, 3)
    assert head(torch.randn(4, 16)).shape == (4, 3)


def test_head_depth_three() -> None:
    head = ClassifierHead(16, 5, depth=3, hidden=8, dropout=0.2)
    linears = [m for m in head.net if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(16, 8), (8, 8), (8, 5)]
    assert sum(isinstance(m, nn.GELU) for m in head.net) == 2
    assert isinstance(head.net[0], nn.Dropout) and isinstance(head.net[-1], nn.Linear)
    assert head(torch.randn(4, 16)).shape == (4, 5)


@pytest.mark.parametrize("kwargs", [{"depth": 0}, {"dropout": 1.0}, {"hidden": 0}])
def test_head_rejects_bad_settings(kwargs: dict) -> None:
    with pytest.raises(InputError):
        ClassifierHead(16, 3, **kwargs)


def batch() -> tuple[torch.Tensor, torch.Tensor]:
    ids = torch.tensor([[2, 5, 7, 9, 0, 0], [3, 4, 8, 1, 6, 2]])
    return ids, (ids != 0).long()


@pytest.mark.parametrize("pooling", ["cls", "mean", "mean_last_k"])
def test_multitask_shapes_and_order(tiny_bert: Any, pooling: str) -> None:
    tasks = {"topic": 4, "sentiment": 3, "spam": 2}
    model = MultiTaskModel(tiny_bert, tasks, pooling=pooling, k=2, depth=2, hidden=8)  # type: ignore[arg-type]
    out = model(*batch())
    assert list(out) == list(tasks) == list(model.heads)
    assert {t: tuple(v.shape) for t, v in out.items()} == {t: (2, n) for t, n in tasks.items()}


def test_multitask_dropout_train_vs_eval(tiny_bert: Any) -> None:
    model = MultiTaskModel(tiny_bert, {"a": 3, "b": 2}, dropout=0.3)
    ids, mask = batch()
    torch.manual_seed(1)
    model.train()
    first, second = model(ids, mask), model(ids, mask)
    assert not torch.allclose(first["a"], second["a"])
    model.eval()
    with torch.no_grad():
        first, second = model(ids, mask), model(ids, mask)
    torch.testing.assert_close(first, second, atol=0, rtol=0)


def test_multitask_padding_invariant_in_eval(tiny_bert: Any) -> None:
    model = MultiTaskModel(tiny_bert, {"a": 3}).eval()
    ids = torch.tensor([[2, 5, 7]])
    padded = torch.tensor([[2, 5, 7, 0, 0]])
    with torch.no_grad():
        short = model(ids, torch.ones_like(ids))["a"]
        long = model(padded, (padded != 0).long())["a"]
    torch.testing.assert_close(short, long, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(("tasks", "kwargs"), [({}, {}), ({"a.b": 2}, {}), ({"a": 2}, {"pooling": "max"}),
                                                ({"a": 2}, {"pooling": "mean_last_k", "k": 4})])
def test_multitask_rejects_bad_settings(tiny_bert: Any, tasks: dict, kwargs: dict) -> None:
    with pytest.raises(InputError):
        MultiTaskModel(tiny_bert, tasks, **kwargs)
