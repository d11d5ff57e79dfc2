"""Runs (or prediction files) side by side, as data: the verdict first, then the paired tests behind it, the
comparison's own findings, one line per run with its own findings counted, every metric's change, the
config diff, targets.

The first subject is the baseline A; each other one is B. Paired tests run on the held-out splits both have
(val and test; train only on request); the verdict says, per primary metric on test, whether B is better,
worse or within noise of A, from the paired bootstrap CI of B − A. Each run's own findings stay on its card:
the comparison counts them and names the card, and never copies them.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from runcard._version import __version__
from runcard.compare import compare_tables, mcnemar_se, minimum_detectable, pair_tables
from runcard.configs import config_differences, flatten_config
from runcard.data.toml import read_toml
from runcard.errors import InputError
from runcard.eval_settings import EvalSettings
from runcard.findings import ALPHA, judge_group, not_significant, run_findings, sort_findings
from runcard.findings.budget import holm
from runcard.findings.finding import Finding
from runcard.metrics.directions import direction, is_counter
from runcard.report.card_result import LABELS
from runcard.report.examples import discordant
from runcard.report.generations import EmbedChoice, generations_section, has_generations
from runcard.report.numbers import PRINT_RESOLUTION, difference, interval, is_tie, resolution
from runcard.report.views import LoadedRun, load_files, load_run
from runcard.store import Run, Store
from runcard.store.runs import split_of
from runcard.urls import safe_url

#: Metrics of the paired tests, in the order the verdict states them after the primary one.
PAIRED_METRICS = ("macro_f1", "accuracy")
#: Power at which the minimum detectable difference is stated.
POWER = 0.8
#: Logged metrics never shown as comparison rows: training internals and bookkeeping.
HIDDEN_PREFIXES = ("loss_terms/", "loss_grad_cosine/", "calibration/", "model/")


def load_targets(path: str | Path) -> dict[str, dict[str, Any]]:
    """Targets from TOML: one table per metric key with tiers (e.g. minimum, target, stretch) and an
    optional ``direction`` ("higher" or "lower"); see docs/reports.md."""
    path = Path(path)
    data = read_toml(path, "targets file")
    targets: dict[str, dict[str, Any]] = {}
    for metric, spec in data.items():
        if not isinstance(spec, dict) or not spec:
            raise InputError(f'{path}: [{metric}] must be a table of tiers, e.g. ["{metric}"] target = 0.75.')
        tiers: dict[str, Any] = {}
        for name, value in spec.items():
            if name == "direction":
                if value not in ("higher", "lower"):
                    raise InputError(f"{path}: [{metric}] direction = {value!r}; use \"higher\" or \"lower\".")
                tiers[name] = value
            elif isinstance(value, bool) or not isinstance(value, (int, float)):
                raise InputError(f"{path}: [{metric}] {name} = {value!r} is not a number.")
            else:
                tiers[name] = float(value)
        targets[metric] = tiers
    return targets


def declared_targets(runs: Sequence[Run]) -> dict[str, dict[str, Any]] | None:
    """The targets a recipe config declared, from the first run that carries some."""
    declared = [r.config.get("targets") for r in runs if isinstance(r.config.get("targets"), dict)]
    return next((t for t in declared if t), None)


def build_comparison(store: Store, runs: list[Run], *, targets: dict[str, dict[str, Any]] | None = None,
                     n_boot: int | None = None, seed: int | None = None, splits: Sequence[str] | None = None,
                     embed: EmbedChoice = "auto", alpha: float = ALPHA, effect: float | None = None) -> dict[str, Any]:
    """Compare stored runs; the first is the baseline. Each run is read with its own stored evaluation; the
    paired tests use ``n_boot`` and ``seed`` (default: the baseline run's settings). Without ``targets``, the
    targets the runs' recipe configs declare. ``splits``: the splits to pair (default: every held-out split).
    ``embed``: semantic diversity of logged generations ("auto": the packaged MiniLM when installed)."""
    if len(runs) < 2:
        raise InputError("compare needs at least two runs.")
    targets = targets if targets is not None else declared_targets(runs)
    subjects = [load_run(store, r) for r in runs]
    settings = runs[0].settings.replace(n_boot=n_boot, seed=seed)
    doc = comparison_doc(subjects, settings, targets=targets, splits=splits, source=safe_url(store.url), alpha=alpha,
                         effect=effect)
    if has_generations(runs):
        generations, found = generations_section(store, runs, n_boot=settings.n_boot, seed=settings.seed, embed=embed)
        doc["generations"] = generations
        doc["findings"] = [f.to_dict() for f in sort_findings([*_as_findings(doc["findings"]), *found])]
        doc["verdict"] += _generation_verdicts(generations)
    return doc


def build_file_comparison(a: str | Path, b: str | Path, settings: EvalSettings, *,
                          targets: dict[str, dict[str, Any]] | None = None, renormalize: bool = False,
                          alpha: float = ALPHA, effect: float | None = None) -> dict[str, Any]:
    """Compare two prediction files (A the baseline), each evaluated with ``settings`` as split "test"."""
    subjects = load_files({"A": a, "B": b}, settings, renormalize=renormalize)
    doc = comparison_doc(subjects, settings, targets=targets, splits=None, source="files", alpha=alpha, effect=effect)
    [pair] = doc["paired"]
    if not pair["paired"]:
        raise InputError(pair["reason"])
    if pair["paired"]:  # the keys `runcard compare A B --json` has always had (docs/evaluation.md)
        legacy = {"n": pair["n"], "classes": pair["classes"], "paired_by": pair["paired_by"],
                  "a": {"source": str(a), **pair["scores"]["a"]}, "b": {"source": str(b), **pair["scores"]["b"]},
                  "difference": pair["difference"], "per_class_f1": pair["per_class_f1"], "mcnemar": pair["mcnemar"]}
        doc = {**legacy, **doc, "settings": {**pair["settings"], **doc["settings"]}}
    return doc


def _as_findings(items: list[dict[str, Any]]) -> list[Finding]:
    return [Finding(f["kind"], f["severity"], f["title"], f["evidence"], f["advice"], tuple(f["runs"]),
                    tuple(f["splits"]), tuple(f["classes"]), tuple(f["metrics"]), f.get("impact")) for f in items]


def comparison_doc(subjects: list[LoadedRun], settings: EvalSettings, *, targets: dict[str, dict[str, Any]] | None,
                   splits: Sequence[str] | None, source: str, alpha: float = ALPHA,
                   effect: float | None = None) -> dict[str, Any]:
    """The comparison document of loaded subjects (see the module docstring). ``alpha``: the family-wise level
    of the document (its findings, and the "better"/"worse" words over every paired test it reports);
    ``effect``: the difference the user asks about (`underpowered` when the test cannot see it)."""
    views = [s.view for s in subjects]
    paired = _paired(subjects, settings, splits)
    tests = significance(paired, alpha)
    metrics = [v.metrics() for v in views]
    findings = [*_not_significant(paired), *_underpowered(paired, targets, effect, metrics[0], settings.primary)]
    group, budget = judge_group(views, alpha=alpha)
    findings += group
    flat = [flatten_config(dict(v.config)) for v in views]
    return {
        "kind": "comparison",
        "runs": [_run_line(s, targets, alpha) for s in subjects],
        "provenance": {"runs": [s.id for s in subjects], "store": source, "runcard": __version__,
                       "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")},
        "settings": {"n_boot": settings.n_boot, "seed": settings.seed, "level": settings.level,
                     "primary": settings.primary, "splits": sorted({p["split"] for p in paired}, key=_split_rank),
                     "alpha": alpha, "effect": effect, "power": POWER,
                     "paired_tests": tests, "budget": budget.to_dict()},
        "verdict": _verdicts(paired, settings.primary, {s.id: f"{s.name} ({s.id})" for s in subjects}),
        "findings": [f.to_dict() for f in sort_findings(_unique(findings))],
        "paired": paired,
        "metrics": _metric_rows([s.id for s in subjects], metrics, _row_counts(subjects)),
        "config_diff": [{"key": k, "values": [f.get(k) for f in flat]}
                        for k in config_differences([dict(v.config) for v in views])],
        "targets": _target_rows(targets, metrics),
    }


def _run_line(subject: LoadedRun, targets: dict[str, dict[str, Any]] | None, alpha: float) -> dict[str, Any]:
    """A run's identity and its own findings counted by severity (they are on its card, not here)."""
    view = subject.view
    own = run_findings(view, targets=targets, alpha=alpha) if subject.run is not None else run_findings(view, alpha=alpha)
    counts = Counter(f.severity for f in own)
    return {"id": subject.id, "name": subject.name, "project": view.project, "status": view.status,
            "source": subject.source, "findings": {s: counts.get(s, 0) for s in ("error", "warning", "info")},
            "top_finding": own[0].title if own else None,
            "card": f"runcard card {subject.id}" if subject.run is not None else f"runcard eval {subject.source}"}


def _split_rank(split: str) -> tuple[int, str]:
    order = ("test", "val", "validation", "dev", "train")
    base = split_of(split)
    return (order.index(base) if base in order else len(order), split)


def _paired(subjects: list[LoadedRun], settings: EvalSettings, splits: Sequence[str] | None) -> list[dict[str, Any]]:
    """Paired tests of every subject against the first on each split both have (held-out ones unless
    ``splits`` names others), with the minimum detectable difference of each metric."""
    out: list[dict[str, Any]] = []
    base = subjects[0]
    for other in subjects[1:]:
        shared = [k for k in base.evaluations if k in other.evaluations]
        chosen = [k for k in shared if (split_of(k) in splits if splits else split_of(k) != "train")]
        for key in sorted(chosen, key=_split_rank):
            try:
                result = compare_tables(base.tables[key], other.tables[key], n_boot=settings.n_boot, seed=settings.seed)
            except InputError as exc:
                out.append({"a": base.id, "b": other.id, "split": key, "paired": False, "reason": str(exc)})
                continue
            entry = result.to_dict()
            scores = {"a": entry.pop("a"), "b": entry.pop("b")}  # the tables' scores; "a"/"b" name the runs
            entry["resolution"] = resolution(result.n)
            se = {"accuracy": mcnemar_se(result.only_a_correct, result.only_b_correct, result.n),
                  "macro_f1": result.se["macro_f1"]}
            for metric in PAIRED_METRICS:
                entry["difference"][metric]["mde"] = minimum_detectable(se[metric], 0.05, POWER)
                entry["difference"][metric]["mde_from"] = ("the McNemar table's discordant pairs" if metric == "accuracy"
                                                           else "the paired bootstrap's standard error")
            aligned_a, aligned_b, _ = pair_tables(base.tables[key], other.tables[key])
            entry["discordant"] = discordant(aligned_a, aligned_b)
            out.append({"a": base.id, "b": other.id, "split": key, "paired": True, **entry, "scores": scores,
                        "run_ci95": {"a": _own_ci(base, key), "b": _own_ci(other, key)}})
    return out


def _own_ci(subject: LoadedRun, key: str) -> dict[str, list[float]]:
    """A subject's own 95 % CIs on one split (its stored evaluation's cell-multinomial bootstrap), by metric."""
    return {metric: list(ci) for metric, ci in (subject.evaluations[key].ci95 or {}).items()}


def significance(paired: list[dict[str, Any]], alpha: float) -> int:
    """Holm's procedure at ``alpha`` over every paired test the document reports (each split's accuracy and
    macro-F1, and each class's F1, of every B): each gets ``significant`` and its ``holm_threshold``. The
    verdict's "better" and "worse" need ``significant``; the CIs stay as computed. Returns the test count."""
    cells = []
    for p in paired:
        if p["paired"]:
            cells += [p["difference"][m] for m in PAIRED_METRICS] + list(p["per_class_f1"].values())
    rejected, thresholds = holm([c["p_value"] for c in cells], alpha)
    for cell, ok, threshold in zip(cells, rejected, thresholds):
        cell["significant"], cell["holm_threshold"] = bool(ok), float(threshold)
    return len(cells)


def _not_significant(paired: list[dict[str, Any]]) -> list[Finding]:
    out: list[Finding] = []
    for p in paired:
        if p["paired"]:
            for metric in PAIRED_METRICS:
                d = p["difference"][metric]
                out += not_significant(f"{p['split']}/{metric}", d["b_minus_a"], d["ci95"], runs=(p["a"], p["b"]),
                                       p_value=d["p_value"], mde=d["mde"])
    return out


def _underpowered(paired: list[dict[str, Any]], targets: dict[str, dict[str, Any]] | None, effect: float | None,
                  baseline: dict[str, float], primary: str) -> list[Finding]:
    """Where the difference asked about (``effect``, or the gap from the baseline to a target tier) is smaller
    than what the paired test could see at 80 % power."""
    out: list[Finding] = []
    for p in paired:
        if not p["paired"]:
            continue
        for metric in PAIRED_METRICS:
            key, d = f"{p['split']}/{metric}", p["difference"][metric]
            asked: list[tuple[str, float]] = [("the effect asked about (--effect)", effect)] if effect else []
            for tier, goal in ((targets or {}).get(key) or {}).items():
                if tier != "direction" and key in baseline and goal > baseline[key]:
                    asked.append((f"the gap from A to its {tier} {goal:.4f}", goal - baseline[key]))
            for what, size in asked:
                if d["mde"] > size:
                    out.append(Finding(
                        "underpowered", "warning",
                        f"{key}: this test could only have seen differences above {d['mde']:.4f} (80 % power), more "
                        f"than {what} ({size:.4f})",
                        {"metric": key, "minimum_detectable_difference": d["mde"], "asked": size, "what": what,
                         "power": POWER, "alpha": 0.05, "n": p["n"], "computed_from": d["mde_from"]},
                        "A difference of this size would go unseen: evaluate on more examples (the detectable "
                        "difference shrinks with the square root of the rows), or on several seeds, before "
                        "concluding that the systems are the same.",
                        runs=(p["a"], p["b"]), splits=(p["split"],), metrics=(key,), impact=d["mde"] - size))
                    break
    return out


def verdict_word(diff: float, ci: Sequence[float], n: int | None, higher: bool = True,
                 significant: bool | None = None) -> str:
    """"better", "worse" (B against A: the CI of B − A excludes 0 and, when ``significant`` is given, the
    difference survives the document's correction for its many tests), or "within noise"; a difference
    below what the metric resolves is a tie."""
    if is_tie(diff, 0.0, n) and ci[0] <= 0 <= ci[1]:
        return "tie"
    if significant is False:
        return "within noise"
    if ci[0] > 0:
        return "better" if higher else "worse"
    if ci[1] < 0:
        return "worse" if higher else "better"
    return "within noise"


def verdict_sentence(a: str, b: str, what: str, word: str, diff: float, ci: Sequence[float], how: str) -> str:
    """One sentence: "B is better than A on test macro-F1: B − A = +0.0312 [+0.0101, +0.0523] (how)"."""
    relation = {"better": "is better than", "worse": "is worse than", "within noise": "is within noise of",
                "tie": "is tied with"}[word]
    return f"{b} {relation} {a} on {what}: B − A = {difference(diff)} {interval(ci, signed=True)} ({how})."


def _verdicts(paired: list[dict[str, Any]], primary: str, names: dict[str, str]) -> list[dict[str, Any]]:
    """Per B and primary metric, on the first paired split (test when both have it): the verdict sentence
    (``names``: how to call each subject)."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for p in paired:
        if p["b"] in seen:
            continue
        seen.add(p["b"])
        if not p["paired"]:
            out.append({"a": p["a"], "b": p["b"], "split": p["split"], "metric": None, "verdict": "not paired",
                        "sentence": f"{names[p['b']]} against {names[p['a']]} on {p['split']}: no paired test "
                                    f"({p['reason']})."})
            continue
        identical = p["mcnemar"]["only_a_correct"] == 0 and p["mcnemar"]["only_b_correct"] == 0
        metrics = [primary] + [m for m in PAIRED_METRICS if m != primary] if primary in PAIRED_METRICS else list(PAIRED_METRICS)
        for metric in metrics:
            d = p["difference"][metric]
            word = verdict_word(d["b_minus_a"], d["ci95"], p["n"], significant=d.get("significant"))
            how = ("the same prediction on every row" if identical and word == "tie"
                   else f"paired 95 % CI, {p['n']:,} rows")
            if word == "within noise":
                corrected = (" (the CI excludes 0, but not after Holm's correction for the document's tests)"
                             if not d["ci95"][0] <= 0 <= d["ci95"][1] else "")
                how += f"{corrected}; this test could only have seen differences above {d['mde']:.4f} at 80 % power"
            out.append({"a": p["a"], "b": p["b"], "split": p["split"], "metric": metric, "verdict": word,
                        "difference": d["b_minus_a"], "ci95": d["ci95"], "n": p["n"], "mde": d["mde"],
                        "significant": d.get("significant"),
                        "sentence": verdict_sentence(names[p["a"]], names[p["b"]],
                                                     f"{p['split']} {LABELS.get(metric, metric)}", word, d["b_minus_a"],
                                                     d["ci95"], how)})
    return out


def _generation_verdicts(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per paired generations split: the verdict on pass@1 (or the first pass@k), from its paired CI."""
    out = []
    for entry in entries:
        if not entry["paired"]:
            continue
        diffs = entry["evaluation"]["differences"][0]["metrics"]
        key = next((k for k in diffs if k == "pass@1"), next((k for k in diffs if k.startswith("pass@")), None))
        if key is None or diffs[key]["ci95"] is None or diffs[key]["b_minus_a"] is None:
            continue
        d = diffs[key]
        word = verdict_word(d["b_minus_a"], d["ci95"], None)
        text = verdict_sentence(entry["a"], entry["b"], f"{entry['split']} {key}", word, d["b_minus_a"], d["ci95"],
                                "paired 95 % CI over prompts")
        out.append({"a": entry["a"], "b": entry["b"], "split": entry["split"], "metric": key, "verdict": word,
                    "difference": d["b_minus_a"], "ci95": d["ci95"], "n": None, "sentence": text})
    return out


def _row_counts(subjects: list[LoadedRun]) -> dict[str, int]:
    """Rows behind each evaluated split (the resolution of its count-based scores)."""
    out: dict[str, int] = {}
    for s in subjects:
        for key, ev in s.evaluations.items():
            out[key] = ev.n
    return out


def _shown(key: str) -> bool:
    return (direction(key) is not None and not is_counter(key) and not key.startswith(HIDDEN_PREFIXES)
            and split_of(key) != "train")


def _metric_rows(ids: list[str], metrics: list[dict[str, float]], rows: dict[str, int]) -> list[dict[str, Any]]:
    """Every result metric any subject has (held-out splits; no training internals), each subject's value and
    the change from the baseline; a change below the metric's resolution is a tie."""
    keys = sorted({k for m in metrics for k in m if _shown(k)}, key=lambda k: (_split_rank(k), k))
    out = []
    base = metrics[0]
    for key in keys:
        values = [m.get(key) for m in metrics]
        n = rows.get(key.rsplit("/", 1)[0])
        changes: list[dict[str, Any] | None] = []
        for value in values[1:]:
            if value is None or base.get(key) is None:
                changes.append(None)
                continue
            delta = value - base[key]
            tie = is_tie(value, base[key], n if n else None) if key.rsplit("/", 1)[-1] in COUNT_BASED else \
                abs(delta) < PRINT_RESOLUTION
            changes.append({"absolute": delta, "relative": delta / abs(base[key]) if base[key] else None, "tie": tie})
        out.append({"metric": key, "direction": direction(key), "values": values, "changes": changes})
    return out


#: Scores that count rows: their resolution is one row.
COUNT_BASED = ("accuracy", "balanced_accuracy", "macro_f1", "weighted_f1", "top2_accuracy", "top3_accuracy")


def _target_rows(targets: dict[str, dict[str, Any]] | None, metrics: list[dict[str, float]]) -> list[dict[str, Any]]:
    rows = []
    for key, tiers in (targets or {}).items():
        rows.append({"metric": key, "tiers": {k: v for k, v in tiers.items() if k != "direction"},
                     "direction": tiers.get("direction") or direction(key) or "higher",
                     "values": [m.get(key) for m in metrics]})
    return rows


def _unique(findings: list[Any]) -> list[Any]:
    seen, out = set(), []
    for f in findings:
        key = (f.kind, f.title, f.runs)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def targets_gap_rows(doc: dict[str, Any]) -> list[list[Any]]:
    """(metric, run, value, then gap to each tier) rows for the documents."""
    rows = []
    for entry in doc["targets"]:
        higher = entry["direction"] != "lower"
        for run, value in zip(doc["runs"], entry["values"]):
            gaps = [None if value is None else (goal - value if higher else value - goal) for goal in entry["tiers"].values()]
            rows.append([entry["metric"], run["id"], value, *gaps])
    return rows
