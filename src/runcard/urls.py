"""Store URLs as documents and messages show them: with any password hidden.

Plain string work (no SQLAlchemy), so a report or a message can name a store without loading the
database layer; it writes what SQLAlchemy's ``render_as_string(hide_password=True)`` writes.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def safe_url(url: str) -> str:
    """``url`` with its password (if any) replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    netloc = parts.netloc
    if "@" not in netloc:
        return url
    credentials, host = netloc.rsplit("@", 1)
    if ":" not in credentials:
        return url
    user = credentials.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
