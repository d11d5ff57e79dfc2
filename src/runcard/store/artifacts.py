"""Content-addressed artifact files: stored once per sha256, written atomically, re-hashed on load.

Layout under the artifact root: ``<sha[:2]>/<sha>/<original name>``. A file's address is the
sha256 of its bytes; a directory's is the sha256 of its manifest (one line per file:
``<sha256> <size> <relative path>``, sorted by path). Writes go to ``tmp/`` under the root, are
fsynced, then renamed into place, so a crash never leaves a partial artifact at its address.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from runcard.errors import InputError, RunCardError

CHUNK = 1 << 20


class ArtifactError(RunCardError):
    """A stored artifact is missing or does not match its recorded hash."""


@dataclass(frozen=True)
class Stored:
    """Where an artifact landed: its address, size in bytes, and path relative to the root."""

    sha256: str
    size: int
    path: str
    manifest: tuple[tuple[str, str, int], ...] | None = None  # directories: (relpath, sha256, size)


def sha256_file(path: Path) -> tuple[str, int]:
    """sha256 hex digest and size of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def manifest_digest(manifest: tuple[tuple[str, str, int], ...]) -> str:
    """The address of a directory: sha256 of its sorted manifest lines."""
    text = "".join(f"{sha} {size} {rel}\n" for rel, sha, size in sorted(manifest))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return  # not every platform can open a directory; the rename itself is still atomic
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class ArtifactStore:
    """Artifact files under one root directory (a local or shared file system)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _tmp(self) -> Path:
        tmp = self.root / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        return tmp / uuid.uuid4().hex

    def put_file(self, src: str | Path, name: str | None = None) -> Stored:
        """Copy a file in (hashing while copying) and return its address."""
        src = Path(src)
        if not src.is_file():
            raise InputError(f"{src}: no such file to store.")
        name = name or src.name
        _check_name(name)
        tmp = self._tmp()
        digest = hashlib.sha256()
        size = 0
        try:
            with open(src, "rb") as reader, open(tmp, "wb") as writer:
                while chunk := reader.read(CHUNK):
                    digest.update(chunk)
                    writer.write(chunk)
                    size += len(chunk)
                writer.flush()
                os.fsync(writer.fileno())
            sha = digest.hexdigest()
            return Stored(sha, size, self._place(tmp, sha, name))
        finally:
            if tmp.exists():
                tmp.unlink()

    def put_bytes(self, data: bytes, name: str) -> Stored:
        """Store bytes (e.g. a Parquet file built in memory) under ``name``."""
        _check_name(name)
        tmp = self._tmp()
        try:
            with open(tmp, "wb") as writer:
                writer.write(data)
                writer.flush()
                os.fsync(writer.fileno())
            sha = hashlib.sha256(data).hexdigest()
            return Stored(sha, len(data), self._place(tmp, sha, name))
        finally:
            if tmp.exists():
                tmp.unlink()

    def put_dir(self, src: str | Path, name: str | None = None) -> Stored:
        """Copy a directory in; its address is the digest of its manifest."""
        src = Path(src)
        name = name or src.name
        _check_name(name)
        tmp = self._tmp()
        entries = []
        try:
            for path in sorted(p for p in src.rglob("*") if p.is_file()):
                rel = path.relative_to(src).as_posix()
                target = tmp / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
                with open(target, "rb+") as handle:
                    os.fsync(handle.fileno())
                sha, size = sha256_file(target)
                entries.append((rel, sha, size))
            manifest = tuple(entries)
            sha = manifest_digest(manifest)
            placed = self._place(tmp, sha, name)
            return Stored(sha, sum(size for _, _, size in manifest), placed, manifest)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)

    def _place(self, tmp: Path, sha: str, name: str) -> str:
        rel = f"{sha[:2]}/{sha}/{name}"
        final = self.root / rel
        if final.exists():
            return rel  # same content under the same name is already stored
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(tmp, final)
        except OSError:
            if not final.exists():  # another process placed it first: fine; anything else: raise
                raise
        _fsync_dir(final.parent)
        return rel

    def path(self, rel: str) -> Path:
        """Absolute path of a stored artifact."""
        return self.root / rel

    def verify(self, rel: str, sha256: str, *, manifest: list[list[object]] | None = None, owner: str = "") -> Path:
        """Re-hash a stored artifact and return its path; raise `ArtifactError` if missing or changed."""
        path = self.root / rel
        where = f"{owner}: " if owner else ""
        if not path.exists():
            raise ArtifactError(f"{where}artifact file {path} is missing (expected sha256 {sha256}); "
                                "the artifact folder was moved or pruned: point RUNCARD_ARTIFACTS at it, or "
                                "re-log the artifact.")
        if path.is_dir():
            if manifest is None:
                raise ArtifactError(f"{where}{path} is a directory but no manifest was recorded.")
            found = []
            for rel_file, _, _ in manifest:
                file_sha, size = sha256_file(path / str(rel_file)) if (path / str(rel_file)).is_file() else ("", 0)
                found.append((str(rel_file), file_sha, size))
            actual = manifest_digest(tuple(found))
        else:
            actual, _ = sha256_file(path)
        if actual != sha256:
            raise ArtifactError(f"{where}artifact file {path} has sha256 {actual}, expected {sha256}: it was "
                                "modified or corrupted after it was stored; refusing to use it.")
        return path

    def remove(self, rel: str) -> None:
        """Delete a stored artifact (file or directory) and its hash folder if empty."""
        path = self.root / rel
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
        with contextlib.suppress(OSError):  # other names still share this content
            path.parent.rmdir()


def _check_name(name: str) -> None:
    if not name or "/" in name or "\\" in name or name in (".", ".."):
        raise InputError(f"artifact name {name!r}: give a plain file name (no slashes).")
