"""The card's examples in a real browser: a click on a confusion cell lists its rows with their texts, hostile
texts are shown and never run, no text of any plot leaves its box, and a 100,000-row card stays small."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from runcard import start_run
from runcard.report.card import build_card
from runcard.report.html import card_html
from runcard.runs import get_run
from runcard.store import open_store
from tests.report.browser import SVG_OVERFLOWS, evaluate_js, render, require_chromium

HOSTILE = ['<script>document.title="pwned"</script>', "\"><img src=x onerror=\"document.title='pwned'\">",
           "</textarea><script>document.title='pwned'</script>", "</script><script>document.title='pwned'</script>"]
CLASSES = ["LocalPatch", "TargetedRegenerate", "RefineDecomposition", "ContractUpdate", "WholeRepoRegenerate"]


def hostile_card(tmp_path: Path, monkeypatch) -> Path:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("RUNCARD_ARTIFACTS", str(tmp_path / "a"))
    monkeypatch.setenv("RUNCARD_JOURNAL", str(tmp_path / "j"))
    store = open_store(f"sqlite:///{tmp_path / 'r.db'}")
    rng = np.random.default_rng(0)
    n = 600
    y = rng.integers(0, 5, n)
    pred = np.where(rng.random(n) < 0.6, y, rng.integers(0, 5, n))
    p = np.full((n, 5), 0.05)
    p[np.arange(n), pred] = 0.8
    texts = [HOSTILE[i % len(HOSTILE)] + f" row {i}" for i in range(n)]
    with start_run("hostile", name='<img src=x onerror="document.title=1">', store=store) as run:
        run.log_predictions("test", y, p, classes=CLASSES, texts=texts, ids=[f"<b>{i}</b>" for i in range(n)])
    out = tmp_path / "card.html"
    out.write_text(card_html(build_card(store, get_run(run.id, store))))
    return out


def test_a_click_on_a_cell_lists_its_rows_and_no_text_runs(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    browser = require_chromium()
    page = hostile_card(tmp_path, monkeypatch)
    click = """(function(){var el=Array.from(document.querySelectorAll('rect[data-cell]')).find(function(r){
      return r.querySelector('title').textContent.indexOf('true ContractUpdate, predicted WholeRepoRegenerate')===0;});
      el.dispatchEvent(new MouseEvent('click',{bubbles:true}));var panel=document.getElementById('cell-rows-0');
      return {title:document.title,rows:panel.querySelectorAll('tbody tr').length,text:panel.textContent,
              images:document.querySelectorAll('img').length,scripts:document.querySelectorAll('script').length};})()"""
    result = evaluate_js(browser, page, click)
    assert isinstance(result, dict) and "error" not in result, result
    assert result["title"].startswith("Run card") and "pwned" not in result["title"]  # no hostile text ran
    assert result["images"] == 0 and result["scripts"] == 3  # the data, the browser code, the test's own
    assert result["rows"] > 0 and "true ContractUpdate, predicted WholeRepoRegenerate" in result["text"]
    assert '<script>document.title="pwned"</script>' in result["text"] or "onerror" in result["text"]  # shown as text
    _, console = render(browser, page)
    assert console == []


def test_no_text_of_a_plot_leaves_its_box(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    browser = require_chromium()
    page = hostile_card(tmp_path, monkeypatch)
    overflows = evaluate_js(browser, page, SVG_OVERFLOWS)
    assert overflows == [], overflows


def test_a_card_of_100000_rows_stays_under_3_mb(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("RUNCARD_ARTIFACTS", str(tmp_path / "a"))
    monkeypatch.setenv("RUNCARD_JOURNAL", str(tmp_path / "j"))
    store = open_store(f"sqlite:///{tmp_path / 'r.db'}")
    rng = np.random.default_rng(1)
    n, k = 100_000, 20
    y = rng.integers(0, k, n)
    p = rng.dirichlet(np.ones(k), n)
    p[np.arange(n), y] += 0.5
    p /= p.sum(1, keepdims=True)
    texts = [("a long review text " * 40) + str(i) for i in range(n)]  # 760+ characters each
    with start_run("big", store=store) as run:
        run.log_predictions("test", y, p, texts=texts)
    doc = build_card(store, get_run(run.id, store))
    html = card_html(doc)
    assert len(html.encode()) < 3_000_000
    cells = doc["examples"]["splits"]["test"]["cells"]
    assert sum(len(c["rows"]) for c in cells.values()) <= 40 * 25 and json.dumps(doc)
