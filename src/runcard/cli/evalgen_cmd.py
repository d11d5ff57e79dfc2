"""`runcard eval-gen`: diversity, pass@k and paired differences of generations, with 95 % CIs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from runcard.cli.options import AsJson, NBoot, Seed, print_json
from runcard.cli.render import print_group
from runcard.cli.render_generation import generation_report
from runcard.errors import InputError
from runcard.generation.evaluate_generations import check_request, evaluate_generations
from runcard.generation.files import load_generations
from runcard.generation.scores import ProgressFactory
from runcard.generation.self_bleu import DEFAULT_CAP

EPILOG = (
    "Examples:\n\n"
    "  runcard eval-gen samples.jsonl\n\n"
    "  runcard eval-gen samples.parquet --k 1,10 --system baseline --system tuned\n\n"
    "  runcard eval-gen samples.jsonl --no-semantic --json > gen_eval.json\n\n"
    "File format: docs/formats.md (Generation files). Metrics and JSON keys: docs/generation.md."
)
#: Progress bars are drawn from this many samples on.
PROGRESS_MIN_SAMPLES = 2_000


def parse_ks(text: str | None) -> list[int] | None:
    """``"1,5,10"`` -> [1, 5, 10]; None stays None (the default ks)."""
    if text is None:
        return None
    try:
        ks = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise InputError(f"--k {text!r}: expected whole numbers separated by commas, e.g. --k 1,5,10.") from None
    if not ks or any(k < 1 for k in ks):
        raise InputError(f"--k {text!r}: every k must be a whole number >= 1, e.g. --k 1,5,10.")
    return ks


@contextmanager
def _bars(show: bool) -> Iterator[ProgressFactory | None]:
    if not show:
        yield None
        return
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        def factory(description: str, total: int) -> Callable[[int], None]:
            task = progress.add_task(description, total=total)
            return lambda n: progress.update(task, advance=n)

        yield factory


Ks = Annotated[str | None, typer.Option(
    "--k", help="pass@k values, e.g. 1,5,10 (default: those of 1,5,10 that every prompt has enough samples for).")]
Systems = Annotated[list[str] | None, typer.Option(
    "--system", help="A system to evaluate (repeat; the first is the baseline). Default: all, in file order.")]
NoSemantic = Annotated[bool, typer.Option("--no-semantic", help="Skip semantic diversity (loads no model).")]
SelfBleuCap = Annotated[int, typer.Option(
    "--self-bleu-cap", min=2, help="Samples per prompt in Self-BLEU (the first N, in file order).")]


def evalgen_command(
    file: Annotated[Path, typer.Argument(help="Generations: JSONL or Parquet (docs/formats.md).", show_default=False)],
    k: Ks = None,
    system: Systems = None,
    no_semantic: NoSemantic = False,
    self_bleu_cap: SelfBleuCap = DEFAULT_CAP,
    n_boot: NBoot = 1000,
    seed: Seed = 0,
    as_json: AsJson = False,
) -> None:
    """Evaluate generations: distinct-n, Self-BLEU, semantic diversity, pass@k; differences between systems."""
    ks = parse_ks(k)
    table = load_generations(file)
    check_request(table, systems=system, ks=ks)
    embed, model = None, None
    if not no_semantic:
        from runcard.generation.embedding import MODEL_NAME, load_embedder

        embed, model = load_embedder(), MODEL_NAME
    with _bars(table.n >= PROGRESS_MIN_SAMPLES) as progress:
        result = evaluate_generations(table, systems=system, ks=ks, embed=embed, self_bleu_cap=self_bleu_cap,
                                      n_boot=n_boot, seed=seed, progress=progress, model=model)
    if as_json:
        print_json(result.to_dict())
    else:
        print_group(generation_report(result))
