"""Content-addressed artifact files: stored once per sha256, written atomically, re-hashed on load.

Layout under the artifact root: ``<sha[:2]>/<sha>/<original name>``. A file's address is the
sha256 of its bytes; a directory's is the sha256 of its manifest (one line per file:
``<sha256> <size> <relative path>``, sorted by path). Writes go to ``tmp/`` under the root, are
fsynced, then renamed into place, so a crash never leaves a partial artifact at its address.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import time
import uuid
from collections.abc import Iterator
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


#: Temporary copies older than this (seconds) whose writer no longer holds their lock are orphans.
ORPHAN_AGE = 60.0


@contextlib.contextmanager
def _locked_tmp(tmp_dir: Path, *, directory: bool = False) -> Iterator[Path]:
    """A new temporary path under ``tmp_dir`` whose lock file this process holds (flock) while it writes, so
    `ArtifactStore.clean_tmp` can tell a live copy from one a killed process left; removed on the way out."""
    tmp_dir.mkdir(parents=True, exist_ok=True)
    path = tmp_dir / uuid.uuid4().hex
    lock = os.open(f"{path}.lock", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if directory:
            path.mkdir()
        yield path
    finally:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        elif path.exists():
            path.unlink()
        with contextlib.suppress(OSError):
            os.unlink(f"{path}.lock")
        os.close(lock)


def _refuse_links(src: Path) -> list[Path]:
    """The regular files under ``src``, sorted; a symbolic link anywhere in the tree is an error naming it (a link
    can point outside the tree: runcard never follows one)."""
    files = []
    for folder, dirs, names in os.walk(src, followlinks=False):
        for entry in [*dirs, *names]:
            path = Path(folder) / entry
            if path.is_symlink():
                raise InputError(f"{path} is a symbolic link (to {os.readlink(path)}); runcard does not follow links "
                                 "out of what it stores: copy the file itself into the folder, or log its target.")
        files += [Path(folder) / n for n in names]
    return sorted(files)


class ArtifactStore:
    """Artifact files under one root directory (a local or shared file system). Every stored path is resolved
    and must stay inside the root before it is read, verified or deleted."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def clean_tmp(self) -> int:
        """Remove temporary copies left by a killed writer (older than `ORPHAN_AGE` and unlocked); their count."""
        tmp_dir = self.root / "tmp"
        if not tmp_dir.is_dir():
            return 0
        removed = 0
        now = time.time()
        for lock_path in tmp_dir.glob("*.lock"):
            try:
                if now - lock_path.stat().st_mtime < ORPHAN_AGE:
                    continue
                fd = os.open(lock_path, os.O_WRONLY)
            except OSError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue  # a live writer holds it
            target = lock_path.with_suffix("")
            if target.is_dir():
                shutil.rmtree(target, ignore_errors=True)
            elif target.exists():
                target.unlink()
            lock_path.unlink()
            os.close(fd)
            removed += 1
        for stray in tmp_dir.iterdir():  # copies of versions before the locks: old enough is orphaned
            if stray.name.endswith(".lock") or Path(f"{stray}.lock").exists() or now - stray.stat().st_mtime < 86400:
                continue
            if stray.is_dir():
                shutil.rmtree(stray, ignore_errors=True)
            else:
                stray.unlink()
            removed += 1
        return removed

    def put_file(self, src: str | Path, name: str | None = None) -> Stored:
        """Copy a file in (hashing while copying) and return its address. A symbolic link is refused."""
        src = Path(src)
        if src.is_symlink():
            raise InputError(f"{src} is a symbolic link (to {os.readlink(src)}); runcard does not follow links: "
                             "log the file it points to.")
        if not src.is_file():
            raise InputError(f"{src}: no such file to store.")
        name = name or src.name
        _check_name(name)
        digest = hashlib.sha256()
        size = 0
        with _locked_tmp(self.root / "tmp") as tmp:
            with open(src, "rb") as reader, open(tmp, "wb") as writer:
                while chunk := reader.read(CHUNK):
                    digest.update(chunk)
                    writer.write(chunk)
                    size += len(chunk)
                writer.flush()
                os.fsync(writer.fileno())
            sha = digest.hexdigest()
            return Stored(sha, size, self._place(tmp, sha, name))

    def put_bytes(self, data: bytes, name: str) -> Stored:
        """Store bytes (e.g. a Parquet file built in memory) under ``name``."""
        _check_name(name)
        with _locked_tmp(self.root / "tmp") as tmp:
            with open(tmp, "wb") as writer:
                writer.write(data)
                writer.flush()
                os.fsync(writer.fileno())
            sha = hashlib.sha256(data).hexdigest()
            return Stored(sha, len(data), self._place(tmp, sha, name))

    def put_dir(self, src: str | Path, name: str | None = None) -> Stored:
        """Copy a directory in; its address is the digest of its manifest. A symbolic link in it is refused."""
        src = Path(src)
        if src.is_symlink():
            raise InputError(f"{src} is a symbolic link (to {os.readlink(src)}); runcard does not follow links: "
                             "log the folder it points to.")
        name = name or src.name
        _check_name(name)
        files = _refuse_links(src)
        entries = []
        with _locked_tmp(self.root / "tmp", directory=True) as tmp:
            for path in files:
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
        """Absolute path of a stored artifact; `ArtifactError` when the stored path leads outside the root (a
        ``..``, an absolute path, or a link), so nothing outside the store is read or deleted through it."""
        candidate = self.root / rel
        root = self.root.resolve()
        if Path(rel).is_absolute() or ".." in Path(rel).parts or not candidate.resolve().is_relative_to(root):
            raise ArtifactError(f"stored artifact path {rel!r} leads outside the artifact root {root}; refusing to "
                                "read, verify or delete it (the store's records were changed by hand or by another "
                                "tool).")
        return candidate

    def verify(self, rel: str, sha256: str, *, manifest: list[list[object]] | None = None, owner: str = "") -> Path:
        """Re-hash a stored artifact and return its path; raise `ArtifactError` if missing or changed (for a
        directory: a file missing, changed, or added)."""
        path = self.path(rel)
        where = f"{owner}: " if owner else ""
        if not path.exists():
            raise ArtifactError(f"{where}artifact file {path} is missing (expected sha256 {sha256}); "
                                "the artifact folder was moved or pruned: point RUNCARD_ARTIFACTS at it, or "
                                "re-log the artifact.")
        if path.is_dir():
            if manifest is None:
                raise ArtifactError(f"{where}{path} is a directory but no manifest was recorded.")
            present = {p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file() or p.is_symlink()}
            extra = sorted(present - {str(r) for r, _, _ in manifest})
            if extra:
                raise ArtifactError(f"{where}stored directory {path} holds files it was not stored with "
                                    f"({extra[:3]}); refusing to use it.")
            found = []
            for rel_file, _, _ in manifest:
                target = path / str(rel_file)
                file_sha, size = sha256_file(target) if target.is_file() and not target.is_symlink() else ("", 0)
                found.append((str(rel_file), file_sha, size))
            actual = manifest_digest(tuple(found))
        else:
            actual, _ = sha256_file(path)
        if actual != sha256:
            raise ArtifactError(f"{where}artifact file {path} has sha256 {actual}, expected {sha256}: it was "
                                "modified or corrupted after it was stored; refusing to use it.")
        return path

    def remove(self, rel: str) -> None:
        """Delete a stored artifact (file or directory) and its hash folder if empty; never outside the root."""
        path = self.path(rel)
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
        with contextlib.suppress(OSError):  # other names still share this content
            path.parent.rmdir()


def _check_name(name: str) -> None:
    if not name or "/" in name or "\\" in name or name in (".", "..") or "\x00" in name:
        raise InputError(f"artifact name {name!r}: give a plain file name (no slashes, no NUL).")
    if len(name.encode("utf-8")) > 200:
        raise InputError(f"artifact name {name[:40]!r}... is {len(name.encode('utf-8'))} bytes; give a name of at "
                         "most 200 bytes.")
