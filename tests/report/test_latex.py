"""Paper tables: the LaTeX and CSV of comparisons and summaries, written out in full; bold only beyond noise."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from runcard import table_from_arrays, write_predictions
from runcard.errors import InputError
from runcard.report.latex import comparison_table, escape, summary_table, to_csv, to_latex
from tests.conftest import random_probs
from tests.report.test_acceptance import env, run  # noqa: F401 - fixture and helper
from tests.report.test_one_truth import CLASSES, log


def diff(value: float, significant: bool) -> dict[str, Any]:
    return {"b_minus_a": value, "ci95": [value - 0.02, value + 0.02], "significant": significant,
            "p_value": 0.001 if significant else 0.4, "mde": 0.03}


def pair(b: str, scores: dict[str, float], f1: dict[str, Any], acc: dict[str, Any],
         ci: dict[str, list[float]]) -> dict[str, Any]:
    """A paired test of run ``b`` against the baseline a1 on test (600 rows)."""
    return {"a": "a1", "b": b, "split": "test", "paired": True, "n": 600,
            "scores": {"a": {"macro_f1": 0.7000, "accuracy": 0.7200}, "b": scores},
            "difference": {"macro_f1": f1, "accuracy": acc},
            "run_ci95": {"a": {"macro_f1": [0.6800, 0.7200], "accuracy": [0.7000, 0.7400]}, "b": ci}}


def comparison(pairs: list[dict[str, Any]], names: list[str]) -> dict[str, Any]:
    """A comparison document as `comparison_doc` writes it (the keys a paper table reads)."""
    ids = ["a1", *[p["b"] for p in pairs]]
    values = {"test/macro_f1": [0.7000, *[p["scores"]["b"]["macro_f1"] for p in pairs]],
              "test/accuracy": [0.7200, *[p["scores"]["b"]["accuracy"] for p in pairs]],
              "test/ece": [0.0500, *[0.0400 for _ in pairs]]}
    return {"kind": "comparison", "runs": [{"id": i, "name": n} for i, n in zip(ids, names)],
            "settings": {"primary": "macro_f1", "n_boot": 1000, "alpha": 0.05, "splits": ["test"]},
            "paired": pairs, "metrics": [{"metric": k, "values": v} for k, v in values.items()]}


#: B is better on macro-F1 beyond noise (Holm), within noise on accuracy.
BETTER = comparison([pair("b2", {"macro_f1": 0.7500, "accuracy": 0.7300}, diff(0.05, True), diff(0.01, False),
                          {"macro_f1": [0.7300, 0.7700], "accuracy": [0.7100, 0.7500]})],
                    ["base_line", "ours & 50%"])

CAPTION = ("against the baseline base\\_line (first row) on the test split (n = 600 rows, the runs paired on their "
           "examples). Brackets: each run's 95 \\% cell-multinomial bootstrap percentile interval (its stored "
           "evaluation). Bold: best beyond noise (Holm-corrected paired test: paired cell-multinomial bootstrap, "
           "1,000 resamples, family-wise level 5 \\%); no bold where the tests do not order the runs.")


def test_a_two_run_comparison_is_written_out_in_full() -> None:
    assert to_latex(comparison_table(BETTER)) == (
        "\\begin{table}\n"
        "\\centering\n"
        f"\\caption{{ours \\& 50\\% {CAPTION}}}\n"
        "\\begin{tabular}{lrr}\n"
        "\\toprule\n"
        "Run & test macro-F1 & test accuracy \\\\\n"
        "\\midrule\n"
        "base\\_line & 0.7000 [0.6800, 0.7200] & 0.7200 [0.7000, 0.7400] \\\\\n"
        "ours \\& 50\\% & \\textbf{0.7500} [0.7300, 0.7700] & 0.7300 [0.7100, 0.7500] \\\\\n"
        "\\bottomrule\n"
        "\\end{tabular}\n"
        "\\end{table}\n"
    )
    assert to_csv(comparison_table(BETTER)) == (
        "Run,test macro-F1,test macro-F1 CI low,test macro-F1 CI high,test accuracy,test accuracy CI low,"
        "test accuracy CI high\n"
        "base_line,0.7000,0.6800,0.7200,0.7200,0.7000,0.7400\n"
        "ours & 50%,0.7500,0.7300,0.7700,0.7300,0.7100,0.7500\n"
    )


def test_extra_metrics_have_no_paired_test_and_are_never_bold() -> None:
    table = comparison_table(BETTER, metrics=["ece"])
    assert table.headers == ("Run", "test macro-F1", "test accuracy", "test ECE")
    assert [c.value for _, cells in table.rows for c in cells[2:]] == [0.0500, 0.0400]
    assert not any(c.bold for _, cells in table.rows for c in cells[2:])
    assert table.caption.endswith(" No paired test, never bold: test ECE.")
    assert to_latex(table).splitlines()[7] == "base\\_line & 0.7000 [0.6800, 0.7200] & 0.7200 [0.7000, 0.7400] & 0.0500 \\\\"
    with pytest.raises(InputError, match="'test/f2' is not in this comparison"):
        comparison_table(BETTER, metrics=["f2"])


def bold(table: Any) -> list[list[bool]]:
    return [[c.bold for c in cells] for _, cells in table.rows]


def test_a_comparison_bolds_only_what_the_paired_tests_establish() -> None:
    ci = {"macro_f1": [0.6500, 0.6900], "accuracy": [0.6700, 0.7100]}
    worse = comparison([pair("b2", {"macro_f1": 0.6700, "accuracy": 0.6900}, diff(-0.03, True), diff(-0.03, False), ci)],
                       ["a", "b"])
    assert bold(comparison_table(worse)) == [[True, False], [False, False]]  # A, when B is significantly worse
    tie = comparison([pair("b2", {"macro_f1": 0.7001, "accuracy": 0.7200}, diff(0.0001, True), diff(0.0, False), ci)],
                     ["a", "b"])
    assert bold(comparison_table(tie)) == [[False, False], [False, False]]  # below one row in 600: a tie
    noise = comparison([pair("b2", {"macro_f1": 0.7300, "accuracy": 0.7400}, diff(0.03, False), diff(0.02, False), ci)],
                       ["a", "b"])
    assert bold(comparison_table(noise)) == [[False, False], [False, False]]  # the CI may exclude 0; Holm did not
    up, down = diff(0.05, True), diff(-0.04, True)
    three = comparison([pair("b2", {"macro_f1": 0.75, "accuracy": 0.73}, up, diff(0.01, False), ci),
                        pair("c3", {"macro_f1": 0.66, "accuracy": 0.70}, down, diff(-0.02, False), ci)], ["a", "b", "c"])
    assert bold(comparison_table(three)) == [[False, False], [True, False], [False, False]]  # b > a > c
    three["paired"][1]["difference"]["macro_f1"] = diff(0.02, False)  # c within noise of a: b vs c is not tested
    assert bold(comparison_table(three)) == [[False, False]] * 3


def test_a_comparison_without_a_paired_split_is_refused() -> None:
    doc = comparison([], ["a"])
    doc["paired"] = [{"a": "a1", "b": "b2", "split": "test", "paired": False, "reason": "the ids differ"}]
    with pytest.raises(InputError, match=r"no paired split to tabulate \(the ids differ\)"):
        comparison_table(doc)


def leaderboard(values: list[tuple[str, float, list[float] | None, float]]) -> dict[str, Any]:
    """A summary document of runs (name, test accuracy with its CI, test ECE) on 600 test rows."""
    board = [{"rank": i + 1, "id": f"r{i}", "name": name, "test/accuracy": acc, "test/ece": ece,
              "ci95": {"test/accuracy": ci} if ci else {}, "rows": {"test": 600}}
             for i, (name, acc, ci, ece) in enumerate(values)]
    return {"kind": "summary", "source": "sweep_7", "sort": "test/accuracy", "direction": "higher",
            "columns": ["test/ece"], "group_by": None, "leaderboard": board, "set_apart": [], "groups": []}


def test_a_leaderboard_is_written_out_in_full() -> None:
    doc = leaderboard([("lr=1e-3", 0.8100, [0.7900, 0.8300], 0.0410), ("lr=1e-4", 0.7500, [0.7300, 0.7700], 0.0520)])
    assert to_latex(summary_table(doc)) == (
        "\\begin{table}\n"
        "\\centering\n"
        "\\caption{2 runs of sweep\\_7, best test/accuracy first (higher is better; n = 600 test rows). Brackets: "
        "each run's 95 \\% cell-multinomial bootstrap percentile interval; logged values have none. Bold: best, not "
        "tied with the runner-up (one row in n for counted scores) and, where both have CIs, CIs not overlapping.}\n"
        "\\begin{tabular}{lrr}\n"
        "\\toprule\n"
        "Run & test accuracy & test ECE \\\\\n"
        "\\midrule\n"
        "lr=1e-3 & \\textbf{0.8100} [0.7900, 0.8300] & \\textbf{0.0410} \\\\\n"
        "lr=1e-4 & 0.7500 [0.7300, 0.7700] & 0.0520 \\\\\n"
        "\\bottomrule\n"
        "\\end{tabular}\n"
        "\\end{table}\n"
    )
    assert to_csv(summary_table(doc)) == (
        "Run,test accuracy,test accuracy CI low,test accuracy CI high,test ECE\n"
        "lr=1e-3,0.8100,0.7900,0.8300,0.0410\n"
        "lr=1e-4,0.7500,0.7300,0.7700,0.0520\n"
    )


def test_a_leaderboard_bolds_no_tie_and_no_overlap() -> None:
    overlap = leaderboard([("a", 0.8100, [0.7900, 0.8300], 0.0500), ("b", 0.8000, [0.7800, 0.8200], 0.0400)])
    assert bold(summary_table(overlap)) == [[False, False], [False, True]]  # ECE: lower is better, no CIs
    tie = leaderboard([("a", 0.80010, None, 0.0500), ("b", 0.8000, None, 0.0500), ("c", 0.7, None, 0.06)])
    assert bold(summary_table(tie)) == [[False, False], [False, False], [False, False]]  # 1/600 > 0.0001


def test_groups_are_mean_and_std_bold_only_when_the_ranges_part() -> None:
    doc = leaderboard([("a", 0.81, None, 0.04)])
    doc.update(group_by="lr", leaderboard=[{**doc["leaderboard"][0], "group": "0.001"}], set_apart=[{"id": "x"}])
    doc["groups"] = [{"value": "0.001", "runs": ["r0", "r1", "r2"], "n": 3,
                      "stats": {"test/accuracy": {"mean": 0.8100, "std": 0.0100, "n": 3},
                                "test/ece": {"mean": 0.0450, "std": 0.0050, "n": 3}}},
                     {"value": "1e-05", "runs": ["r3", "r4", "r5"], "n": 3,
                      "stats": {"test/accuracy": {"mean": 0.7600, "std": 0.0150, "n": 3},
                                "test/ece": {"mean": 0.0480, "std": 0.0060, "n": 3}}}]
    assert to_latex(summary_table(doc)) == (
        "\\begin{table}\n"
        "\\centering\n"
        "\\caption{Runs of sweep\\_7 grouped by lr, best mean test/accuracy first (higher is better; n = 600 test "
        "rows per run). Cells: mean $\\pm$ standard deviation over the runs of each group (3 runs per group). Bold: "
        "best group, not tied with the runner-up and mean $\\pm$ std ranges not overlapping. 1 outlier run(s) set "
        "apart, not shown.}\n"
        "\\begin{tabular}{lrr}\n"
        "\\toprule\n"
        "lr & test accuracy & test ECE \\\\\n"
        "\\midrule\n"
        "0.001 & \\textbf{0.8100} $\\pm$ 0.0100 & 0.0450 $\\pm$ 0.0050 \\\\\n"
        "1e-05 & 0.7600 $\\pm$ 0.0150 & 0.0480 $\\pm$ 0.0060 \\\\\n"
        "\\bottomrule\n"
        "\\end{tabular}\n"
        "\\end{table}\n"
    )
    assert to_csv(summary_table(doc)) == (
        "lr,test accuracy,test accuracy std,test ECE,test ECE std\n"
        "0.001,0.8100,0.0100,0.0450,0.0050\n"
        "1e-05,0.7600,0.0150,0.0480,0.0060\n"
    )


def test_latex_specials_are_escaped() -> None:
    assert escape("a&b%c$d#e_f{g}h~i^j\\k") == (
        "a\\&b\\%c\\$d\\#e\\_f\\{g\\}h\\textasciitilde{}i\\textasciicircum{}j\\textbackslash{}k")
    assert escape("0.5 ± 0.1 — ∞") == "0.5 $\\pm$ 0.1 --- $\\infty$"


def test_the_flags_work_end_to_end(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    a, _ = log("base_line", 0.55, config={"q": 0.55}, seed=1)
    b, _ = log("better", 0.75, config={"q": 0.75}, seed=2)
    shown = run(env, "compare", a, b, "--latex")
    assert shown.returncode == 0, shown.stderr
    doc = json.loads(run(env, "compare", a, b, "--json").stdout)
    assert shown.stdout == to_latex(comparison_table(doc))  # the table of the document, nothing recomputed
    assert "better & \\textbf{" in shown.stdout and "base\\_line & 0." in shown.stdout
    out = tmp_path / "table.csv"
    assert run(env, "compare", a, b, "--csv", "--out", out).returncode == 0
    assert out.read_text() == to_csv(comparison_table(doc))
    summary = run(env, "summary", "--project", "truth", "--group-by", "q", "--latex")
    assert summary.returncode == 0, summary.stderr
    grouped = json.loads(run(env, "summary", "--project", "truth", "--group-by", "q", "--json").stdout)
    assert summary.stdout == to_latex(summary_table(grouped))
    assert run(env, "summary", "--project", "truth", "--csv").stdout.startswith("Run,test macro-F1,")
    assert run(env, "compare", a, b).stdout.startswith("#")  # without the flags nothing changes
    for args in (("--latex", "--csv"), ("--json", "--latex"), ("--html", "--csv")):
        refused = run(env, "compare", a, b, *args)
        assert refused.returncode == 2 and f"{args[0]} and {args[1]} ask for 2 forms" in refused.stderr
    refused = run(env, "summary", "--project", "truth", "--latex", "--html")
    assert refused.returncode == 2 and "--html and --latex" in refused.stderr


def test_the_flags_work_for_prediction_files(tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    y = rng.integers(0, 3, 300)
    files = [write_predictions(table_from_arrays(y, random_probs(rng, 300, 3), classes=CLASSES), tmp_path / f"{n}.csv")
             for n in ("a", "b")]
    shown = run({}, "compare", *files, "--latex")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == to_latex(comparison_table(json.loads(run({}, "compare", *files, "--json").stdout)))
    assert "(n = 300 rows" in shown.stdout and "\\textbf" not in shown.stdout  # two random systems: within noise
