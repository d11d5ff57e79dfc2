"""`runcard ui`: a local, read-only web app over the store (runs table, run pages, comparisons, sweeps)."""

from __future__ import annotations

from typing import Annotated

import typer

from runcard.cli.options import StoreUrl

EPILOG = (
    "Examples:\n\n"
    "  runcard ui                                    (http://127.0.0.1:8765, the default store)\n\n"
    "  runcard ui --store sqlite:///runs/runcard.db --port 9000 --open\n\n"
    "  runcard ui --host 0.0.0.0 --token \"$(openssl rand -hex 16)\"   (beyond this machine: a token is required)\n\n"
    "Read-only: no page changes the store. Any --host other than loopback needs a token (one is generated and\n"
    "printed when --token is not given); every request must carry it. Pages: docs/ui.md."
)


def ui_command(
    store: StoreUrl = None,
    host: Annotated[str, typer.Option("--host", help="Address to bind; anything but loopback (127.0.0.1, ::1, "
                                      "localhost) requires a token.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8765,
    token: Annotated[str | None, typer.Option("--token", help="Token every request must carry (?token=, a cookie, "
                                              "or Authorization: Bearer); generated and printed for a non-loopback "
                                              "--host when not given.", show_default=False)] = None,
    open_browser: Annotated[bool, typer.Option("--open", help="Open the UI in the default browser.")] = False,
) -> None:
    """Browse the store's runs in a local web app: runs table, run cards, comparisons, sweeps, live status."""
    import importlib.util
    import sys
    import webbrowser

    from runcard.errors import InputError

    missing = [m for m in ("starlette", "uvicorn") if importlib.util.find_spec(m) is None]
    if missing:
        raise InputError(f"runcard ui needs {' and '.join(missing)}: pip install 'runcard[ui]' "
                         "(or, in a checkout, pip install -e '.[ui]').")

    from runcard.store import store_url
    from runcard.ui.server import is_loopback, resolve_token, serve
    from runcard.urls import safe_url

    use, generated = resolve_token(host, token)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else shown}:{port}/" + (f"?token={use}" if use else "")
    where = "" if is_loopback(host) else f" (bound to {host}: reachable beyond this machine, token required)"
    sys.stderr.write(f"runcard ui: {safe_url(store_url(store))} at {url}{where}; Ctrl-C stops it\n")
    if generated:
        sys.stderr.write(f"runcard ui: generated token {use} (pass --token to choose one)\n")
    sys.stderr.flush()
    if open_browser:
        webbrowser.open(url)
    serve(store, host=host, port=port, token=use)
