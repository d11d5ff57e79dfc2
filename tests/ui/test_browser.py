"""`runcard ui` in Debian's Chromium (Playwright, ``executable_path=/usr/bin/chromium``), over a store of 10,000
runs: the runs table sorted, filtered and grouped, a comparison of two ticked runs, a card's confusion cell, a
running run's new point and its crash, a hostile run name, no CSP violation anywhere; and a screenshot of each
page, whose verdict and key numbers must be on the first screen (build/screenshots/ui/)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

import runcard
from tests.ui.builder import FAULTY, HOSTILE_NAME, PILOT, BuiltStore

SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots" / "ui"


def no_violations(page: Any) -> None:
    bad = [m for m in page.console_messages if "Content Security Policy" in m or "Refused to" in m
           or m.startswith("error")]
    assert bad == [] and page.dialogs == []


def bottom(page: Any, selector: str) -> float:
    return float(page.locator(selector).first.evaluate("e => e.getBoundingClientRect().bottom"))


def test_runs_table_sort_filter_group_and_compare(page: Any, server: str, big_store: BuiltStore) -> None:
    page.goto(f"{server}/runs?project={big_store.project}")
    assert page.locator("table.runs tbody tr").count() == 50
    assert "10,000 runs" in page.locator("nav.pager").first.inner_text()
    expect(page.locator("[data-findings-run]")).to_have_count(0)  # the badges filled in (polled from Python: the
    # page's policy refuses the string evaluation Playwright's wait_for_function uses)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "runs.png"))
    assert bottom(page, "table.runs tbody tr") <= 800  # the first run's numbers on the first screen

    page.click('th[data-sort="test/macro_f1"] a')
    page.wait_for_url(re.compile(r"sort=test%2Fmacro_f1"))
    values = [float(v) for v in page.locator("table.runs td.metric[data-value]").evaluate_all(
        "cells => cells.filter(c => c.cellIndex === 6).map(c => c.dataset.value)")]
    assert len(values) == 50 and values == sorted(values, reverse=True)

    page.fill('input[name="q"]', "entropy")
    page.click('form.filters button[type="submit"]')
    page.wait_for_url(re.compile(r"q=entropy"))
    names = page.locator("table.runs td.name a").all_inner_texts()
    assert names and all("entropy" in n for n in names)

    page.fill('input[name="q"]', "")
    page.fill('input[name="group"]', "regulariser")
    page.click('form.filters button[type="submit"]')
    page.wait_for_url(re.compile(r"group=regulariser"))
    expect(page.locator("#groups table.groups tbody tr")).to_have_count(7)
    assert "±" in page.locator("#groups").inner_text()

    # Sorted by macro-F1, the first page holds runs of one template (the same predictions): tick from the
    # listing in start order instead, where neighbours have different regularisers and so different predictions.
    page.goto(f"{server}/runs?project={big_store.project}")
    button = page.locator("#compare-button")
    assert button.is_disabled()
    boxes = page.locator('table.runs input[name="runs"]')
    boxes.nth(0).check()
    boxes.nth(3).check()
    assert button.is_enabled()
    button.click()
    page.wait_for_url(re.compile(r"/compare\?runs=.+&runs=.+"))
    verdict = page.locator("#verdict .result").inner_text()
    assert "paired 95 % CI" in verdict and re.search(r"\[[+−-]\d\.\d{4}, [+−-]\d\.\d{4}\]", verdict)
    assert page.locator("#verdict svg").count() == 1  # the forest plot
    no_violations(page)


def test_findings_badges_fill_in(page: Any, server: str, big_store: BuiltStore) -> None:
    """A run's badge, not counted when the page was served, is filled by the script from /api/findings."""
    from runcard.ui.server import serve_in_thread

    fresh = serve_in_thread(big_store.url)  # nothing counted yet
    try:
        served = httpx.get(f"{fresh.url}/runs?project={FAULTY}", timeout=60).text
        assert f'data-findings-run="{big_store.faulty}"' in served  # pending: the page did not wait for the rules
        page.goto(f"{fresh.url}/runs?project={FAULTY}")
        badge = page.locator(f'tr[data-run="{big_store.faulty}"] .findings')
        expect(badge.locator(".badge.warning")).to_have_text(re.compile(r"^[1-9]\d*$"))
        warnings = int(badge.locator(".badge.warning").inner_text())
        card = httpx.get(f"{fresh.url}/api/runs/{big_store.faulty}/card", timeout=60).json()
        assert warnings == sum(f["severity"] == "warning" for f in card["findings"])
        no_violations(page)
    finally:
        fresh.stop()


def test_a_bookmarked_comparison(page: Any, server: str, big_store: BuiltStore) -> None:
    a, b = big_store.templates[0], big_store.templates[26]
    page.goto(f"{server}/compare?runs={a}&runs={b}")
    page.screenshot(path=str(SHOTS / "compare.png"))
    assert bottom(page, "#verdict .result") <= 800
    assert "better" in page.locator("#verdict .result").inner_text()
    assert page.locator("#discordant").count() == 1
    no_violations(page)


def test_card_confusion_cell_lists_its_texts(page: Any, server: str, big_store: BuiltStore) -> None:
    page.goto(f"{server}/runs?project={big_store.project}&tag=sweep={PILOT}&sort=name&order=asc")
    page.locator("table.runs td.name a").first.click()
    page.wait_for_selector("#result .result")
    page.screenshot(path=str(SHOTS / "run.png"))
    assert bottom(page, "#result .result") <= 800
    page.locator('[data-cell="0:0:1"]').click()
    rows = page.locator("#cell-rows-0 table.rows tbody tr")
    assert rows.count() > 0
    assert "a story about business" in rows.first.inner_text()
    assert page.locator("#artifacts code").count() >= 3  # predictions and checkpoint sha256
    assert page.locator("#series svg").count() >= 1
    no_violations(page)


def test_sweep_page(page: Any, server: str, big_store: BuiltStore) -> None:
    page.goto(f"{server}/summary?project={big_store.project}&sweep={PILOT}")
    page.screenshot(path=str(SHOTS / "sweep.png"))
    assert bottom(page, "#takeaways .result") <= 800
    assert page.locator("#parallel svg polyline").count() == len(big_store.templates)
    assert page.locator("#leaderboard td a").count() >= len(big_store.templates)
    no_violations(page)


def test_a_hostile_run_name_runs_nothing(page: Any, server: str, big_store: BuiltStore) -> None:
    page.goto(f"{server}/runs?project={big_store.project}&q=script")
    assert page.locator("table.runs td.name a").first.inner_text() == HOSTILE_NAME
    page.locator("table.runs td.name a").first.click()
    page.wait_for_selector("#result")
    assert page.locator(".run-head h1").inner_text() == HOSTILE_NAME
    assert HOSTILE_NAME in page.title()
    no_violations(page)


def test_a_running_run_updates_and_a_crash_shows(page: Any, server: str, big_store: BuiltStore) -> None:
    run = runcard.start_run("live", "live-run", store=big_store.url, flush_interval=0.2)
    try:
        run.log_metric("train/loss", 1.5, step=0)
        run.flush()
        page.goto(f"{server}/runs/{run.id}")
        assert page.locator(".run-head .status").inner_text() == "running"
        loads: list[str] = []
        page.on("load", lambda: loads.append("load"))
        run.log_metric("train/loss", 0.25, step=1)
        expect(page.locator("#series-body table.latest")).to_contain_text("0.2500", timeout=15_000)
        assert loads == []  # the new point came in place: the page was not reloaded
    finally:
        run.finish()
    expect(page.locator(".run-head .status")).to_have_text("finished", timeout=15_000)
    assert loads == []

    code = ("import sys, time, runcard; r = runcard.start_run('live', 'doomed', store=sys.argv[1]); "
            "r.log_metric('train/loss', 1.0, step=0); r.flush(); print(r.id, flush=True); time.sleep(120)")
    child = subprocess.Popen([sys.executable, "-c", code, big_store.url], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        doomed = child.stdout.readline().strip()
        page.goto(f"{server}/runs?project=live&sort=start")
        badge = page.locator(f'tr[data-run="{doomed}"] .status')
        assert badge.inner_text() == "running"
        os.kill(child.pid, signal.SIGKILL)
        expect(badge).to_have_text("crashed", timeout=15_000)
    finally:
        child.kill()
        child.wait()
    no_violations(page)


@pytest.mark.parametrize("path", ["/runs?project=sweep&sort=test/macro_f1", "/summary?project=sweep&sweep=pilot"])
def test_without_javascript_the_data_is_there(chromium_browser: Any, server: str, path: str) -> None:
    context = chromium_browser.new_context(java_script_enabled=False)
    try:
        tab = context.new_page()
        tab.goto(server + path)
        assert tab.locator("table").count() >= 1 and tab.locator("td").count() > 20
    finally:
        context.close()
