"""The write-ups from Python: `card`, `compare_runs` and `summary` return documents that render as Markdown,
HTML, JSON (a dict) or a notebook view, and save themselves.

    doc = runcard.card("3fa9")            # a stored run, by id or prefix (or a Run)
    doc.markdown(); doc.html(); doc.to_dict(); doc.save("card.html")
    runcard.compare_runs("3fa9", "7c21", effect=0.01).save("compare.md")
    runcard.summary(project="agnews", sort="test/macro_f1", group_by="train.lr")

Each builds exactly what the matching command builds (`runcard card`, `compare`, `summary`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runcard.data.atomic import atomic_path
from runcard.display import framed
from runcard.errors import InputError
from runcard.eval_settings import EvalSettings
from runcard.findings.budget import ALPHA
from runcard.jsonsafe import dumps
from runcard.report.card import build_card
from runcard.report.comparison import build_comparison
from runcard.report.html import card_html
from runcard.report.markdown import card_markdown
from runcard.report.multi import (
    comparison_html,
    comparison_markdown,
    summary_html,
    summary_markdown,
)
from runcard.report.summary import build_summary
from runcard.report.views import load_runs
from runcard.runs import get_run, list_runs
from runcard.store import Run, Store, open_store


@dataclass(frozen=True)
class Document:
    """A card, comparison or summary: its data (`to_dict`, what ``--json`` prints) and its renderers."""

    kind: str
    data: dict[str, Any]
    _markdown: Callable[[dict[str, Any]], str]
    _html: Callable[[dict[str, Any]], str]

    def markdown(self) -> str:
        return self._markdown(self.data)

    def html(self) -> str:
        return self._html(self.data)

    def to_dict(self) -> dict[str, Any]:
        return self.data

    def save(self, path: str | Path) -> Path:
        """Write the document atomically; the suffix picks the form: ``.md``, ``.html`` or ``.json``."""
        path = Path(path)
        forms = {".md": self.markdown, ".markdown": self.markdown, ".html": self.html, ".htm": self.html,
                 ".json": lambda: dumps(self.data, indent=2) + "\n"}
        if path.suffix.lower() not in forms:
            raise InputError(f"{path}: save a {self.kind} as .md, .html or .json.")
        with atomic_path(path) as tmp:
            tmp.write_text(forms[path.suffix.lower()](), encoding="utf-8")
        return path

    def __repr__(self) -> str:
        lines = self.data.get("result", {}).get("lines") or [v["sentence"] for v in self.data.get("verdict", [])] \
            or self.data.get("takeaways", [])
        return f"<runcard {self.kind}: {lines[0] if lines else 'no verdict'}>"

    def _repr_html_(self) -> str:
        return framed(self.html())


def _run(run: str | Run, store: Store) -> Run:
    return run if isinstance(run, Run) else get_run(run, store)


def card(run: str | Run, store: str | Store | None = None, *, targets: dict[str, dict[str, Any]] | None = None,
         settings: EvalSettings | None = None, alpha: float = ALPHA, examples: int | None = None) -> Document:
    """The run card of ``run`` (an id, a prefix, or a `Run`)."""
    opened = open_store(store)
    kw = {} if examples is None else {"examples": examples}
    doc = build_card(opened, _run(run, opened), targets=targets, settings=settings, alpha=alpha, **kw)
    return Document("card", doc, card_markdown, card_html)


def compare_runs(*runs: str | Run, store: str | Store | None = None, targets: dict[str, dict[str, Any]] | None = None,
                 n_boot: int | None = None, seed: int | None = None, splits: Sequence[str] | None = None,
                 alpha: float = ALPHA, effect: float | None = None) -> Document:
    """The comparison of two or more stored runs; the first is the baseline."""
    opened = open_store(store)
    doc = build_comparison(opened, [_run(r, opened) for r in runs], targets=targets, n_boot=n_boot, seed=seed,
                           splits=splits, alpha=alpha, effect=effect)
    return Document("comparison", doc, comparison_markdown, comparison_html)


def summary(project: str | None = None, *, store: str | Store | None = None, runs: Sequence[str | Run] | None = None,
            sort: str | None = None, group_by: str | None = None, criterion: tuple[str, str] | None = None,
            alpha: float = ALPHA) -> Document:
    """The leaderboard of a project's stored runs (or of ``runs``)."""
    opened = open_store(store)
    chosen = [_run(r, opened) for r in runs] if runs is not None else list_runs(project, opened)
    views = [loaded.view for loaded in load_runs(opened, chosen)]
    source = f"project {project}" if project else "runs"
    doc = build_summary(views, source=source, sort=sort, group_by=group_by, criterion=criterion, alpha=alpha)
    return Document("summary", doc, summary_markdown, summary_html)
