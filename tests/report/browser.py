"""Headless Chromium for the HTML documents: load a page, measure where its elements land, take screenshots.

The test suite uses these functions; as a script it takes the screenshots a reviewer looks at:

    .venv/bin/python -m tests.report.browser build/cards/*.html --out build/screenshots [--size 1280x800]

Each PNG is the first screen at that size, and the script prints whether the document's verdict (a card's
Result block, a comparison's Verdict, a summary's takeaways) ends inside it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

#: Where each document keeps its verdict.
VERDICT = ("#result .result", "#verdict .result", "#takeaways .result")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--hide-scrollbars")


def chromium() -> str | None:
    """Debian's chromium (or another Chromium) on the PATH."""
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def require_chromium() -> str:
    """The browser, or a skip (a failure when RUNCARD_REQUIRE_CHROMIUM=1, as in CI)."""
    import pytest

    browser = chromium()
    if browser is None:
        message = "Chromium not found (make test installs Debian's chromium package when it can)"
        if os.environ.get("RUNCARD_REQUIRE_CHROMIUM") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return browser


def _run(browser: str, args: list[str], timeout: int = 120) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True,
                              timeout=timeout)


def render(browser: str, path: Path) -> tuple[str, list[str]]:
    """The DOM after load, and every console message."""
    result = _run(browser, ["--enable-logging=stderr", "--v=0", "--dump-dom", path.as_uri()])
    return result.stdout, [line for line in result.stderr.splitlines() if ":CONSOLE" in line]


def measure(browser: str, path: Path, selectors: tuple[str, ...], width: int = 1280, height: int = 800
            ) -> dict[str, float | None]:
    """The bottom edge (CSS px from the top of the first screen) of the first element each selector matches, as
    the browser lays the page out at ``width`` x ``height``; None where nothing matches. Measured on a copy of
    the page with a measuring script added: the document itself carries none."""
    chosen = json.dumps(list(selectors))
    script = (f"<script>const out={{}};for(const s of {chosen}){{const e=document.querySelector(s);"
              "out[s]=e?e.getBoundingClientRect().bottom:null}"
              "document.body.setAttribute('data-measure',JSON.stringify(out))</script>")
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / path.name
        copy.write_text(path.read_text(encoding="utf-8").replace("</body>", script + "</body>"), encoding="utf-8")
        dom = _run(browser, [f"--window-size={width},{height}", "--dump-dom", copy.as_uri()]).stdout
    found = re.search(r'data-measure="([^"]*)"', dom)
    if found is None:
        raise AssertionError(f"the measuring script did not run on {path}")
    return dict(json.loads(found.group(1).replace("&quot;", '"')))


def evaluate_js(browser: str, path: Path, expression: str, width: int = 1280, height: int = 800) -> object:
    """The JSON value of a JavaScript ``expression`` evaluated after the page's own scripts ran (on a copy of the
    page with the expression's script appended at the end of the body)."""
    script = (f"<script>(function(){{var out;try{{out=(function(){{return {expression};}})();}}catch(e){{out={{error:String(e)}};}}"
              "document.body.setAttribute('data-result',JSON.stringify(out));})()</script>")
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / path.name
        copy.write_text(path.read_text(encoding="utf-8").replace("</body>", script + "</body>"), encoding="utf-8")
        dom = _run(browser, [f"--window-size={width},{height}", "--dump-dom", copy.as_uri()]).stdout
    found = re.search(r'data-result="([^"]*)"', dom)
    if found is None:
        raise AssertionError(f"the script did not run on {path}")
    import html

    return json.loads(html.unescape(found.group(1)))


#: For every <svg>, the texts whose box (getBBox, in the svg's own coordinates) leaves the svg's width and height.
SVG_OVERFLOWS = """Array.from(document.querySelectorAll('svg')).flatMap(function(svg){
  var w=svg.width.baseVal.value,h=svg.height.baseVal.value;
  return Array.from(svg.querySelectorAll('text')).map(function(t){
    var m=t.getCTM(),s=svg.getCTM(),b=t.getBBox(),pts=[[b.x,b.y],[b.x+b.width,b.y],[b.x,b.y+b.height],[b.x+b.width,b.y+b.height]];
    var rel=s.inverse().multiply(m);var xs=pts.map(function(p){return rel.a*p[0]+rel.c*p[1]+rel.e;});
    var ys=pts.map(function(p){return rel.b*p[0]+rel.d*p[1]+rel.f;});
    return {svg:svg.getAttribute('aria-label'),text:t.textContent,x0:Math.min.apply(null,xs),x1:Math.max.apply(null,xs),
            y0:Math.min.apply(null,ys),y1:Math.max.apply(null,ys),w:w,h:h};
  }).filter(function(r){return r.x0<-0.5||r.y0<-0.5||r.x1>r.w+0.5||r.y1>r.h+0.5;});
})"""


def screenshot(browser: str, path: Path, png: Path, width: int = 1280, height: int = 800) -> Path:
    """A PNG of the first screen of ``path`` at ``width`` x ``height``."""
    png.parent.mkdir(parents=True, exist_ok=True)
    _run(browser, [f"--window-size={width},{height}", f"--screenshot={png}", path.resolve().as_uri()])
    if not png.is_file():
        raise AssertionError(f"Chromium wrote no screenshot of {path}")
    return png


def verdict_bottom(browser: str, path: Path, width: int = 1280, height: int = 800) -> float | None:
    """Where the document's verdict ends on its first screen (None: it has none)."""
    found = [v for v in measure(browser, path, VERDICT, width, height).values() if v is not None]
    return found[0] if found else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pages", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("build/screenshots"))
    parser.add_argument("--size", default="1280x800")
    args = parser.parse_args(argv)
    browser = chromium()
    if browser is None:
        print("chromium not found: `make chromium` installs Debian's", file=sys.stderr)
        return 2
    width, height = (int(v) for v in args.size.split("x"))
    status = 0
    for page in args.pages:
        png = screenshot(browser, page, args.out / f"{page.stem}.png", width, height)
        bottom = verdict_bottom(browser, page, width, height)
        fits = bottom is not None and bottom <= height
        status |= 0 if fits else 1
        where = "no verdict found" if bottom is None else f"verdict ends at {bottom:.0f} px"
        print(f"{png}: {where} ({'visible without scrolling' if fits else 'NOT visible'} at {width}x{height})")
    return status


if __name__ == "__main__":
    sys.exit(main())
