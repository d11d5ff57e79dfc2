"""LLRD groups on a tiny BERT checked by formula; warmup against Hugging Face's schedule."""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
nn = torch.nn

from runcard.errors import InputError
from runcard.train.optim import linear_warmup_scheduler, llrd_param_groups, warmup_linear

LR, DECAY, HEAD_MULT, WD = 1e-3, 0.8, 5.0, 0.01


def head() -> nn.Module:
    return nn.Sequential(nn.Linear(16, 8), nn.LayerNorm(8), nn.Linear(8, 3))


def groups_by_name(groups: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    names = [g["name"] for g in groups]
    assert len(names) == len(set(names))
    return {g["name"]: g for g in groups}


def test_every_trainable_parameter_in_exactly_one_group(tiny_bert: Any) -> None:
    top = head()
    groups = llrd_param_groups(tiny_bert, top, lr=LR, decay=DECAY, weight_decay=WD)
    grouped = [id(p) for g in groups for p in g["params"]]
    assert len(grouped) == len(set(grouped))
    trainable = {id(p) for m in (tiny_bert, top) for p in m.parameters() if p.requires_grad}
    assert set(grouped) == trainable
    assert all(g["params"] for g in groups)
    assert all(set(g) == {"params", "lr", "weight_decay", "name"} for g in groups)


def test_learning_rates_by_formula(tiny_bert: Any) -> None:
    groups = groups_by_name(llrd_param_groups(tiny_bert, head(), lr=LR, decay=DECAY, head_lr_multiplier=HEAD_MULT,
                                              weight_decay=WD))
    n_layers = 3
    want = {"embeddings": LR * DECAY**n_layers, "other": LR, "head": LR * HEAD_MULT}
    want |= {f"layer.{i}": LR * DECAY ** (n_layers - 1 - i) for i in range(n_layers)}
    assert set(groups) == set(want) | {f"{name}.no_decay" for name in want}
    for name, group in groups.items():
        assert group["lr"] == pytest.approx(want[name.removesuffix(".no_decay")])
        assert group["weight_decay"] == (0.0 if name.endswith(".no_decay") else WD)
    assert groups["layer.2"]["lr"] == pytest.approx(LR)  # the top layer gets the base rate
    assert list(groups)[:2] == ["embeddings", "embeddings.no_decay"]


def test_decay_split_follows_names(tiny_bert: Any) -> None:
    names = {id(p): n for n, p in tiny_bert.named_parameters()}
    groups = groups_by_name(llrd_param_groups(tiny_bert, head(), lr=LR, weight_decay=WD))
    for name in ("layer.1", "layer.1.no_decay"):
        members = [names[id(p)] for p in groups[name]["params"]]
        assert all(".layer.1." in n for n in members)
        no_decay = [n.endswith(".bias") or "LayerNorm" in n for n in members]
        assert all(no_decay) if name.endswith("no_decay") else not any(no_decay)
    assert [names[id(p)] for p in groups["other"]["params"]] == ["pooler.dense.weight"]
    # The head's LayerNorm is named "1.weight": found by its module type, not its name.
    assert len(groups["head"]["params"]) == 2 and len(groups["head.no_decay"]["params"]) == 4


def test_frozen_parameters_are_left_out(tiny_bert: Any) -> None:
    for p in tiny_bert.embeddings.parameters():
        p.requires_grad_(False)
    groups = groups_by_name(llrd_param_groups(tiny_bert, head(), lr=LR, decay=DECAY))
    assert "embeddings" not in groups and "embeddings.no_decay" not in groups
    # The depth of the top layer is still read from the remaining names.
    assert groups["layer.0"]["lr"] == pytest.approx(LR * DECAY**2)


def test_adamw_accepts_groups_and_scheduler_scales_each(tiny_bert: Any) -> None:
    groups = llrd_param_groups(tiny_bert, head(), lr=LR, decay=DECAY, head_lr_multiplier=HEAD_MULT, weight_decay=WD)
    base = [g["lr"] for g in groups]
    optimizer = torch.optim.AdamW(groups)
    scheduler = linear_warmup_scheduler(optimizer, total_steps=10, warmup_ratio=0.2)
    assert [g["lr"] for g in optimizer.param_groups] == [0.0] * len(base)
    loss = tiny_bert(input_ids=torch.tensor([[1, 2, 3]])).last_hidden_state.sum()
    loss.backward()
    optimizer.step()
    scheduler.step()
    assert [g["lr"] for g in optimizer.param_groups] == pytest.approx([0.5 * b for b in base])
    assert optimizer.param_groups[0]["name"] == "embeddings"


@pytest.mark.parametrize(("total", "warmup"), [(10, 3), (7, 0), (5, 5), (12, 1)])
def test_warmup_linear_matches_hugging_face(total: int, warmup: int) -> None:
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0)
    scheduler = transformers.get_linear_schedule_with_warmup(optimizer, warmup, total)
    for step in range(total + 3):
        assert optimizer.param_groups[0]["lr"] == pytest.approx(warmup_linear(step, total, warmup))
        optimizer.step()
        scheduler.step()


def test_scheduler_warmup_steps_round_up() -> None:
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0)
    scheduler = linear_warmup_scheduler(optimizer, total_steps=10, warmup_ratio=0.25)  # ceil(2.5) = 3
    lrs = []
    for _ in range(4):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert lrs == pytest.approx([0.0, 1 / 3, 2 / 3, 1.0])


@pytest.mark.parametrize("kwargs", [{"lr": 0.0}, {"lr": 1e-3, "decay": 0.0}, {"lr": 1e-3, "head_lr_multiplier": -1.0},
                                    {"lr": 1e-3, "weight_decay": -0.1}])
def test_rejects_bad_settings(tiny_bert: Any, kwargs: dict) -> None:
    with pytest.raises(InputError):
        llrd_param_groups(tiny_bert, head(), **kwargs)


def test_rejects_shared_parameters(tiny_bert: Any) -> None:
    with pytest.raises(InputError, match="share"):
        llrd_param_groups(tiny_bert, tiny_bert.pooler, lr=LR)


@pytest.mark.parametrize(("total", "ratio"), [(0, 0.1), (10, 1.5)])
def test_scheduler_rejects_bad_settings(total: int, ratio: float) -> None:
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0)
    with pytest.raises(InputError):
        linear_warmup_scheduler(optimizer, total, ratio)
