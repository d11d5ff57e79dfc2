"""The experiment's summary across arms: each arm's pass@k and diversity with CIs, paired differences
against the supervised model and against the lambda = 0 noise floor, and the weight hashes, as a
JSON-ready dict and as Markdown.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from runcard.generation.evaluate_generations import GenerationEvaluation

#: Diversity columns of the summary tables, in order (pass@k columns come first, one per k).
DIVERSITY = ("distinct_1", "distinct_2", "self_bleu", "semantic_diversity")


@dataclass(frozen=True)
class ArmRecord:
    """One run of the experiment: its name, run id, objective, lambda, RL seed and weight hash."""

    name: str
    run_id: str
    objective: str
    lam: float | None
    seed: int | None
    weights_sha256: str


def weight_checks(arms: Sequence[ArmRecord]) -> dict[str, Any]:
    """Per objective: are the trained arms' weights identical (one hash), or all different?"""
    out: dict[str, Any] = {}
    for objective in sorted({a.objective for a in arms if a.objective != "supervised"}):
        hashes = {a.name: a.weights_sha256 for a in arms if a.objective == objective}
        distinct = len(set(hashes.values()))
        out[objective] = {"hashes": hashes, "distinct_hashes": distinct,
                          "identical": distinct == 1, "all_different": distinct == len(hashes)}
    return out


def _fmt(value: float | None, ci: Sequence[float] | None = None, digits: int = 3) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    text = f"{value:.{digits}f}"
    return text + (f" [{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]" if ci is not None else "")


def system_table(ev: GenerationEvaluation, columns: Sequence[str]) -> list[list[str]]:
    """One row per system: its name and each metric of ``columns`` with its 95 % CI."""
    return [[s.system] + [_fmt(s.metrics[m].value, s.metrics[m].ci95) if m in s.metrics else "n/a" for m in columns]
            for s in ev.systems]


def difference_table(ev: GenerationEvaluation, columns: Sequence[str]) -> list[list[str]]:
    """One row per system after the first: B - A on each metric of ``columns`` with its paired CI; a star
    marks a CI that excludes 0."""
    rows = []
    for system, diffs in ev.differences.items():
        cells = []
        for m in columns:
            d = diffs.get(m)
            if d is None:
                cells.append("n/a")
                continue
            star = "" if d.ci95 is None or d.ci95[0] <= 0 <= d.ci95[1] else " *"
            cells.append(_fmt(d.b_minus_a, d.ci95) + star)
        rows.append([system, *cells])
    return rows


def markdown_table(header: Sequence[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def summary_markdown(doc: dict[str, Any], tables: dict[str, tuple[list[str], list[list[str]]]]) -> str:
    """The summary as Markdown: the arms, each table (``{key: (columns, rows)}``), the weight-hash checks
    and how to compare the runs."""
    parts = [f"# Polychromic experiment {doc['supervised_run']}", "",
             (f"Held-out prompts: {doc['heldout_prompts']} ({doc['samples_per_prompt']} samples each); CIs: 95 % "
              f"percentile bootstrap over prompts ({doc['n_boot']} draws, paired across systems). A star marks a "
              "paired difference whose CI excludes 0."), "",
             markdown_table(["arm", "run", "objective", "lambda", "seed", "weights sha256"],
                            [[a["name"], a["run_id"], a["objective"], "" if a["lambda"] is None else f"{a['lambda']:g}",
                              "" if a["seed"] is None else str(a["seed"]), a["weights_sha256"][:16]]
                             for a in doc["arms"]])]
    titles = {"systems_a": "Each system: pass judged by classifier A, diversity of all samples",
              "systems_ab": "Each system: pass judged by classifiers A and B",
              "vs_supervised_a": "Paired difference against the supervised model (A)",
              "vs_supervised_ab": "Paired difference against the supervised model (A and B)",
              "vs_noise_a": "Polychromic arms: paired difference against the first lambda = 0 arm (the noise floor; A)",
              "passing": "Diversity of the passing samples only (each system alone)"}
    for key, (columns, rows) in tables.items():
        parts += ["", f"## {titles.get(key, key)}", "", markdown_table(["system", *columns], rows)]
    parts += ["", "## Weights", ""]
    for objective, check in doc["weights"].items():
        verdict = "identical" if check["identical"] else ("all different" if check["all_different"] else
                                                          f"{check['distinct_hashes']} distinct")
        parts.append(f"- {objective}: {len(check['hashes'])} arms, weights {verdict}")
    parts += ["", "## Compare the stored runs", "", "```", doc["compare_command"], "```", ""]
    return "\n".join(parts)
