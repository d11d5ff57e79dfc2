"""The generations section of a run card: each split's logged generations scored alone, from the stored
samples, with bootstrap CIs over prompts (`runcard.generation`).

A card shows what is cheap to compute for thousands of samples: pass@k and distinct-n. Self-BLEU and
semantic diversity cost seconds per thousand samples (and a model), so they are left to
`runcard eval-gen` and `runcard compare`, and the card says so.
"""

from __future__ import annotations

from typing import Any

from runcard.errors import InputError
from runcard.generation.evaluate_generations import evaluate_generations
from runcard.generation.stored import generation_splits, load_run_generations
from runcard.report.rows import Rows, metric_with_ci
from runcard.store import Run, Store

#: Why two metrics are not on the card.
LEFT_OUT = ("Self-BLEU and semantic diversity are not computed on a card (seconds per thousand samples); "
            "`runcard eval-gen` or `runcard compare` of runs give them.")


def card_generations(store: Store, run: Run, *, n_boot: int = 1000, seed: int = 0) -> list[dict[str, Any]]:
    """Per split with logged generations: its size and the evaluation of each of its systems (or why not)."""
    out: list[dict[str, Any]] = []
    for split in sorted(generation_splits(run)):
        table_ = load_run_generations(store, run, split)
        entry: dict[str, Any] = {"split": split, "samples": table_.n, "prompts": len(table_.prompts()),
                                 "systems": list(table_.systems())}
        try:
            ev = evaluate_generations(table_, embed=None, self_bleu=False, n_boot=n_boot, seed=seed)
        except InputError as exc:
            out.append({**entry, "evaluated": False, "reason": str(exc)})
            continue
        out.append({**entry, "evaluated": True, "evaluation": ev.to_dict()})
    return out


def card_generation_rows(entry: dict[str, Any]) -> Rows:
    """One row per system: pass@k and distinct-n, each with its 95 % CI."""
    systems = entry["evaluation"]["systems"]
    keys = [k for k in systems[0]["metrics"] if k.startswith("pass@")]
    keys += [k for k in systems[0]["metrics"] if k.startswith("distinct_") and not k.endswith("_per_prompt")]
    rows = [[s["system"], *(metric_with_ci(s["metrics"][k]) if k in s["metrics"] else "—" for k in keys)]
            for s in systems]
    return ["system", *(f"{k} (95 % CI)" for k in keys)], rows


def card_generation_lines(entry: dict[str, Any]) -> tuple[str, list[str]]:
    """A split's heading and the lines under its table."""
    head = f"{entry['split']}: {entry['samples']:,} samples over {entry['prompts']:,} prompts"
    if not entry["evaluated"]:
        return head, [f"Not evaluated: {entry['reason']}"]
    return head, [LEFT_OUT, f"Signature: `{entry['evaluation']['settings']['signature']}`"]
