"""Diverged runs are the ones users inspect: a NaN loss and an infinite gradient norm never break a --json
output. Every JSON document parses under a strict RFC 8259 parser, with "NaN", "Infinity", "-Infinity" strings."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from runcard import start_run
from runcard.jsonsafe import dumps, finite
from tests.report.test_acceptance import env, run  # noqa: F401 - fixture and helper


def strict(text: str) -> Any:
    def refuse(token: str) -> Any:
        raise AssertionError(f"{token} is not JSON")

    return json.loads(text, parse_constant=refuse)


def diverged(name: str, seed: int) -> str:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, 200)
    p = rng.dirichlet([1, 1, 1], 200)
    with start_run("diverged", name=name, config={"lr": 10.0}) as r:
        with r.stage("train"):
            r.log_metrics({"train/loss": 2.0, "grad_norm": 1.0}, step=0)
            r.log_metrics({"train/loss": float("nan"), "grad_norm": float("inf")}, step=1)
            r.log_metric("val/score", float("-inf"), step=1)
        r.log_predictions("val", y[:100], p[:100])
        r.log_predictions("test", y, p)
    return r.id


def test_every_json_command_is_valid_json(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    a, b = diverged("a", 1), diverged("b", 2)
    outputs = {
        "runs": run(env, "runs", "--json"), "show": run(env, "show", a, "--json"), "card": run(env, "card", a, "--json"),
        "compare": run(env, "compare", a, b, "--json"), "summary": run(env, "summary", "--project", "diverged", "--json"),
    }
    docs = {}
    for name, result in outputs.items():
        assert result.returncode == 0, (name, result.stderr)
        docs[name] = strict(result.stdout)
    shown = docs["show"]["summary"]
    assert shown["train/loss"] == "NaN" and shown["grad_norm"] == "Infinity" and shown["val/score"] == "-Infinity"
    assert next(r for r in docs["runs"] if r["id"] == a)["summary"]["grad_norm"] == "Infinity"
    curve = docs["card"]["training"]["curves"]["train/loss"]
    assert curve[1] == [1, "NaN"]
    out = tmp_path / "card.json"
    assert run(env, "card", a, "--json", "--out", out).returncode == 0
    assert strict(out.read_text())["kind"] == "card"


def test_the_convention_is_the_protobuf_json_mapping() -> None:
    assert finite([1.0, math.nan, math.inf, -math.inf, {"x": np.float64("nan")}]) == [1.0, "NaN", "Infinity",
                                                                                       "-Infinity", {"x": "NaN"}]
    assert dumps({"a": float("nan")}) == '{"a": "NaN"}'
