"""The Result block that opens a run card: the primary metric and accuracy on test with their CIs, the
calibration status (ECE, and what the temperature fitted on validation does on test, which may be to make it
worse), and the findings by severity; as data and as the verdict sentences the card and `runcard run` print.
Built from the card's own (stored) numbers: nothing here is computed anew."""

from __future__ import annotations

from collections import Counter
from typing import Any

from runcard.findings.view import headline_keys
from runcard.report.numbers import metric, with_ci
from runcard.store.runs import split_of, task_of

LABELS = {"macro_f1": "macro-F1", "accuracy": "accuracy", "balanced_accuracy": "balanced accuracy",
          "weighted_f1": "weighted-F1", "mcc": "MCC", "cohen_kappa": "Cohen's kappa"}


def _calibration_for(doc: dict[str, Any], key: str) -> dict[str, Any] | None:
    task = task_of(key)
    if task is None:
        return doc.get("calibration")
    return ((doc.get("tasks") or {}).get(task) or {}).get("calibration")


def calibration_status(ev: dict[str, Any], cal: dict[str, Any] | None, split: str, bins: int) -> dict[str, Any]:
    """ECE on ``split``, and what the calibration fitted on validation does to it there."""
    out: dict[str, Any] = {"ece": ev["ece"], "bins": bins, "fitted": False}
    if not cal:
        out["reason"] = "no validation split to fit a calibration on"
        return out
    entry = cal["splits"].get(split)
    if entry is None or split == cal["fitted_on"]:
        out["reason"] = f"the calibration is fitted on {cal['fitted_on']} itself"
        return out
    after = entry["after"]["ece"]
    effect = "improves" if after < ev["ece"] else "worsens" if after > ev["ece"] else "unchanged"
    out.update(fitted=True, method=cal["method"], fitted_on=cal["fitted_on"], temperature=cal.get("temperature"),
               ece_after=after, effect=effect)
    return out


def _calibration_words(c: dict[str, Any]) -> str:
    text = f"ECE {metric(c['ece'])} ({c['bins']} bins)"
    if not c["fitted"]:
        return text
    how = (f"temperature scaling fitted on {c['fitted_on']} (T = {c['temperature']:.3f})" if c["method"] == "temperature"
           else f"vector scaling fitted on {c['fitted_on']}")
    if c["effect"] == "worsens":
        return f"{text}; {how} makes it worse: {metric(c['ece'])} → {metric(c['ece_after'])}, do not apply it"
    if c["effect"] == "unchanged":
        return f"{text}; {how} leaves it unchanged"
    return f"{text}; {how} brings it to {metric(c['ece_after'])}"


def result_block(doc: dict[str, Any]) -> dict[str, Any]:
    """The Result block of a card document (see the module docstring)."""
    settings = doc["settings"]
    primary = settings["primary"]
    counts = Counter(f["severity"] for f in doc["findings"])
    severities = {s: counts.get(s, 0) for s in ("error", "warning", "info")}
    entries, lines = [], []
    for key in headline_keys(list(doc["evaluation"])):
        ev = doc["evaluation"][key]
        ci = ev.get("ci95") or {}
        shown = [primary] + (["accuracy"] if primary != "accuracy" else [])
        entry: dict[str, Any] = {
            "key": key, "split": split_of(key), "task": task_of(key), "n": ev["n"],
            "metrics": {m: {"value": ev[m], "ci95": ci.get(m)} for m in shown},
            "calibration": calibration_status(ev, _calibration_for(doc, key), split_of(key), settings["bins"]),
        }
        words = ", ".join(f"{LABELS[m]} {with_ci(ev[m], ci.get(m))}" for m in shown)
        if "kl" in ev:
            entry["soft"] = {k: ev[k] for k in ("kl", "js_distance") if k in ev}
            words += f"; KL {metric(ev['kl'])}, JS distance {metric(ev['js_distance'])} (to the human distributions)"
        entries.append(entry)
        where = f"{key} ({ev['n']:,} rows)"
        lines.append(f"{where}: {words}; {_calibration_words(entry['calibration'])}.")
    if not entries:
        lines += _generation_lines(doc)
    found = (f"{severities['error']} error(s), {severities['warning']} warning(s), {severities['info']} note(s)"
             if doc["findings"] else "no findings")
    lines.append(f"Findings: {found}.")
    if settings["recomputed"]:
        changed = ", ".join(f"{k} {v['card']} (the run's: {v['run']})" for k, v in settings["recomputed"].items())
        lines.append(f"Recomputed for this card with {changed}; the stored evaluation keeps the run's settings.")
    return {"entries": entries, "findings": severities, "lines": lines}


def _generation_lines(doc: dict[str, Any]) -> list[str]:
    """Runs that logged generations instead of predictions: pass@1 and distinct-2 of each split and system."""
    out = []
    for entry in doc.get("generations", []):
        if not entry["evaluated"]:
            out.append(f"{entry['split']}: generations not evaluated: {entry['reason']}")
            continue
        for system in entry["evaluation"]["systems"]:
            m = system["metrics"]
            parts = [f"{k} {with_ci(m[k]['value'], m[k]['ci95'])}" for k in ("pass@1", "distinct_2") if k in m]
            label = f" ({system['system']})" if len(entry["evaluation"]["systems"]) > 1 else ""
            out.append(f"{entry['split']}{label}, {entry['samples']:,} samples: {', '.join(parts)}.")
    return out or ["No predictions or generations were logged for this run: there is no result to report."]
