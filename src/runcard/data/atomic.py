"""Write files so that a crash never leaves a half-written one behind."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from runcard.errors import InputError


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it onto ``path``, else delete it.

    The parent directory is created if missing. The rename is atomic on POSIX file systems. A file replaced
    keeps its permission bits (a 0600 file stays 0600); a new one gets the usual mode (0666 less the umask). A
    folder, or a path that cannot be written, is an `InputError` naming it.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path} is a folder; give a file path inside it, e.g. {path / 'out.md'}.")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{path}: cannot create its directory ({exc.strerror}).") from None
    mode = path.stat().st_mode & 0o7777 if path.exists() else None
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        yield tmp
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        raise InputError(f"{path}: cannot write it ({exc.strerror}); check the folder's permissions and free space.") \
            from None
    finally:
        if tmp.exists():
            tmp.unlink()
