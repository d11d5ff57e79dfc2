"""Serving the UI with uvicorn: where it may bind, and the token a bind beyond the loopback needs."""

from __future__ import annotations

import ipaddress
import secrets
import threading
from dataclasses import dataclass

from runcard.errors import InputError, RunCardError


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the UI on this machine (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def resolve_token(host: str, token: str | None) -> tuple[str | None, bool]:
    """(the token every request must carry, whether it was generated here). Loopback needs none unless one is
    given; any other bind gets the one given, else a new random one (printed by `runcard ui`)."""
    if token is not None and len(token) < 16:
        raise InputError(f"--token: {len(token)} characters is too short to guard a server; give 16 or more "
                         "(or leave it out and one is generated).")
    if token is not None or is_loopback(host):
        return token, False
    return secrets.token_urlsafe(24), True


def require_token(host: str, token: str | None) -> None:
    """Refuse to serve beyond the loopback without a token (`serve` and `serve_in_thread` both ask)."""
    if token is None and not is_loopback(host):
        raise InputError(f"--host {host}: binding beyond this machine's loopback needs a token; pass --token "
                         "(16 characters or more) or leave --token out of `runcard ui` and one is generated.")


@dataclass
class Running:
    """A UI served from a thread (tests, benchmarks): its address and how to stop it."""

    url: str
    server: object
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True  # type: ignore[attr-defined]
        self.thread.join(timeout=10)


def serve(store: str | None, *, host: str, port: int, token: str | None) -> None:
    """Serve the UI until interrupted (a host beyond the loopback without a token is refused)."""
    require_token(host, token)
    import uvicorn

    from runcard.ui.app import create_app

    uvicorn.run(create_app(store, token=token), host=host, port=port, log_level="warning", access_log=False,
                server_header=False)


def serve_in_thread(store: str | None, *, host: str = "127.0.0.1", port: int = 0, token: str | None = None) -> Running:
    """Serve the UI from a background thread on ``port`` (0: a free one); returns once it accepts connections.
    A host beyond the loopback without a token is refused."""
    import socket

    require_token(host, token)

    import uvicorn

    from runcard.ui.app import create_app

    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound = sock.getsockname()[1]
    config = uvicorn.Config(create_app(store, token=token), log_level="warning", access_log=False,
                            server_header=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="runcard-ui")
    thread.start()
    waited = threading.Event()
    for _ in range(1000):
        if server.started or not thread.is_alive():
            break
        waited.wait(0.01)
    if not server.started:
        server.should_exit = True
        raise RunCardError(f"the UI did not start on {host}:{bound} within 10 s (its log above says why).")
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    return Running(f"http://{shown}:{bound}", server, thread)
