"""Fixtures of the UI tests: a store of 10,000 runs (built once per session, in seconds: `tests.ui.builder`), the UI
served over it on a free loopback port, and headless Chromium driven by Playwright."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.report.browser import chromium
from tests.ui.builder import BuiltStore, build_store

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

RUNS = 10_000
#: Chromium's flags for a quiet headless run (Playwright adds --headless itself).
FLAGS = ("--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run")


@pytest.fixture(scope="session")
def big_store(tmp_path_factory: pytest.TempPathFactory) -> BuiltStore:
    return build_store(tmp_path_factory.mktemp("ui-store"), RUNS)


@pytest.fixture(scope="session")
def server(big_store: BuiltStore) -> Iterator[str]:
    from runcard.ui.server import serve_in_thread

    running = serve_in_thread(big_store.url)
    yield running.url
    running.stop()


def _browser_or_skip() -> str:
    browser = chromium()
    required = os.environ.get("RUNCARD_REQUIRE_CHROMIUM") == "1"
    if browser is None:
        message = "Chromium not found (make test installs Debian's chromium package when it can)"
        if required:
            pytest.fail(message)
        pytest.skip(message)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        message = "playwright (pip package, in the test extra) is not installed: pip install -e '.[test]'"
        if required:
            pytest.fail(message)
        pytest.skip(message)
    return str(Path(browser).resolve())


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[Any]:
    """Debian's Chromium under Playwright (``executable_path``: no browser of Playwright's own is used)."""
    executable = _browser_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=executable, headless=True, args=list(FLAGS))
        yield browser
        browser.close()


@pytest.fixture
def page(chromium_browser: Any) -> Iterator[Any]:
    """A fresh page at 1280 x 800 that records console messages and refuses any dialog (a script that ran)."""
    context = chromium_browser.new_context(viewport={"width": 1280, "height": 800})
    tab = context.new_page()
    tab.console_messages = []  # type: ignore[attr-defined]
    tab.dialogs = []  # type: ignore[attr-defined]
    tab.on("console", lambda m: tab.console_messages.append(f"{m.type}: {m.text}"))  # type: ignore[attr-defined]

    def dialog(d: Any) -> None:
        tab.dialogs.append(d.message)  # type: ignore[attr-defined]
        d.dismiss()

    tab.on("dialog", dialog)
    tab.set_default_timeout(20_000)
    yield tab
    context.close()
