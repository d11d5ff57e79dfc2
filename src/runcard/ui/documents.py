"""The documents the UI shows, built by `runcard.report` exactly as the CLI builds them, and their HTML made
fit for a page served under a Content-Security-Policy that runs no inline script.

`runcard card --html` is one offline file: its examples browser is inline JavaScript. Here that script is
served as ``/static/examples.js`` (the same text, `runcard.report.html.EXAMPLES_JS`), the data it reads stays
an inert JSON element, and the inline copy is taken out of the page; any other executable inline script is
removed too (and logged), so the policy never has to allow one.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from html import escape
from typing import Any

from runcard.configs import config_differences, flatten_config
from runcard.report.card import build_card
from runcard.report.comparison import build_comparison
from runcard.report.html import EXAMPLES_JS, card_html
from runcard.report.multi import comparison_html, summary_html
from runcard.report.selection import stored_summary
from runcard.store import Run
from runcard.ui.plots import parallel_coordinates
from runcard.ui.source import BadRequest, NotFound, UiStore

log = logging.getLogger(__name__)

#: The card's examples browser as a file: its inline script without the tags.
EXAMPLES_SCRIPT = EXAMPLES_JS.removeprefix("<script>").removesuffix("</script>")
#: A summary of more runs than this is refused with the command that builds it (each run's findings cost
#: about 0.1 s when it has predictions).
MAX_SUMMARY_RUNS = 2_000
_BODY = re.compile(r"<body[^>]*>(.*)</body>", re.S)
_SCRIPT = re.compile(r"<script\b([^>]*)>.*?</script>", re.S | re.I)


def body_of(document: str) -> tuple[str, bool]:
    """The inside of a document's body, without executable inline scripts; and whether it needs the examples
    browser (``/static/examples.js``)."""
    found = _BODY.search(document)
    inner = found.group(1) if found else document
    examples = EXAMPLES_JS in inner
    inner = inner.replace(EXAMPLES_JS, "")

    def drop(match: re.Match[str]) -> str:
        if 'type="application/json"' in match.group(1):
            return match.group(0)  # inert data, never run
        log.warning("removed an inline script from a served document (the UI's policy runs none)")
        return ""

    return _SCRIPT.sub(drop, inner), examples


def card(ui: UiStore, run: Run) -> dict[str, Any]:
    """The run card's document (`runcard card RUN --json`)."""
    return build_card(ui.get(), run)


def card_body(doc: dict[str, Any]) -> tuple[str, bool]:
    return body_of(card_html(doc))


def comparison_runs(ui: UiStore, ids: Sequence[str]) -> list[Run]:
    """The runs a compare URL names (ids or unique prefixes, each once), at least two."""
    names = [i for part in ids for i in part.split(",") if i.strip()]
    if len(names) < 2:
        raise BadRequest("a comparison needs two runs or more: tick them in the runs table, or write "
                         "/compare?runs=A&runs=B (the first is the baseline).")
    runs = [ui.run(name.strip()) for name in names]
    if len({r.id for r in runs}) != len(runs):
        raise BadRequest("the same run is named twice; compare different runs.")
    return runs


def comparison(ui: UiStore, runs: list[Run]) -> dict[str, Any]:
    """The comparison's document (`runcard compare A B ... --json`)."""
    return build_comparison(ui.get(), runs)


def comparison_body(doc: dict[str, Any]) -> str:
    """The comparison's HTML, its links to each run's card file pointing at the run's page instead."""
    inner, _ = body_of(comparison_html(doc))
    for run in doc["runs"]:
        rid = escape(run["id"])
        inner = inner.replace(f'<a href="{rid}.html">{rid}.html</a>', f'<a href="/runs/{rid}">run page</a>')
    return inner


def summary(ui: UiStore, *, project: str | None, sweep: str | None, sort: str | None,
            group_by: str | None) -> tuple[dict[str, Any], list[Run]]:
    """The summary's document (`runcard summary --project P --sweep S --json`) and the runs it read."""
    store = ui.get()
    listed = [r for r in ui.listings(project) if sweep is None or r.tags.get("sweep") == sweep]
    if not listed:
        raise NotFound(f"no stored run {'of sweep ' + repr(sweep) if sweep else ''}"
                       f"{' in project ' + repr(project) if project else ''}; the runs table lists what there is.")
    if len(listed) > MAX_SUMMARY_RUNS:
        what = " ".join(f"--{k} {v}" for k, v in (("project", project), ("sweep", sweep)) if v)
        raise BadRequest(f"{len(listed):,} runs: the summary reads each run's stored evaluations and counts its "
                         f"findings (about 0.1 s a run with predictions), more than a page should wait for. Narrow "
                         f"it in the runs table (a tag, a config value, or group by a config key), or write it "
                         f"once: runcard summary {what} --html --out summary.html.")
    runs = store.get_runs([r.id for r in listed])
    doc = stored_summary(store, runs, project=project, sweep=sweep, sort=sort, group_by=group_by)
    return doc, runs


#: Config keys left off the parallel coordinates: they tell runs apart without being a setting.
_IDENTITY = ("seed", "name", "tags")


def summary_body(doc: dict[str, Any], runs: Sequence[Run]) -> str:
    """The summary's HTML with its runs linked to their pages and, after the takeaways, the parallel
    coordinates of the configs that vary against the sort metric."""
    inner, _ = body_of(summary_html(doc))
    ids = {r.id for r in runs}
    inner = re.sub(r"<td>([A-Za-z0-9-]{1,32})</td>",
                   lambda m: f'<td><a href="/runs/{m.group(1)}">{m.group(1)}</a></td>' if m.group(1) in ids
                   else m.group(0), inner)
    plot = parallel_section(doc, runs)
    marker = '<section id="leaderboard">'
    return inner.replace(marker, plot + marker, 1) if marker in inner else inner + plot


def parallel_section(doc: dict[str, Any], runs: Sequence[Run]) -> str:
    configs = {r.id: flatten_config(dict(r.config)) for r in runs}
    keys = [k for k in config_differences([dict(r.config) for r in runs])
            if k.rsplit(".", 1)[-1] not in _IDENTITY]
    sort = doc["sort"]
    rows = [{"id": r["id"], "name": r["name"], "config": {k: configs.get(r["id"], {}).get(k) for k in keys},
             "value": r.get(sort)} for r in doc["leaderboard"]]
    if not keys or not rows:
        return ('<section id="parallel"><h2>Configs against the sort metric</h2><p>The runs share one config: '
                "nothing to draw.</p></section>")
    svg = parallel_coordinates(rows, keys, sort, title=f"Config values against {sort}")
    return (f'<section id="parallel"><h2>Configs against {escape(sort)}</h2><div class="scroll">{svg}</div>'
            '<p class="muted">One line per ranked run (the outliers set apart are left out); hover a line for its '
            'run.</p></section>')
