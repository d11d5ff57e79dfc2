"""`runcard calibrate`: fit temperature (or vector) scaling on validation, apply it to test."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from runcard.cli.options import AsJson, Bins, Renormalize, print_json
from runcard.errors import InputError

EPILOG = (
    "Examples:\n\n"
    "  runcard calibrate --val val.csv --apply test.csv --out test_calibrated.csv\n\n"
    "  runcard calibrate --val val.parquet --apply test.parquet --out cal.parquet --method vector --json\n\n"
    "The output holds the calibrated prob_ and logit_ columns (docs/formats.md)."
)
#: `runcard.posthoc.METHODS`, written out: importing posthoc here would load numpy at every start of the CLI
#: (tests/test_imports.py checks that the two agree).
METHODS = ("temperature", "vector")


def calibrate_command(
    val: Annotated[Path, typer.Option("--val", help="Validation predictions to fit on.", show_default=False)],
    apply: Annotated[Path, typer.Option("--apply", help="Test predictions to calibrate.", show_default=False)],
    out: Annotated[Path, typer.Option("--out", help="Where to write the calibrated test predictions.", show_default=False)],
    method: Annotated[str, typer.Option("--method", help=f"One of: {', '.join(METHODS)}.")] = "temperature",
    out_val: Annotated[Path | None, typer.Option("--out-val", help="Also write the calibrated validation predictions.")] = None,
    bins: Bins = 15,
    renormalize: Renormalize = False,
    as_json: AsJson = False,
) -> None:
    """Fit post-hoc calibration on validation predictions, apply it to test, report before/after."""
    if method not in METHODS:
        raise InputError(f"--method: expected one of {', '.join(METHODS)}, got {method!r}.")
    from rich.console import Console

    from runcard.cli.render import calibration_report, print_group
    from runcard.data.prediction_files import file_format, load_predictions, write_predictions
    from runcard.posthoc import calibrate_tables

    for target in [out] + ([out_val] if out_val else []):
        file_format(target)
        if target.resolve() in (val.resolve(), apply.resolve()):
            raise InputError(f"{target}: refusing to overwrite an input file; choose another output path.")
    val_table = load_predictions(val, renormalize=renormalize)
    test_table = load_predictions(apply, renormalize=renormalize)
    if set(val_table.classes) != set(test_table.classes):
        raise InputError(
            f"{val} holds classes {list(val_table.classes)} but {apply} holds {list(test_table.classes)}; "
            "validation and test files must have the same classes."
        )
    err = Console(stderr=True)
    with err.status(f"fitting {method} scaling on {val_table.n:,} validation rows"):
        result = calibrate_tables(val_table, test_table, method=method, bins=bins)
    write_predictions(result.calibrated["test"], out)
    err.print(f"wrote calibrated test predictions to {out}")
    if out_val is not None:
        write_predictions(result.calibrated["val"], out_val)
        err.print(f"wrote calibrated validation predictions to {out_val}")
    if as_json:
        print_json({**result.to_dict(), "out": str(out), "out_val": None if out_val is None else str(out_val)})
        return
    print_group(calibration_report(result, {"val": str(val), "test": str(apply)}))
