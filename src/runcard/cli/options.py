"""Options shared by several commands, declared once."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from runcard.jsonsafe import dumps

Bins = Annotated[int, typer.Option("--bins", min=1, help="Bins for ECE/MCE (equal width) and adaptive ECE (equal mass).")]
Seed = Annotated[int, typer.Option("--seed", min=0, help="Seed of the bootstrap resampling.")]
NBoot = Annotated[int, typer.Option("--n-boot", min=1, help="Bootstrap resamples behind each 95 % CI.")]
Renormalize = Annotated[
    bool,
    typer.Option("--renormalize", help="Divide each probability row by its sum instead of rejecting rows off by > 1e-3."),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout instead of tables.")]
#: Evaluation settings of a stored run, overridden for one document (None: the run's own).
BinsOverride = Annotated[int | None, typer.Option("--bins", min=1, help="ECE bins for this document only "
                                                  "(default: the run's evaluation settings; a change is recomputed "
                                                  "and said on the document, never stored).", show_default=False)]
NBootOverride = Annotated[int | None, typer.Option("--n-boot", min=1, help="Bootstrap resamples behind each 95 % CI "
                                                   "(default: the run's evaluation settings).", show_default=False)]
SeedOverride = Annotated[int | None, typer.Option("--seed", min=0, help="Seed of the bootstrap resampling "
                                                  "(default: the run's evaluation settings).", show_default=False)]


def print_json(payload: Any) -> None:
    """Write one JSON object to stdout; NaN and infinities as the strings "NaN", "Infinity", "-Infinity"."""
    sys.stdout.write(dumps(payload, indent=2) + "\n")

StoreUrl = Annotated[
    str | None,
    typer.Option("--store", envvar="RUNCARD_STORE", show_envvar=True,
                 help="Store URL (default sqlite:///.runcard/runcard.db)."),
]

Alpha = Annotated[float, typer.Option("--alpha", min=1e-6, max=0.5, help="The document's family-wise false-alarm "
                                      "level: every finding that tests a null shares it (docs/findings.md).")]
