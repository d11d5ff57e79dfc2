"""The generations section of a run comparison: each run against the first on the generations both
logged for a split (the paired comparison of `runcard.generation`), as data and as Markdown/HTML rows.

Semantic diversity needs the all-MiniLM-L6-v2 package; when it is not installed the section says so
under ``not_computed`` (the lexical metrics and pass@k are computed either way).
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

import numpy as np

from runcard.errors import InputError
from runcard.findings.finding import Finding
from runcard.generation.evaluate_generations import evaluate_generations
from runcard.generation.semantic import CachedEmbedder, Embedder
from runcard.generation.stored import generation_splits, load_run_generations
from runcard.generation.table import GenerationTable
from runcard.report.html import html_table
from runcard.report.markdown import table
from runcard.report.rows import Rows, metric_with_ci
from runcard.store import Run, Store

#: "auto": the packaged MiniLM when installed; None: no semantic diversity; or any embedder.
EmbedChoice = Embedder | str | None


def has_generations(runs: list[Run]) -> bool:
    return any(generation_splits(r) for r in runs)


def generations_section(store: Store, runs: list[Run], *, n_boot: int, seed: int,
                        embed: EmbedChoice = "auto") -> tuple[list[dict[str, Any]], list[Finding]]:
    """Paired comparisons (B = each later run, A = the first) on every split both logged generations for."""
    out: list[dict[str, Any]] = []
    findings: list[Finding] = []
    base = runs[0]
    loaded_embed: Callable[[], tuple[Embedder | None, str | None, str | None]] = _embedder(embed)
    for other in runs[1:]:
        mine, theirs = generation_splits(base), generation_splits(other)
        for split in [*mine, *(s for s in theirs if s not in mine)]:
            entry = {"a": base.id, "b": other.id, "split": split}
            if split not in mine or split not in theirs:
                missing = base.id if split not in mine else other.id
                out.append({**entry, "paired": False, "reason": f"run {missing} logged no generations for {split!r}"})
                continue
            try:
                table = _paired_table(load_run_generations(store, base, split), base.id,
                                      load_run_generations(store, other, split), other.id)
                fn, model, why = loaded_embed()
                ev = evaluate_generations(table, systems=[base.id, other.id], embed=fn, n_boot=n_boot, seed=seed,
                                          model=model)
            except InputError as exc:
                out.append({**entry, "paired": False, "reason": str(exc)})
                continue
            doc = ev.to_dict()
            if why:
                doc["not_computed"]["semantic_diversity"] = why
            out.append({**entry, "paired": True, "evaluation": doc})
            findings += [_with_split(f, split) for f in ev.findings]
    return out, findings


def _with_split(f: Finding, split: str) -> Finding:
    return Finding(f.kind, f.severity, f"{split} generations: {f.title}", f.evidence, f.advice, f.runs, (split,),
                   f.classes, f.metrics)


def _paired_table(a: GenerationTable, a_name: str, b: GenerationTable, b_name: str) -> GenerationTable:
    """One table holding both runs' samples, the system column set to the run ids (one system per run)."""
    for run, part in ((a_name, a), (b_name, b)):
        if len(part.systems()) != 1:
            raise InputError(f"run {run}: its generations hold {len(part.systems())} systems "
                             f"{list(part.systems())[:5]}; compare runs that each logged one system, or compare "
                             "the systems of one file with runcard eval-gen.")
    if (a.passed is None) != (b.passed is None) or (a.quality is None) != (b.quality is None):
        raise InputError(f"runs {a_name} and {b_name} logged different columns (passed/quality); log the same "
                         "columns in both to compare them.")
    system = np.array([a_name] * a.n + [b_name] * b.n, dtype=object)
    joined = [np.concatenate([x, y]) if x is not None and y is not None else None
              for x, y in ((a.passed, b.passed), (a.quality, b.quality))]
    return GenerationTable(np.concatenate([a.prompt_id, b.prompt_id]), np.concatenate([a.sample, b.sample]), system,
                           joined[0], joined[1], f"runs {a_name} and {b_name}")


def _embedder(choice: EmbedChoice) -> Callable[[], tuple[Embedder | None, str | None, str | None]]:
    """Loads the model at most once, and only when a pair is compared: (embedder, model name, why not)."""
    cache: list[tuple[Embedder | None, str | None, str | None]] = []

    def get() -> tuple[Embedder | None, str | None, str | None]:
        if not cache:
            cache.append(_resolve(choice))
        return cache[0]

    return get


def _resolve(choice: EmbedChoice) -> tuple[Embedder | None, str | None, str | None]:
    if choice is None:
        return None, None, "not requested"
    if callable(choice):
        return choice, None, None
    from runcard.generation.embedding import MODEL_NAME, MODEL_PACKAGE, load_embedder

    try:  # each distinct text once: the first run's samples are in every pair, and splits often share samples
        return CachedEmbedder(load_embedder()), MODEL_NAME, None
    except InputError as exc:
        return None, None, f"{MODEL_PACKAGE} could not be loaded ({exc})"


def generation_rows(entry: dict[str, Any]) -> Rows:
    """Per metric: A and B with their CIs, B − A with its paired CI, and the change in words."""
    ev = entry["evaluation"]
    a, b = ev["systems"]
    diffs = ev["differences"][0]["metrics"]
    rows = []
    for key, d in diffs.items():
        ma, mb = a["metrics"][key], b["metrics"][key]
        ci = d["ci95"]
        noise = ci is not None and ci[0] <= 0 <= ci[1] and d["change"] != "no change"
        rows.append([key, ma["label"], metric_with_ci(ma), metric_with_ci(mb),
                     "—" if d["b_minus_a"] is None else f"{d['b_minus_a']:+.4f}",
                     "—" if ci is None else f"[{ci[0]:+.4f}, {ci[1]:+.4f}]",
                     d["change"] + (", within noise" if noise else "")])
    return ["metric", "direction", f"A = {entry['a']} (95 % CI)", f"B = {entry['b']} (95 % CI)", "B − A", "95 % CI",
            "change"], rows


def generation_notes(entry: dict[str, Any]) -> list[str]:
    """The lines under a pair's table: what was not computed, and the settings' signature."""
    if not entry["paired"]:
        return [f"Not paired: {entry['reason']}"]
    ev = entry["evaluation"]
    lines = [f"Not computed: {what}: {why}." for what, why in ev["not_computed"].items()]
    return [*lines, f"Signature: `{ev['settings']['signature']}`"]


def generations_markdown(entries: list[dict[str, Any]]) -> str:
    """One table per compared pair and split, with its notes."""
    parts = []
    for entry in entries:
        parts.append(f"### {entry['split']}: {entry['b']} (B) against {entry['a']} (A)\n")
        if entry["paired"]:
            parts += [table(*generation_rows(entry)), ""]
        parts += [*generation_notes(entry), ""]
    return "\n".join(parts)


def generations_html(entries: list[dict[str, Any]]) -> str:
    parts = []
    for entry in entries:
        parts.append(f"<h3>{escape(entry['split'])}: {escape(entry['b'])} (B) against {escape(entry['a'])} (A)</h3>")
        if entry["paired"]:
            parts.append(html_table(*generation_rows(entry)))
        parts += [f'<p class="muted">{escape(line)}</p>' for line in generation_notes(entry)]
    return "".join(parts)
