"""What every recipe shares at its end: the result type, and the one card writer (the card `runcard card RUN`
builds, from the same stored evaluation, written where the config's ``[report]`` says)."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runcard.data.atomic import atomic_path
from runcard.report.card import build_card
from runcard.report.html import card_html
from runcard.report.markdown import card_markdown
from runcard.runs import get_run
from runcard.store import Store
from runcard.tracking import ActiveRun


@dataclass(frozen=True)
class RecipeResult:
    """What a recipe run produced: its card's paths, the numbers it reports, the card's verdict lines and
    its findings (the terminal shows the errors and warnings)."""

    run_id: str
    card_markdown: Path
    card_html: Path | None
    metrics: dict[str, float]
    verdict: tuple[str, ...] = ()
    findings: tuple[dict[str, Any], ...] = field(default=())


def log_json(run: ActiveRun, name: str, payload: dict[str, Any]) -> None:
    """Store ``payload`` as a JSON file artifact of ``run``."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_text(json.dumps(payload, indent=2, default=str))
        run.log_artifact(path)


def card_paths(out_dir: str, run_id: str) -> tuple[Path, Path]:
    """Where a run's Markdown and HTML cards go (``out_dir`` relative to the working directory)."""
    out = Path(out_dir)
    out = out if out.is_absolute() else Path.cwd() / out
    return out / f"{run_id}.md", out / f"{run_id}.html"


def write_card(store: Store, run_id: str, *, out_dir: str, html: bool, metrics: dict[str, float]) -> RecipeResult:
    """Build the run's card (exactly what `runcard card RUN` builds) and write it atomically."""
    doc = build_card(store, get_run(run_id, store))
    md_path, html_path = card_paths(out_dir, run_id)
    with atomic_path(md_path) as tmp:
        tmp.write_text(card_markdown(doc), encoding="utf-8")
    if html:
        with atomic_path(html_path) as tmp:
            tmp.write_text(card_html(doc), encoding="utf-8")
    return RecipeResult(run_id, md_path, html_path if html else None, metrics, tuple(doc["result"]["lines"]),
                        tuple(doc["findings"]))
