"""The polychromic experiment's closing summary: every system on the held-out prompts with paired
bootstrap differences (against the supervised model and against the lambda = 0 noise floor), the
diversity of passing samples, and the weight-hash checks; written as JSON and Markdown beside the cards.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from runcard.data.atomic import atomic_path
from runcard.generation.evaluate_generations import evaluate_generations
from runcard.jsonsafe import dumps
from runcard.recipes.polychromic.arm import ArmOutcome, Setup
from runcard.recipes.polychromic.closing_tables import (
    DIVERSITY,
    difference_table,
    summary_markdown,
    system_table,
    weight_checks,
)
from runcard.recipes.polychromic.config import PolyConfig
from runcard.recipes.polychromic.held_out import evaluate_systems, passing_only
from runcard.recipes.progress import Reporter
from runcard.store import absolute_url, store_url


def store_option(url: str | None) -> str:
    """`` --store URL`` for a printed command when ``url`` is not the store in effect (so the command finds the
    runs); empty otherwise, and for a URL with a password (give it with RUNCARD_STORE)."""
    if url is None or absolute_url(url) == absolute_url(store_url()) or make_url(url).password:
        return ""
    return f" --store {url}"


def write_summary(config: PolyConfig, setup: Setup, supervised: ArmOutcome, arms: list[ArmOutcome],
                  say: Reporter, store_url: str | None = None) -> dict[str, float]:
    """Evaluate all systems together, write ``polychromic-<supervised run>.{json,md}`` to ``report.out_dir``,
    print the verdicts; returns the headline metrics per arm (``<arm>/test/pass@1`` ...). ``store_url``: where
    the runs are, for the printed `runcard compare` command."""
    ev = config.evaluation
    everyone = [supervised, *arms]
    samples = [o.samples for o in everyone]
    options: dict[str, Any] = {"ks": list(ev.ks), "n_boot": ev.n_boot, "seed": config.experiment.seed}
    evaluations = {"systems_a": evaluate_systems(samples, "test", embed=setup.embed, **options),
                   "systems_ab": evaluate_systems(samples, "test_a_and_b", embed=None, self_bleu=False, **options)}
    noise = [o for o in arms if o.record.objective == "polychromic" and o.record.lam == 0]
    if noise:  # the polychromic arms against the first lambda = 0 seed
        others = [noise[0].samples] + [o.samples for o in arms
                                       if o is not noise[0] and o.record.objective == "polychromic"]
        evaluations["vs_noise_a"] = evaluate_systems(others, "test", embed=setup.embed, **options)
    passes = [f"pass@{k}" for k in ev.ks]
    tables = {"systems_a": (passes + list(DIVERSITY), system_table(evaluations["systems_a"], passes + list(DIVERSITY))),
              "systems_ab": (passes, system_table(evaluations["systems_ab"], passes)),
              "vs_supervised_a": (passes + list(DIVERSITY),
                                  difference_table(evaluations["systems_a"], passes + list(DIVERSITY))),
              "vs_supervised_ab": (passes, difference_table(evaluations["systems_ab"], passes))}
    if "vs_noise_a" in evaluations:
        tables["vs_noise_a"] = (passes + list(DIVERSITY),
                                difference_table(evaluations["vs_noise_a"], passes + list(DIVERSITY)))
    tables["passing"] = (list(DIVERSITY), [row for o in everyone for row in _passing_row(o, setup, options)])
    records = [o.record for o in everyone]
    doc = {
        "kind": "polychromic_summary", "supervised_run": supervised.record.run_id,
        "heldout_prompts": len(setup.heldout_prompts), "samples_per_prompt": ev.samples_per_prompt,
        "n_boot": ev.n_boot,
        "arms": [{"name": r.name, "run_id": r.run_id, "objective": r.objective, "lambda": r.lam, "seed": r.seed,
                  "weights_sha256": r.weights_sha256} for r in records],
        "weights": weight_checks(records),
        "compare_command": "runcard compare " + " ".join(r.run_id for r in records) + store_option(store_url),
        "evaluations": {k: v.to_dict() for k, v in evaluations.items()},
    }
    out = Path(config.report.out_dir)
    out = out if out.is_absolute() else Path.cwd() / out
    stem = out / f"polychromic-{supervised.record.run_id}"
    with atomic_path(stem.with_suffix(".json")) as tmp:
        tmp.write_text(dumps(doc, indent=2, default=str), encoding="utf-8")
    with atomic_path(stem.with_suffix(".md")) as tmp:
        tmp.write_text(summary_markdown(doc, tables), encoding="utf-8")
    _say(doc, tables, stem, say)
    return {f"{o.record.name}/{k}": v for o in everyone for k, v in o.metrics.items()
            if k.split("/", 1)[0] in ("test", "test_a_and_b") and not k.endswith(("_ci_low", "_ci_high"))
            and (k.split("/", 1)[1].startswith("pass@") or k.split("/", 1)[1] in DIVERSITY)}


def _passing_row(outcome: ArmOutcome, setup: Setup, options: dict[str, Any]) -> list[list[str]]:
    table = passing_only(outcome.samples)
    if table is None:
        return [[outcome.record.name] + ["no passing sample"] + ["n/a"] * (len(DIVERSITY) - 1)]
    ev = evaluate_generations(table, ks=[], embed=setup.embed, n_boot=options["n_boot"], seed=options["seed"])
    return system_table(ev, DIVERSITY)


def _say(doc: dict[str, Any], tables: dict[str, tuple[list[str], list[list[str]]]], stem: Path, say: Reporter) -> None:
    for objective, check in doc["weights"].items():
        if objective == "documented":
            verdict = "identical for every lambda (its diversity term has no gradient)" if check["identical"] \
                else "DIFFERENT across lambdas: unexpected for a loss term without gradient"
        else:
            verdict = "all different" if check["all_different"] else f"{check['distinct_hashes']} distinct hashes"
        say.line(f"{objective} arms: weights {verdict}")
    columns, rows = tables["systems_a"]
    last = max(i for i, c in enumerate(columns) if c.startswith("pass@"))
    for row in rows:
        say.line(f"  {row[0]}: {columns[0]} {row[1]}; {columns[last]} {row[last + 1]}")
    say.line(f"summary: {stem.with_suffix('.md')}; compare the runs with: {doc['compare_command']}")
