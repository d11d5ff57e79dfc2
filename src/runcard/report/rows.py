"""Table contents shared by the Markdown and HTML renderers: (headers, rows) from document dicts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from runcard.configs import flatten_config
from runcard.report import numbers

Rows = tuple[list[str], list[list[Any]]]

HEADLINE = (("accuracy", "accuracy ↑"), ("balanced_accuracy", "balanced accuracy ↑"), ("macro_f1", "macro-F1 ↑"),
            ("weighted_f1", "weighted-F1 ↑"), ("cohen_kappa", "Cohen's kappa ↑"), ("mcc", "MCC ↑"),
            ("nll", "NLL ↓"), ("brier", "Brier ↓"), ("ece", "ECE ↓"), ("adaptive_ece", "adaptive ECE ↓"))


def ci(interval: Sequence[float] | None) -> str:
    return "" if not interval else f"[{interval[0]:.4f}, {interval[1]:.4f}]"


def flat_config(config: dict[str, Any]) -> list[list[Any]]:
    """``[key, value as written]`` rows of a flattened config."""
    return [[key, numbers.config_value(value)] for key, value in flatten_config(config).items()]


def config_sections(config: dict[str, Any]) -> list[tuple[str, list[list[Any]]]]:
    """The config grouped by its top-level tables (loose top-level values under "(top level)"), each as
    ``[key within the section, value as written]`` rows."""
    loose = [[k, numbers.config_value(v)] for k, v in config.items() if not (isinstance(v, dict) and v)]
    out = [("(top level)", loose)] if loose else []
    for key, value in config.items():
        if isinstance(value, dict) and value:
            out.append((key, flat_config(value)))
    return out


def settings_line(settings: dict[str, Any]) -> str:
    """How the card's numbers were computed."""
    line = (f"Evaluation settings: {settings['bins']} calibration bins, {settings['n_boot']} bootstrap resamples "
            f"(seed {settings['seed']}), {settings['level']:.0%} percentile intervals, top-k for k in "
            f"{', '.join(map(str, settings['top_k'])) or 'none'}, primary metric {settings['primary']}")
    budget = settings.get("budget")
    if budget:
        tested = ", ".join(f"{k} {v}" for k, v in budget["tests"].items()) or "none"
        line += (f"; findings that test a null share a false-alarm level of {budget['alpha']:g} (split equally among "
                 f"the rules that tested, Holm within each; tests run: {tested})")
    if settings.get("recomputed"):
        line += " (recomputed for this document: " + ", ".join(
            f"{k} {v['card']} instead of the run's {v['run']}" for k, v in settings["recomputed"].items()) + ")"
    return line + "."


def data_rows(splits: dict[str, Any]) -> Rows:
    classes = next(iter(splits.values()))["classes"]
    return (["split", "rows", *classes, "predictions sha256", "checkpoint"],
            [[s, d["n"], *[d["distribution"].get(c, 0) for c in classes], d["predictions_sha256"][:16],
              (d["checkpoint"] or "—")[:16]] for s, d in splits.items()])


def curve_rows(curves: dict[str, list[list[float]]]) -> Rows:
    rows = []
    for key, points in curves.items():
        values = [v for _, v in points if v is not None and v == v]
        rows.append([key, len(points), points[0][1], min(values) if values else None,
                     max(values) if values else None, points[-1][1], points[-1][0]])
    return ["series", "points", "first", "min", "max", "last", "last step"], rows


def stage_rows(stages: dict[str, float], total: float) -> Rows:
    share = total or 1.0
    return (["stage", "seconds", "share"],
            [[k, v, f"{v / share:.0%}"] for k, v in stages.items()] + [["total", total, "100%"]])


def headline_rows(ev: dict[str, Any]) -> Rows:
    ci95 = ev.get("ci95") or {}
    rows = [[label, ev[key], ci(ci95.get(key))] for key, label in HEADLINE]
    rows += [[f"top-{k} accuracy ↑", v, ""] for k, v in ev["top_k_accuracy"].items()]
    for key in ("kl", "js_divergence", "js_distance", "target_top1", "target_top3"):
        if key in ev:
            rows.append([f"{key} {'↑' if key.startswith('target') else '↓'}", ev[key], ""])
    return ["metric", "value", "95 % CI"], rows


def per_class_rows(ev: dict[str, Any]) -> Rows:
    return (["class", "precision", "recall", "F1", "F1 95 % CI", "support", "predicted"],
            [[c, v["precision"], v["recall"], v["f1"], ci(v.get("f1_ci95")), v["support"], v["predicted"]]
             for c, v in ev["per_class"].items()])


def confusion_rows(ev: dict[str, Any]) -> Rows:
    classes = [str(c) for c in ev["classes"]]
    return ["true \\ pred", *classes], [[c, *row] for c, row in zip(classes, ev["confusion_matrix"])]


def pair_rows(ev: dict[str, Any], top: int = 5) -> Rows:
    return (["a", "b", "a → b", "b → a", "total"],
            [[p["a"], p["b"], p["a_as_b"], p["b_as_a"], p["total"]] for p in ev["most_confused"][:top]])


def calibration_rows(cal: dict[str, Any]) -> Rows:
    rows = [[split, key, entry["before"][key], entry["after"][key], entry["after"][key] - entry["before"][key]]
            for split, entry in cal["splits"].items() for key in ("accuracy", "nll", "brier", "ece")]
    return ["split", "metric", "before", "after", "change"], rows


def provenance_line(prov: dict[str, Any]) -> str:
    return (f"Computed from predictions {prov['predictions_sha256'][:16]} of run {prov['run']}"
            + (f", checkpoint {str(prov['checkpoint'])[:16]}" if prov.get("checkpoint") else ", no checkpoint recorded")
            + f"; settings {prov['signature']}.")


def calibration_line(cal: dict[str, Any]) -> str:
    """What the calibration fitted on validation is, and what it does to ECE where it is applied."""
    what = (f"Temperature scaling fitted on {cal['fitted_on']}: T = {cal['temperature']:.4f}"
            + (" (at the search bound)" if cal.get("at_bound") else "") if cal["method"] == "temperature"
            else f"Vector scaling fitted on {cal['fitted_on']}")
    line = what + ". " + ("No prediction changed (checked row by row)." if cal["argmax_invariant"]
                          else "Some predictions changed.")
    for split, entry in cal["splits"].items():
        if split == cal["fitted_on"]:
            continue
        before, after = entry["before"]["ece"], entry["after"]["ece"]
        if after > before:
            line += (f" On {split} it makes ECE worse ({before:.4f} → {after:.4f}): report the uncalibrated "
                     "numbers, and suspect a validation split unlike the test split.")
        else:
            line += f" On {split} it brings ECE from {before:.4f} to {after:.4f}."
    return line


def provenance_rows(doc: dict[str, Any]) -> Rows:
    prov, run = doc["provenance"], doc.get("run", {})
    rows = [["run", prov.get("run")], ["store", prov["store"]], ["runcard", prov["runcard"]],
            ["generated", prov["generated_at"]]]
    if run:
        rows += [["host", run.get("host")], ["pid", None if run.get("pid") is None else str(run["pid"])]]
    return ["field", "value"], rows


def finding_scope(f: dict[str, Any]) -> str:
    return ", ".join(x for x in (
        f"runs {', '.join(f['runs'])}" if f["runs"] else "",
        f"splits {', '.join(f['splits'])}" if f["splits"] else "",
        f"classes {', '.join(map(str, f['classes']))}" if f["classes"] else "") if x)


def derived_rows(derived: list[dict[str, Any]]) -> Rows:
    variants = sorted({v for row in derived for v in row["values"]})
    return (["metric", "expression", *[f"mean, {v}" for v in variants]],
            [[row["name"], row["expression"] or "", *[row["values"].get(v) for v in variants]] for row in derived])


def construction_lines(construction: list[dict[str, Any]]) -> list[str]:
    lines = []
    for c in construction:
        a, b = c["into"]
        lines.append(f"Source label {c['source']} is split into {a} and {b} by the parity of the {c['hash']} of each "
                     "row's text: the label is independent of what the text says, so no model can learn to tell them "
                     "apart (expect the confusable_pair finding).")
        for split in ("val", "test"):
            v = c.get(split)
            if v and v.get("topic_accuracy") is not None:
                lines.append(
                    f"{split}: accuracy with {a} and {b} merged (the topic level) is {v['topic_accuracy']:.4f}; with "
                    f"guessing inside the pair at its base rates that implies an expected ceiling of "
                    f"{v['ceiling_accuracy']:.4f} accuracy and {v['ceiling_macro_f1']:.4f} macro-F1 for the full "
                    f"task (observed {v['accuracy']:.4f} and {v['macro_f1']:.4f}; the pair's noise lets the observed "
                    "value land a little either side).")
    return lines


def data_tables(splits: dict[str, Any]) -> list[tuple[str, Rows]]:
    """The split table, one per task on a multi-task run (each task has its own classes)."""
    groups: dict[str, dict[str, Any]] = {}
    for key, d in splits.items():
        groups.setdefault(key.partition("/")[2], {})[key] = d
    return [(task, data_rows(group)) for task, group in groups.items()]


def decision_line(rules: dict[str, Any]) -> str:
    adj = rules["logit_adjustment"]
    offsets = ", ".join(f"{c} {b:+.2f}" for c, b in zip(adj["classes"], adj["offsets"]))
    return (f"Fitted on {rules['fitted_on']} only, applied to {rules['applied_to']}: temperature T = "
            f"{rules['temperature']:.4f}; logit offsets {offsets} (validation macro-F1 "
            f"{adj['val_macro_f1_before']:.4f} → {adj['val_macro_f1_after']:.4f}).")


def decision_rows(rules: dict[str, Any]) -> Rows:
    rows = []
    for r in rules["rules"]:
        vs = r.get("vs_argmax") or {}
        delta = vs.get("macro_f1")
        rows.append([r["rule"], r["accuracy"], ci(r["ci95"]["accuracy"]), r["macro_f1"], ci(r["ci95"]["macro_f1"]),
                     "" if delta is None else f"{delta['b_minus_a']:+.4f}",
                     "" if delta is None else f"[{delta['ci95'][0]:+.4f}, {delta['ci95'][1]:+.4f}]",
                     r.get("changed_rows", ""), r["ece"], r["nll"]])
    return (["rule", "accuracy ↑", "95 % CI", "macro-F1 ↑", "95 % CI", "Δ macro-F1 vs argmax", "paired 95 % CI",
             "rows changed", "ECE ↓", "NLL ↓"], rows)


def decision_f1_rows(rules: dict[str, Any]) -> Rows:
    names = [r["rule"] for r in rules["rules"]]
    classes = list(rules["rules"][0]["f1"])
    return ["class", *[f"F1, {n}" for n in names]], [[c, *[r["f1"][c] for r in rules["rules"]]] for c in classes]


def joint_rows(entry: dict[str, Any]) -> Rows:
    return ([f"{entry['given']} \\ {entry['task']}", *entry["classes"], "total"],
            [[c, *row, sum(row)] for c, row in zip(entry["given_classes"], entry["joint_counts"])])


def given_rows(entry: dict[str, Any]) -> Rows:
    classes = entry["classes"]
    return ([f"{entry['given']} (true)", "rows", f"{entry['task']} accuracy", f"{entry['task']} macro-F1",
             *[f"F1 {c} (support)" for c in classes]],
            [[r["class"], r["n"], r["accuracy"], r["macro_f1"],
              *[f"{r['f1'][c]:.4f} ({r['support'][c]})" for c in classes]] for r in entry["rows"]])


def target_table(rows: list[dict[str, Any]]) -> Rows:
    out = []
    for r in rows:
        if r["value"] is None:
            out.append([r["metric"], r["tier"], r["goal"], "not computed", "", "", "", ""])
            continue
        out.append([r["metric"], r["tier"], r["goal"], r["value"], ci(r["ci95"]), r["gap"],
                    "" if r["share_reached"] is None else f"{r['share_reached']:.1%}", "met" if r["met"] else "missed"])
    return ["metric", "tier", "goal", "observed", "95 % CI", "gap", "share reached", "status"], out


def soft_comparison_rows(soft: dict[str, Any]) -> Rows:
    rows = [[r["name"], r["kl"], r["js_distance"], r["accuracy"], r.get("note", "")] for r in soft["comparison"]]
    rows += [[r["name"], r.get("kl"), r.get("js_distance"), r.get("accuracy"), r.get("note", "") + " (published; "
              "not recomputed)"] for r in soft["references"]]
    return ["system", "KL ↓", "JS distance ↓", "accuracy vs human majority ↑", "scope"], rows


def soft_bin_rows(bins: list[dict[str, Any]]) -> Rows:
    return (["human agreement", "items", "human entropy (range)", "model entropy", "KL ↓", "JS distance ↓",
             "accuracy ↑"],
            [[b["bin"], b["n"], (f"{b['human_entropy']:.3f} ({b['human_entropy_range'][0]:.3f}–"
                                 f"{b['human_entropy_range'][1]:.3f})"), b["model_entropy"], b["kl"], b["js_distance"],
              b["accuracy"]]
             for b in bins])


def loss_term_rows(terms: dict[str, Any]) -> Rows:
    return (["loss term", "mean share of the total", "share at the last step"],
            [[t, f"{terms['mean_share'][t]:.1%}", f"{terms['last_share'][t]:.1%}"] for t in terms["terms"]])


def metric_with_ci(m: dict[str, Any]) -> str:
    """A metric of an evaluation's JSON (``value``, ``ci95``) to 4 decimals with its CI; "—" when undefined."""
    if m["value"] is None:
        return "—"
    ci = m["ci95"]
    return f"{m['value']:.4f}" + ("" if ci is None else f" [{ci[0]:.4f}, {ci[1]:.4f}]")
