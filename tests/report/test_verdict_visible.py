"""The demo's documents lead with their verdict: at 1280 x 800 in Chromium, the card's Result block and the
comparison's Verdict end inside the first screen (measured by the browser, screenshots kept for a look)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.cli.test_cli import RUNCARD
from tests.report.browser import evaluate_js, require_chromium, screenshot, verdict_bottom

ROOT = Path(__file__).resolve().parents[2]


def runcard(cwd: Path, *args: str | Path) -> str:
    result = subprocess.run([RUNCARD, *map(str, args)], capture_output=True, text=True, timeout=600, cwd=cwd,
                            env={"PATH": "/usr/bin:/bin", "RUNCARD_STORE": f"sqlite:///{cwd / 'store' / 'r.db'}"})
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_demo_card_and_comparison_show_their_verdict_without_scrolling(tmp_path: Path) -> None:
    browser = require_chromium()
    mlp = json.loads(runcard(tmp_path, "run", ROOT / "examples" / "agnews_actions.toml", "--json", "-q"))
    logreg = json.loads(runcard(tmp_path, "run", ROOT / "examples" / "agnews_actions_logreg.toml", "--json", "-q"))
    comparison = tmp_path / "build" / "cards" / "compare.html"
    runcard(tmp_path, "compare", mlp["run"], logreg["run"], "--html", "--out", comparison)
    for page in (Path(mlp["card_html"]), comparison):
        bottom = verdict_bottom(browser, page)
        assert bottom is not None and 0 < bottom <= 800, (page.name, bottom)
        png = screenshot(browser, page, tmp_path / "shots" / f"{page.stem}.png")
        assert png.stat().st_size > 10_000  # a rendered page, not a blank one
    click = """(function(){var el=Array.from(document.querySelectorAll('rect[data-cell]')).find(function(r){
      return r.querySelector('title').textContent.indexOf('true ContractUpdate, predicted WholeRepoRegenerate')===0;});
      el.dispatchEvent(new MouseEvent('click',{bubbles:true}));var panel=document.getElementById('cell-rows-0');
      return {rows:panel.querySelectorAll('tbody tr').length,text:panel.textContent};})()"""
    shown = evaluate_js(browser, Path(mlp["card_html"]), click)
    assert isinstance(shown, dict) and shown["rows"] == 25, shown  # the 25 most confident of its 95 rows
    assert "true ContractUpdate, predicted WholeRepoRegenerate: 95 rows" in shown["text"]
    compare_html = comparison.read_text()
    assert 'aria-label="Paired differences B − A (95 % CI)"' in compare_html and "only A (" in compare_html
    card = Path(mlp["card_html"]).read_text()
    assert card.index('id="result"') < card.index('id="findings"') < card.index('id="results"') < card.index('id="config"')
