"""Paper tables: a comparison or a summary document as a booktabs LaTeX table, or the same table as CSV.

`comparison_table` and `summary_table` choose a document's rows, columns and cells and which cells are bold;
`to_latex` and `to_csv` write the `Table`. Bold claims no more than the document does: in a comparison only a
run that Holm-corrected paired tests put above every other run, in a summary only a best that is not tied with
the runner-up and whose noise range does not overlap the runner-up's (docs/reports.md#paper-tables).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from runcard.errors import InputError
from runcard.metrics.directions import direction
from runcard.report.card_result import LABELS
from runcard.report.comparison import COUNT_BASED
from runcard.report.numbers import interval, is_tie, metric, plain

#: Column names of metric leaves (``test/ece`` -> ``test ECE``).
NAMES = {**LABELS, "ece": "ECE", "adaptive_ece": "adaptive ECE", "mce": "MCE", "nll": "NLL", "brier": "Brier",
         "kl": "KL", "js_distance": "JS distance"}
CI_WORDS = "95 % cell-multinomial bootstrap percentile interval"
#: LaTeX specials, and the characters the documents write that plain LaTeX does not know.
_ESCAPES = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
            "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}",
            "±": r"$\pm$", "—": "---", "–": "--", "−": "$-$", "∞": r"$\infty$"}


@dataclass(frozen=True)
class Cell:
    """One value with its 95 % CI (one run) or its standard deviation (a group's mean); ``bold``: best beyond noise."""

    value: float | None
    ci: tuple[float, float] | None = None
    std: float | None = None
    bold: bool = False


#: A table row: its label and one cell per metric column.
Row = tuple[str, tuple[Cell, ...]]


@dataclass(frozen=True)
class Table:
    """``headers[0]`` heads the row labels, each other header one metric column; a row is a label and one
    `Cell` per metric column."""

    caption: str
    headers: tuple[str, ...]
    rows: tuple[Row, ...]


def escape(text: str) -> str:
    """``text`` safe inside LaTeX: ``& % $ # _ { } ~ ^ \\`` escaped, ± — – − ∞ written in LaTeX."""
    return "".join(_ESCAPES.get(ch, ch) for ch in text)


def header(key: str) -> str:
    """A column header: ``test/macro_f1`` -> ``test macro-F1``."""
    split, _, leaf = key.rpartition("/")
    return f"{split} {NAMES.get(leaf, leaf)}".strip()


def _labels(runs: list[dict[str, Any]]) -> list[str]:
    """Run names, with the id where two runs share a name."""
    names = [r["name"] for r in runs]
    return [f"{r['name']} ({r['id']})" if names.count(r["name"]) > 1 else r["name"] for r in runs]


def _ci(value: Any) -> tuple[float, float] | None:
    return (float(value[0]), float(value[1])) if value else None


def _rows(columns: list[list[Cell]], best: list[int | None], labels: list[str]) -> tuple[Row, ...]:
    """Columns of cells, each column's ``best`` cell bold, as rows."""
    marked = [[replace(c, bold=i == b) for i, c in enumerate(col)] for col, b in zip(columns, best)]
    return tuple((label, tuple(col[i] for col in marked)) for i, label in enumerate(labels))


def comparison_table(doc: dict[str, Any], metrics: Sequence[str] | None = None) -> Table:
    """One row per run (the baseline A first), one column per metric: the primary metric and accuracy of the test
    split (else the first paired split), then ``metrics`` (names on that split, or keys such as ``val/ece``).
    A cell is the run's value with its own 95 % CI where its evaluation has one."""
    pairs = [p for p in doc["paired"] if p["paired"]]
    if not pairs:
        why = "; ".join(p["reason"] for p in doc["paired"]) or "the runs share no held-out split"
        raise InputError(f"--latex/--csv: no paired split to tabulate ({why}); a comparison table states paired "
                         "tests: compare runs that logged predictions on the same examples.")
    split = next((p["split"] for p in pairs if p["split"] == "test"), pairs[0]["split"])
    keys = list(dict.fromkeys(m if "/" in m else f"{split}/{m}"
                              for m in [doc["settings"]["primary"], "accuracy", *(metrics or [])]))
    ids = [r["id"] for r in doc["runs"]]
    columns, best, untested = [], [], []
    for key in keys:
        on = {p["b"]: p for p in pairs if p["split"] == key.rpartition("/")[0]}
        columns.append(_comparison_cells(doc, on, ids, key))
        best.append(_comparison_best(on, ids, key.rpartition("/")[2]))
        if not on or any(key.rpartition("/")[2] not in p["difference"] for p in on.values()):
            untested.append(header(key))
    s, n, labels = doc["settings"], next(p["n"] for p in pairs if p["split"] == split), _labels(doc["runs"])
    caption = (f"{', '.join(labels[1:])} against the baseline {labels[0]} (first row) on the {split} split (n = "
               f"{n:,} rows, the runs paired on their examples). Brackets: each run's {CI_WORDS} (its stored "
               f"evaluation). Bold: best beyond noise (Holm-corrected paired test: paired cell-multinomial bootstrap, "
               f"{s['n_boot']:,} resamples, family-wise level {s['alpha'] * 100:g} %); no bold where the tests do "
               f"not order the runs.")
    if untested:
        caption += f" No paired test, never bold: {', '.join(untested)}."
    return Table(caption, ("Run", *map(header, keys)), _rows(columns, best, labels))


def _comparison_cells(doc: dict[str, Any], on: dict[str, dict[str, Any]], ids: list[str], key: str) -> list[Cell]:
    """Each run's value of ``key`` (the document's metrics, else the paired scores) and its own CI."""
    leaf = key.rpartition("/")[2]
    first = next(iter(on.values()), None)
    row = next((r["values"] for r in doc["metrics"] if r["metric"] == key), None)
    cells = []
    for i, run in enumerate(ids):
        pair, side = (first, "a") if i == 0 else (on.get(run), "b")
        value = row[i] if row is not None else pair["scores"][side].get(leaf) if pair else None
        ci = ((pair.get("run_ci95") or {}).get(side) or {}).get(leaf) if pair else None
        cells.append(Cell(value, ci=_ci(ci)))
    if all(c.value is None for c in cells):
        known = ", ".join(r["metric"] for r in doc["metrics"])
        raise InputError(f"metric {key!r} is not in this comparison; its metrics are: {known}.")
    return cells


def _comparison_best(on: dict[str, dict[str, Any]], ids: list[str], leaf: str) -> int | None:
    """The run the paired tests put above every other: B when B − A is significant (Holm) in the better direction
    and every other B is significantly worse than A; A when every B is. None otherwise."""
    way = direction(leaf)
    if way is None or any(b not in on or leaf not in on[b]["difference"] for b in ids[1:]):
        return None

    def beyond(b: str, sign: int) -> bool:
        d, n = on[b]["difference"][leaf], on[b]["n"]
        gain = d["b_minus_a"] if way == "higher" else -d["b_minus_a"]
        return bool(d.get("significant")) and sign * gain > 0 and not is_tie(d["b_minus_a"], 0.0, n)

    worse = [beyond(b, -1) for b in ids[1:]]
    if all(worse):
        return 0
    for j, b in enumerate(ids[1:]):
        if beyond(b, +1) and all(w for k, w in enumerate(worse) if k != j):
            return j + 1
    return None


def summary_table(doc: dict[str, Any]) -> Table:
    """One row per group (``--group-by``: mean ± std over its runs) or per ranked run (its value with its 95 % CI),
    one column per shown metric (the sort metric, then the summary's columns); runs set apart are left out."""
    keys, board = [doc["sort"], *doc["columns"]], doc["leaderboard"]
    if not board:
        raise InputError(f"--latex/--csv: no ranked run to tabulate (none has {doc['sort']} outside the runs set "
                         "apart); pass --sort METRIC with a metric the runs have.")
    better = f"{doc['direction']} is better"
    if doc["group_by"]:
        groups = doc["groups"]
        columns = [[Cell(g["stats"].get(k, {}).get("mean"), std=g["stats"].get(k, {}).get("std")) for g in groups]
                   for k in keys]
        best = [_summary_best(col, k, None) for col, k in zip(columns, keys)]
        sizes = sorted({g["n"] for g in groups})
        per = f"{sizes[0]}" + (f"–{sizes[-1]}" if len(sizes) > 1 else "")
        alone = "; a group of one run shows its value" if sizes[0] == 1 else ""
        caption = (f"Runs of {doc['source']} grouped by {doc['group_by']}, best mean {doc['sort']} first ({better}; "
                   f"{_rows_words(board, keys)} per run). Cells: mean ± standard deviation over the runs of each group "
                   f"({per} runs per group{alone}). Bold: best group, not tied with the runner-up and mean ± std "
                   "ranges not overlapping.")
        labels = [str(g["value"]) for g in groups]
    else:
        columns = [[Cell(r.get(k), ci=_ci((r.get("ci95") or {}).get(k))) for r in board] for k in keys]
        best = [_summary_best(col, k, _fewest_rows(board, k)) for col, k in zip(columns, keys)]
        brackets = f" Brackets: each run's {CI_WORDS}; logged values have none." if any(
            c.ci for col in columns for c in col) else ""
        caption = (f"{len(board)} runs of {doc['source']}, best {doc['sort']} first ({better}; "
                   f"{_rows_words(board, keys)}).{brackets} Bold: best, not tied with the runner-up (one row in n "
                   f"for counted scores) and, where both have CIs, CIs not overlapping.")
        labels = _labels(board)
    if doc["set_apart"]:
        caption += f" {len(doc['set_apart'])} outlier run(s) set apart, not shown."
    head = doc["group_by"] if doc["group_by"] else "Run"
    return Table(caption, (head, *map(header, keys)), _rows(columns, best, labels))


def _summary_best(cells: list[Cell], key: str, n: int | None) -> int | None:
    """The best cell when the runner-up is not tied with it (`is_tie` at ``n`` rows) and, where both have a noise
    range (a CI, or mean ± std), the two ranges do not overlap; None otherwise."""
    way = direction(key)
    values = [(c.value, i) for i, c in enumerate(cells) if c.value is not None and math.isfinite(c.value)]
    order = [i for _, i in sorted(values, key=lambda t: t[0], reverse=way == "higher")]
    if way is None or len(order) < 2:
        return None
    top, second = cells[order[0]], cells[order[1]]
    if is_tie(top.value, second.value, n):
        return None
    a, b = _noise(top), _noise(second)
    return None if a and b and not (a[1] < b[0] or b[1] < a[0]) else order[0]


def _noise(cell: Cell) -> tuple[float, float] | None:
    if cell.ci:
        return cell.ci
    return None if cell.std is None or cell.value is None else (cell.value - cell.std, cell.value + cell.std)


def _counts(board: list[dict[str, Any]], split: str) -> list[int]:
    """The distinct row counts of ``split`` over the runs, fewest first."""
    return sorted({r["rows"][split] for r in board if split in (r.get("rows") or {})})


def _fewest_rows(board: list[dict[str, Any]], key: str) -> int | None:
    """The fewest rows behind ``key`` over the runs (the coarsest resolution), for count-based scores only."""
    split, _, leaf = key.rpartition("/")
    return next(iter(_counts(board, split)), None) if leaf in COUNT_BASED else None


def _rows_words(board: list[dict[str, Any]], keys: list[str]) -> str:
    """``n = 600 test rows`` (a range where runs differ), per split of the columns."""
    splits = dict.fromkeys(k.rpartition("/")[0] for k in keys if "/" in k)
    parts = [f"{counts[0]:,}" + (f"–{counts[-1]:,}" if len(counts) > 1 else "") + f" {split} rows"
             for split in splits if (counts := _counts(board, split))]
    return "n = " + ", ".join(parts) if parts else "logged values, no stored predictions"


def _latex_cell(cell: Cell) -> str:
    value = escape(metric(cell.value))
    value = f"\\textbf{{{value}}}" if cell.bold else value
    if cell.std is not None:
        return f"{value} $\\pm$ {escape(metric(cell.std))}"
    return f"{value} {interval(cell.ci)}" if cell.ci else value


def to_latex(table: Table) -> str:
    """A booktabs table (``\\usepackage{booktabs}``), caption on top, every name and caption escaped."""
    lines = ["\\begin{table}", "\\centering", f"\\caption{{{escape(table.caption)}}}",
             f"\\begin{{tabular}}{{l{'r' * (len(table.headers) - 1)}}}", "\\toprule",
             " & ".join(map(escape, table.headers)) + " \\\\", "\\midrule"]
    lines += [" & ".join([escape(label), *map(_latex_cell, cells)]) + " \\\\" for label, cells in table.rows]
    lines += ["\\bottomrule", "\\end{tabular}", "\\end{table}"]
    return "\n".join(lines) + "\n"


def to_csv(table: Table) -> str:
    """The same table as CSV: plain numbers, a CI as two columns (low, high), a std as one; no bold, no caption."""
    columns = [[cells[j] for _, cells in table.rows] for j in range(len(table.headers) - 1)]
    has_ci = [any(c.ci for c in col) for col in columns]
    has_std = [any(c.std is not None for c in col) for col in columns]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    head = [table.headers[0]]
    for h, ci, std in zip(table.headers[1:], has_ci, has_std):
        head += [h, *([f"{h} CI low", f"{h} CI high"] if ci else []), *([f"{h} std"] if std else [])]
    writer.writerow(head)
    for label, cells in table.rows:
        line = [label]
        for cell, ci, std in zip(cells, has_ci, has_std):
            line.append(plain(cell.value))
            line += [plain(cell.ci[0]), plain(cell.ci[1])] if cell.ci else ["", ""] if ci else []
            line += [plain(cell.std)] if std else []
        writer.writerow(line)
    return out.getvalue()
