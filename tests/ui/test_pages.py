"""The UI's pages and JSON over HTTP (as curl sees them): what each serves, that it equals the CLI's documents,
its errors, its headers and its safety rules. The browser tests are in test_browser.py."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from runcard.ui.app import CSP, create_app
from runcard.ui.server import is_loopback, resolve_token, serve_in_thread
from tests.cli.test_cli import RUNCARD
from tests.ui.builder import FAULTY, HOSTILE_NAME, PILOT, BuiltStore, bulk_id

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)


def get(server: str, path: str, **kw: Any) -> httpx.Response:
    return httpx.get(server + path, timeout=60, **kw)


def without_time(doc: Any) -> Any:
    text = json.dumps(doc, sort_keys=True)
    return json.loads(re.sub(r'"generated_at": "[^"]*"', '"generated_at": ""', text))


def test_the_first_page_of_ten_thousand_runs(server: str, big_store: BuiltStore) -> None:
    page = get(server, f"/api/runs?project={big_store.project}").json()
    assert page["total"] == big_store.runs and page["pages"] == 200 and len(page["rows"]) == 50
    assert [r["created_at"] for r in page["rows"]] == sorted((r["created_at"] for r in page["rows"]), reverse=True)
    row = page["rows"][0]
    assert page["lead"] == "test/macro_f1" and "test/macro_f1" in row["values"]
    lo, hi = row["ci95"]["test/macro_f1"]
    assert lo <= row["values"]["test/macro_f1"] <= hi
    html = get(server, f"/runs?project={big_store.project}")
    assert html.status_code == 200 and html.text.count('<tr data-run="') == 50
    assert get(server, f"/runs?project={big_store.project}&format=json").json()["rows"] == page["rows"]


def test_sort_filter_page_and_group_on_the_server(server: str, big_store: BuiltStore) -> None:
    best = get(server, "/api/runs?project=sweep&sort=test/macro_f1&per_page=20").json()
    values = [r["values"]["test/macro_f1"] for r in best["rows"]]
    assert values == sorted(values, reverse=True) and best["order"] == "desc"
    worst = get(server, "/api/runs?project=sweep&sort=test/macro_f1&order=asc&per_page=5").json()
    assert worst["rows"][0]["values"]["test/macro_f1"] <= values[-1]
    second = get(server, "/api/runs?project=sweep&sort=test/macro_f1&per_page=20&page=2").json()
    assert not {r["id"] for r in second["rows"]} & {r["id"] for r in best["rows"]}
    text = get(server, "/api/runs?project=sweep&q=entropy&status=finished").json()
    assert text["total"] > 0 and all("entropy" in r["name"] for r in text["rows"])
    config = get(server, "/api/runs?project=sweep&q=config.lr=1e-05+config.regulariser=focal").json()
    assert config["total"] > 0
    ids = [r["id"] for r in config["rows"]]
    shown = get(server, f"/api/runs/{ids[0]}").json()
    assert shown["config"]["lr"] == 1e-05 and shown["config"]["regulariser"] == "focal"
    tagged = get(server, f"/api/runs?project=sweep&tag=sweep={PILOT}").json()
    assert tagged["total"] == len(big_store.templates)
    grouped = get(server, "/api/runs?project=sweep&group=regulariser").json()
    groups = grouped["group"]["groups"]
    assert len(groups) == 7 and sum(g["n"] for g in groups) == big_store.runs
    means = [g["stats"]["test/macro_f1"]["mean"] for g in groups]
    assert means == sorted(means, reverse=True)


def test_groups_are_the_summarys_groups(server: str) -> None:
    """The runs table's mean ± std of a group is the summary's (`runcard summary --group-by`) for the same runs."""
    table = get(server, f"/api/runs?project=sweep&tag=sweep={PILOT}&group=regulariser").json()["group"]["groups"]
    summary = get(server, f"/api/summary?project=sweep&sweep={PILOT}&group=regulariser").json()
    assert not summary["set_apart"]
    theirs = {g["value"]: g["stats"] for g in summary["groups"]}
    for group in table:
        for metric, stats in group["stats"].items():
            if metric in theirs[group["value"]]:
                assert stats["mean"] == pytest.approx(theirs[group["value"]][metric]["mean"], abs=1e-12)
                assert stats["std"] == pytest.approx(theirs[group["value"]][metric]["std"], abs=1e-12)


def cli_json(*args: str) -> subprocess.Popen[str]:
    """`runcard ARGS --json` started (the CLI's real entry point); read with `finished`."""
    return subprocess.Popen([RUNCARD, *args, "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finished(process: subprocess.Popen[str]) -> Any:
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    return json.loads(out)


def test_json_documents_are_the_clis(server: str, big_store: BuiltStore) -> None:
    """/api/... serves the documents `runcard card|compare|summary|show --json` print (the CLIs run side by side)."""
    a, b = big_store.templates[0], big_store.templates[5]
    store = ("--store", big_store.url)
    started = {"card": cli_json("card", a, *store), "compare": cli_json("compare", a, b, *store),
               "summary": cli_json("summary", "--project", "sweep", "--sweep", PILOT, *store),
               "show": cli_json("show", a, *store)}
    served = {"card": get(server, f"/api/runs/{a}/card").json(),
              "compare": get(server, f"/api/compare?runs={a}&runs={b}").json(),
              "summary": get(server, f"/api/summary?project=sweep&sweep={PILOT}").json(),
              "show": get(server, f"/api/runs/{a}").json()}
    assert served["show"].pop("shown_status") == "finished"
    for name, process in started.items():
        assert without_time(served[name]) == without_time(finished(process)), name
    assert served["card"]["run"]["id"] == a and served["show"]["id"] == a and served["compare"]["verdict"]
    assert get(server, f"/compare?runs={a}&runs={b}&format=json").json()["verdict"] == served["compare"]["verdict"]


def test_findings_badges_count_the_cards_findings(server: str, big_store: BuiltStore) -> None:
    """/api/findings counts a run's findings by severity exactly as its card lists them."""
    card = get(server, f"/api/runs/{big_store.faulty}/card").json()
    expected = {s: sum(f["severity"] == s for f in card["findings"]) for s in ("error", "warning", "info")}
    assert expected["warning"] >= 1 and "majority_collapse" in {f["kind"] for f in card["findings"]}
    counted = get(server, f"/api/findings?runs={big_store.faulty},{big_store.templates[0]}").json()
    assert counted[big_store.faulty] == expected
    assert counted[big_store.templates[0]] == {"error": 0, "warning": 0, "info": 0}
    page = get(server, f"/api/runs?project={FAULTY}&findings=1").json()
    assert page["rows"][0]["findings"] == expected
    html = get(server, f"/runs?project={FAULTY}").text
    assert f'<span class="badge warning" title="warnings">{expected["warning"]}</span>' in html  # counted above: kept


def test_findings_are_counted_by_a_low_priority_worker(big_store: BuiltStore) -> None:
    """The counts come from a worker process at nice 19 and equal the same rules run here."""
    import os

    from runcard.ui.counting import count_findings, open_read_only
    from runcard.ui.source import UiStore

    ui = UiStore(big_store.url)
    try:
        ids = [big_store.faulty, big_store.templates[0], bulk_id(3)]
        counted = ui.findings_counts(ui.runs(ids))
        pid = ui.worker().pid
        assert pid is not None and pid != os.getpid() and os.getpriority(os.PRIO_PROCESS, pid) == 19
        here = open_read_only(ui.url, ui.get().artifacts.root, ui.get().journal_dir)
        assert counted == count_findings(here, ids) and counted[big_store.faulty]["warning"] >= 1
        here.close()
    finally:
        ui.close()


def test_every_page_has_the_data_and_no_inline_script(server: str, big_store: BuiltStore) -> None:
    a, b = big_store.templates[0], big_store.templates[1]
    for path in ("/runs?project=sweep", f"/runs/{a}", f"/compare?runs={a}&runs={b}", f"/summary?project=sweep&sweep={PILOT}",
                 "/runs?project=sweep&group=lr&sort=test/accuracy"):
        response = get(server, path)
        assert response.status_code == 200, path
        assert response.headers["content-security-policy"] == CSP
        assert response.headers["x-content-type-options"] == "nosniff"
        assert INLINE_SCRIPT.search(response.text) is None, path
        assert " style=" not in response.text and "<style" not in response.text and " on" not in re.sub(
            r">[^<]*<", "><", response.text).replace(" one", ""), path
    run = get(server, f"/runs/{a}").text
    assert "Result" in run and 'data-cell="0:' in run and "/static/examples.js" in run and "runcard-examples" in run
    assert "sha256" in run and "regulariser" in run
    compare = get(server, f"/compare?runs={a}&runs={b}").text
    assert "paired 95 % CI" in compare and f'href="/runs/{a}"' in compare
    sweep = get(server, f"/summary?project=sweep&sweep={PILOT}").text
    assert "Key takeaways" in sweep and 'class="parallel"' in sweep
    assert get(server, "/static/examples.js").text.startswith("(function(){")


def test_a_hostile_name_is_text_everywhere(server: str, big_store: BuiltStore) -> None:
    for path in ("/runs?project=sweep&q=script", f"/runs/{big_store.hostile}",
                 f"/compare?runs={big_store.hostile}&runs={big_store.templates[0]}"):
        text = get(server, path).text
        assert HOSTILE_NAME not in text, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text, path


def test_errors_are_pages_with_their_message(server: str, big_store: BuiltStore, tmp_path: Path) -> None:
    missing = get(server, "/runs/doesnotexist")
    assert missing.status_code == 404 and "no run with id" in missing.text and "Traceback" not in missing.text
    assert get(server, "/api/runs/doesnotexist").json()["status"] == 404
    one = get(server, f"/compare?runs={big_store.templates[0]}")
    assert one.status_code == 400 and "two runs or more" in one.text
    assert get(server, "/runs?project=sweep&sort=no/such_metric").status_code == 400
    assert get(server, "/runs?project=sweep&page=0").status_code == 400
    assert get(server, "/api/runs?project=sweep&status=sleeping").status_code == 400
    assert get(server, f"/summary?project=sweep&sweep={big_store.sweep}").status_code == 400  # 10,000 runs: says why
    assert get(server, "/static/nothing.js").status_code == 404
    gone = TestClient(create_app(f"sqlite:///{tmp_path / 'nowhere' / 'runcard.db'}"), base_url="http://127.0.0.1")
    page = gone.get("/runs")
    assert page.status_code == 404 and "no store at" in page.text and "Traceback" not in page.text
    assert not (tmp_path / "nowhere").exists()  # the UI never creates a store


def test_read_only(server: str, big_store: BuiltStore) -> None:
    db = Path(big_store.url.removeprefix("sqlite:///"))
    counts = get(server, "/api/projects").json()
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        response = httpx.request(method, server + f"/runs/{big_store.templates[0]}", timeout=30)
        assert response.status_code == 405 and "read-only" in response.text
    before = db.stat().st_mtime_ns
    get(server, f"/runs/{big_store.templates[3]}")  # a card computes calibration: kept nowhere
    assert db.stat().st_mtime_ns == before and get(server, "/api/projects").json() == counts


def test_a_token_guards_every_request(big_store: BuiltStore) -> None:
    from runcard.ui.app import ROUTES

    token = "t" * 20
    client = TestClient(create_app(big_store.url, token=token), base_url="http://192.0.2.1:8765")
    a, b = big_store.templates[0], big_store.templates[1]
    paths = [path.replace("{run_id}", a).replace("{name}", "app.js") for path, _ in ROUTES]
    for path in paths:
        for method in ("GET", "HEAD"):
            refused = client.request(method, path + f"?runs={a}&runs={b}")
            assert refused.status_code == 401, (method, path)
            assert client.request(method, path + "?token=" + "u" * 20).status_code == 401, (method, path)
    assert "needs its token" in client.get("/runs").text
    assert client.get("/runs?project=sweep", headers={"Authorization": "Bearer " + token}).status_code == 200
    first = client.get("/runs?project=sweep&token=" + token)
    assert first.status_code == 200 and "runcard_token" in first.headers["set-cookie"]
    assert "httponly" in first.headers["set-cookie"].lower()
    assert client.get(f"/api/runs/{a}").status_code == 200  # the cookie carries it now
    client.cookies.clear()
    assert client.get(f"/api/runs/{a}").status_code == 401
    # Without a token (loopback only), a Host that is not the loopback is refused: no DNS rebinding.
    assert TestClient(create_app(big_store.url), base_url="http://evil.example").get("/").status_code == 403


def test_binds_beyond_loopback_need_a_token(big_store: BuiltStore) -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost") and not is_loopback("0.0.0.0")
    assert resolve_token("127.0.0.1", None) == (None, False)
    with pytest.raises(ValueError, match="needs a token"):
        serve_in_thread(big_store.url, host="0.0.0.0", token=None)
    token, generated = resolve_token("0.0.0.0", None)
    assert generated and token is not None and len(token) >= 16
    with pytest.raises(ValueError, match="too short"):
        resolve_token("0.0.0.0", "short")
    running = serve_in_thread(big_store.url, host="0.0.0.0", token=token)
    try:
        assert httpx.get(running.url + "/runs?project=sweep", timeout=30).status_code == 401
        assert httpx.get(running.url + f"/runs?project=sweep&token={token}", timeout=30).status_code == 200
    finally:
        running.stop()
    refused = subprocess.run([RUNCARD, "ui", "--host", "0.0.0.0", "--token", "short", "--store", big_store.url],
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "too short" in refused.stderr


def test_the_cli_lists_the_ui_command() -> None:
    listed = subprocess.run([RUNCARD, "--help"], capture_output=True, text=True, check=True, timeout=60).stdout
    assert " ui " in listed
    shown = subprocess.run([RUNCARD, "ui", "--help"], capture_output=True, text=True, check=True, timeout=60).stdout
    assert "--token" in shown and "--open" in shown and "127.0.0.1" in shown
