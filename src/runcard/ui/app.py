"""The Starlette application of `runcard ui`: pages, their JSON, static files; read-only.

Every response carries a Content-Security-Policy that allows the app's own scripts and styles only (no inline
script, no other origin), and ``nosniff``/no-referrer/no-framing headers. Only GET and HEAD are served. With a
token (required for any bind other than loopback), every request must carry it: ``Authorization: Bearer T``, the
cookie a first ``?token=T`` sets, or ``?token=T`` itself. Without one (loopback only), the Host header must name
the loopback too, so a page elsewhere cannot reach the UI through a rebound DNS name.
"""

from __future__ import annotations

import contextlib
import hmac
import inspect
import logging
import os
import threading
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from importlib import resources
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from runcard.errors import InputError, RunCardError
from runcard.jsonsafe import dumps
from runcard.report.html import CSS
from runcard.ui import documents, pages
from runcard.ui.listing import parse_query, runs_page
from runcard.ui.source import NotFound, UiStore

log = logging.getLogger(__name__)

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
           "X-Frame-Options": "DENY", "Cache-Control": "no-store"}
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]", "::1")
COOKIE = "runcard_token"


def _static(name: str) -> str:
    return resources.files("runcard.ui").joinpath("static").joinpath(name).read_text(encoding="utf-8")


STATIC = {"app.js": ("text/javascript", lambda: _static("app.js")), "app.css": ("text/css", lambda: _static("app.css")),
          "report.css": ("text/css", lambda: CSS), "examples.js": ("text/javascript", lambda: documents.EXAMPLES_SCRIPT),
          "favicon.svg": ("image/svg+xml", lambda: FAVICON)}
FAVICON = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" '
           'fill="#1a4f8b"/><path d="M4 11V5h4a2 2 0 0 1 0 4H4m4 0 3 2" stroke="#fff" stroke-width="1.6" '
           'fill="none"/></svg>')

Handler = Callable[[Request, UiStore], Response]
AsyncHandler = Callable[[Request, UiStore], Awaitable[Response]]


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.query_params.get("format") == "json"


def json_response(payload: Any, status: int = 200) -> Response:
    """JSON as every ``--json`` writes it (NaN and infinities as strings)."""
    return Response(dumps(payload, indent=1) + "\n", status_code=status, media_type="application/json")


def error_response(request: Request, status: int, message: str, store: str) -> Response:
    if _wants_json(request):
        return json_response({"error": message, "status": status}, status)
    return HTMLResponse(pages.error_page(status, message, store), status_code=status)


def failure(request: Request, exc: Exception, ui: UiStore) -> Response:
    """An error as a page with its message: 404 for what a URL names and is not there, 400 for a query it
    cannot answer, 500 (never a traceback; the log has one with RUNCARD_DEBUG=1) for the rest."""
    if isinstance(exc, NotFound):
        return error_response(request, 404, str(exc), ui.where)
    if isinstance(exc, InputError):
        return error_response(request, 400, str(exc), ui.where)
    if isinstance(exc, RunCardError):
        return error_response(request, 500, str(exc), ui.where)
    if os.environ.get("RUNCARD_DEBUG") == "1":
        log.error("%s", "".join(traceback.format_exception(exc)))
    return error_response(request, 500, f"internal error: {type(exc).__name__}: {exc}", ui.where)


def endpoint(handler: Handler, ui: UiStore) -> Callable[[Request], Response]:
    """A sync endpoint (run in Starlette's thread pool) whose errors are pages (`failure`)."""
    def run(request: Request) -> Response:
        try:
            return handler(request, ui)
        except Exception as exc:  # noqa: BLE001 -- every error becomes a page
            return failure(request, exc, ui)

    return run


def async_endpoint(handler: AsyncHandler, ui: UiStore) -> Callable[[Request], Awaitable[Response]]:
    """An async endpoint (its blocking work handed to the thread pool by the handler) whose errors are pages."""
    async def run(request: Request) -> Response:
        try:
            return await handler(request, ui)
        except Exception as exc:  # noqa: BLE001 -- every error becomes a page
            return failure(request, exc, ui)

    return run


def _multi(request: Request) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        out.setdefault(key, []).append(value)
    return out


def _params(request: Request) -> dict[str, Any]:
    """The query's parameters as links keep them (repeated ones as lists), the token and format left out."""
    return {k: v[0] if len(v) == 1 else v for k, v in _multi(request).items() if k not in ("token", "format")}


# -- handlers -----------------------------------------------------------------------------------------

def home(request: Request, ui: UiStore) -> Response:
    projects = ui.projects()
    if _wants_json(request):
        return json_response({"projects": [{"project": p, "runs": n} for p, n in projects]})
    if projects:
        return RedirectResponse("/runs?" + urlencode({"project": projects[0][0]}), status_code=303)
    return HTMLResponse(pages.projects_page(projects, ui.where))


def runs(request: Request, ui: UiStore) -> Response:
    query = parse_query(request.query_params, _multi(request))
    doc = runs_page(ui, query)
    if _wants_json(request):
        return json_response(doc)
    return HTMLResponse(pages.runs_page(doc, _params(request), ui.projects(), ui.sweeps(query.project), ui.where))


def run_page(request: Request, ui: UiStore) -> Response:
    run = ui.run(request.path_params["run_id"])
    if _wants_json(request):
        return json_response({**run.to_dict(), "shown_status": ui.status(run)})
    doc = documents.card(ui, run)
    body, examples = documents.card_body(doc)
    series = ui.get().all_series(run.id)
    return HTMLResponse(pages.run_page(run, ui.status(run), body, series, ui.where, examples))


def run_card(request: Request, ui: UiStore) -> Response:
    return json_response(documents.card(ui, ui.run(request.path_params["run_id"])))


def run_series(request: Request, ui: UiStore) -> Response:
    run = ui.run(request.path_params["run_id"])
    return HTMLResponse(pages.series_fragment(ui.get().all_series(run.id), run))


def run_live(request: Request, ui: UiStore) -> Response:
    """What a running run's page refreshes: its status as shown, latest values and how many points it has."""
    run = ui.run(request.path_params["run_id"])
    store = ui.get()
    return json_response({"id": run.id, "status": ui.status(run), "ended_at": run.ended_at,
                          "created_at": run.created_at, "summary": run.summary, "points": store.count_points(run.id)})


def statuses(request: Request, ui: UiStore) -> Response:
    ids = [i for v in request.query_params.getlist("runs") for i in v.split(",") if i]
    return json_response({run.id: ui.status(run) for run in ui.runs(ids[:500])})


async def findings(request: Request, ui: UiStore) -> Response:
    """Run id -> its findings counted by severity, one run at a time: a page closed or left before its badges
    are filled stops the counting (each run's rules cost up to about 0.1 s of the server's time)."""
    ids = [i for v in request.query_params.getlist("runs") for i in v.split(",") if i]
    runs = await run_in_threadpool(ui.runs, ids[:100])
    counted: dict[str, dict[str, int] | None] = {}
    for run in runs:
        if await request.is_disconnected():
            break
        counted.update(await run_in_threadpool(ui.findings_counts, [run]))
    return json_response(counted)


def compare(request: Request, ui: UiStore) -> Response:
    chosen = documents.comparison_runs(ui, request.query_params.getlist("runs"))
    doc = documents.comparison(ui, chosen)
    if _wants_json(request):
        return json_response(doc)
    query = urlencode([("runs", r.id) for r in chosen])
    return HTMLResponse(pages.compare_page(doc, documents.comparison_body(doc), ui.where, query))


def summary(request: Request, ui: UiStore) -> Response:
    q = request.query_params
    doc, chosen = documents.summary(ui, project=q.get("project") or None, sweep=q.get("sweep") or None,
                                    sort=q.get("sort") or None, group_by=q.get("group") or None)
    if _wants_json(request):
        return json_response(doc)
    query = urlencode([(k, v) for k, v in q.multi_items() if k not in ("token", "format")])
    return HTMLResponse(pages.summary_page(doc, documents.summary_body(doc, chosen), ui.where, query))


def static(request: Request, ui: UiStore) -> Response:
    name = request.path_params["name"]
    if name not in STATIC:
        raise NotFound(f"no static file {name!r}")
    media, read = STATIC[name]
    return PlainTextResponse(read(), media_type=media, headers={"Cache-Control": "max-age=300"})


ROUTES: list[tuple[str, Handler | AsyncHandler]] = [
    ("/", home), ("/runs", runs), ("/runs/{run_id}", run_page), ("/runs/{run_id}/series", run_series),
    ("/compare", compare), ("/summary", summary), ("/static/{name}", static),
    ("/api/projects", home), ("/api/runs", runs), ("/api/runs/{run_id}", run_page), ("/api/runs/{run_id}/card", run_card),
    ("/api/runs/{run_id}/live", run_live), ("/api/status", statuses), ("/api/findings", findings),
    ("/api/compare", compare), ("/api/summary", summary),
]


# -- safety -------------------------------------------------------------------------------------------

class Guard(BaseHTTPMiddleware):
    """Read-only methods, the token (when there is one) or a loopback Host (when there is none), and the
    security headers on every response."""

    def __init__(self, app: Any, *, ui: UiStore, token: str | None) -> None:
        super().__init__(app)
        self.ui = ui
        self.token = token

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await self._checked(request, call_next)
        for key, value in HEADERS.items():
            response.headers.setdefault(key, value)
        return response

    async def _checked(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if request.method not in ("GET", "HEAD"):
            return error_response(request, 405, f"{request.method} is not served: the UI is read-only (GET only); "
                                  "change runs with the runcard commands.", self.ui.where)
        if self.token is None:
            host = _host_name(request.headers.get("host") or "")
            if host not in LOOPBACK_NAMES:
                return error_response(request, 403, f"Host {host!r} is not this machine's loopback; open the UI at "
                                      "http://127.0.0.1 (or start it with --host and a --token).", self.ui.where)
            return await call_next(request)
        given = _bearer(request) or request.cookies.get(COOKIE) or request.query_params.get("token") or ""
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            return error_response(request, 401, "this UI needs its token: open the address `runcard ui` printed "
                                  "(it ends in ?token=...), or send Authorization: Bearer TOKEN.", self.ui.where)
        response = await call_next(request)
        if request.query_params.get("token") and request.cookies.get(COOKIE) != self.token:
            response.set_cookie(COOKIE, self.token, httponly=True, samesite="strict", path="/")
        return response


def _host_name(header: str) -> str:
    """The name in a Host header, without its port (``[::1]:8765`` -> ``[::1]``)."""
    if header.startswith("["):
        return header.split("]", 1)[0] + "]"
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def _bearer(request: Request) -> str | None:
    value = request.headers.get("authorization") or ""
    return value[7:].strip() if value.lower().startswith("bearer ") else None


def _warm(ui: UiStore) -> None:
    """Import what the first comparison needs (scipy.stats: about 0.6 s) and start the findings worker while the
    server waits for its first page."""
    with contextlib.suppress(ImportError):
        import scipy.stats  # noqa: F401
    with contextlib.suppress(RunCardError):  # no store yet: its pages say so
        ui.worker().warm()


def _wrapped(handler: Handler | AsyncHandler, ui: UiStore) -> Callable[[Request], Any]:
    if inspect.iscoroutinefunction(handler):
        return async_endpoint(handler, ui)
    return endpoint(handler, ui)  # type: ignore[arg-type]  # not a coroutine function: a Handler


def create_app(store: str | None = None, *, token: str | None = None) -> Starlette:
    """The UI over the store at ``store`` (default: ``RUNCARD_STORE``, else the default store). ``token``: every
    request must carry it (`runcard ui` requires one for any bind but loopback)."""
    ui = UiStore(store)
    routes = [Route(path, _wrapped(handler, ui), methods=["GET", "HEAD"]) for path, handler in ROUTES]
    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        threading.Thread(target=_warm, args=(ui,), daemon=True, name="runcard-ui-warm").start()
        yield
        ui.close()

    app = Starlette(routes=routes, middleware=[Middleware(Guard, ui=ui, token=token)], lifespan=lifespan)
    app.state.ui = ui
    return app
