"""One check shared by the recipe tests: the card a recipe wrote is the card `runcard card RUN` builds."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

from runcard.report.card import build_card
from runcard.report.html import card_html
from runcard.report.markdown import card_markdown
from runcard.runs import get_run
from tests.cli.test_cli import RUNCARD

_GENERATED = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}")


def without_time(text: str) -> str:
    """A document with its generation time blanked: the only thing two builds of one card may differ in."""
    return _GENERATED.sub("<generated>", text)


def assert_recipe_card_is_the_stored_card(store: Any, markdown: Path, html: Path | None, run_id: str, *,
                                          cli_store: str | None = None) -> None:
    """The recipe's Markdown (and HTML) card equals what `runcard card RUN` gives now, apart from the time; with
    ``cli_store`` the card is built by the real command, else in process by the same builder."""
    if cli_store is not None:
        built = subprocess.run([RUNCARD, "card", run_id, "--store", cli_store], capture_output=True, text=True,
                               timeout=300, check=True).stdout
    else:
        built = card_markdown(build_card(store, get_run(run_id, store)))
    assert without_time(markdown.read_text()) == without_time(built)
    if html is not None:
        rebuilt = card_html(build_card(store, get_run(run_id, store)))
        assert without_time(html.read_text()) == without_time(rebuilt)
