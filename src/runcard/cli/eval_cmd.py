"""`runcard eval`: every metric of a prediction file, with confidence intervals."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from runcard.cli.options import Alpha, AsJson, Bins, Renormalize, Seed, print_json
from runcard.errors import InputError

EPILOG = (
    "Examples:\n\n"
    "  runcard eval test.csv\n\n"
    "  runcard eval test.parquet --val val.parquet --bins 10\n\n"
    "  runcard eval test.jsonl --json > test_eval.json\n\n"
    "File format: docs/formats.md. JSON keys: docs/evaluation.md."
)


def eval_command(
    file: Annotated[Path, typer.Argument(help="Prediction file: CSV, Parquet or JSONL (docs/formats.md).", show_default=False)],
    val: Annotated[Path | None, typer.Option("--val", help="Validation predictions, evaluated beside FILE.")] = None,
    bins: Bins = 15,
    ci: Annotated[bool, typer.Option("--ci/--no-ci", help="Compute bootstrap 95 % confidence intervals.")] = True,
    n_boot: Annotated[int | None, typer.Option("--n-boot", min=1, help="Bootstrap resamples behind each 95 % CI "
                                               "[default: 1000].", show_default=False)] = None,
    seed: Seed = 0,
    renormalize: Renormalize = False,
    alpha: Alpha = 0.05,
    as_json: AsJson = False,
) -> None:
    """Evaluate a prediction file: exact metrics, per-class scores, calibration errors, 95 % CIs, findings.

    With --val, the findings include texts (or ids) shared between the two files (leakage).
    """
    if n_boot is not None and not ci:
        raise InputError("--n-boot sets the bootstrap behind the CIs, which --no-ci turns off; give one of them.")
    from runcard.data.prediction_files import load_predictions
    from runcard.evaluate import evaluate_table
    from runcard.findings import RunView, run_findings

    n_boot = 1000 if n_boot is None else n_boot
    tables = {"test": load_predictions(file, renormalize=renormalize)}
    if val is not None:
        tables["val"] = load_predictions(val, renormalize=renormalize)
        if set(tables["val"].classes) != set(tables["test"].classes):
            raise InputError(
                f"{val} holds classes {list(tables['val'].classes)} but {file} holds "
                f"{list(tables['test'].classes)}; validation and test files must have the same classes."
            )
    evals = {split: evaluate_table(t, bins=bins, ci=ci, n_boot=n_boot, seed=seed) for split, t in tables.items()}
    findings = [f.to_dict() for f in run_findings(RunView(id="", name=str(file), status="file", evaluations=evals,
                                                          tables=tables), alpha=alpha)]
    if as_json:
        payload = evals["test"].to_dict()
        if "val" in evals:
            payload["val"] = evals["val"].to_dict()
        payload["findings"] = findings
        print_json(payload)
        return
    from rich.console import Console
    from rich.text import Text

    from runcard.cli.render import evaluation_report, findings_text, print_group

    print_group(evaluation_report(evals, {split: t.name for split, t in tables.items()}))
    Console().print(Text(f"Findings ({len(findings)}):", style="bold"))
    Console().print(findings_text(findings) if findings else Text("  none: every rule ran and none fired."))
