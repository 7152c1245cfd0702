"""Crash-safe replacement of an output directory.

The new tree is built completely in a temporary directory beside the target.
Files that gen did not write (not listed in the previous run's manifest) are
hard-linked into it unchanged, then the two directories are swapped with one
atomic ``renameat2(RENAME_EXCHANGE)``: a reader (or a SIGKILL) sees either the
old complete tree or the new one, never a mix.

One writer per target at a time: gen holds an exclusive ``flock`` on the target
directory itself while it writes, so it leaves no lock file anywhere (none beside
the target to dirty ``git status``, none inside it to be committed). The swap gives
the target path a new inode, so a writer re-checks, once it holds the lock, that it
locked the directory the path still names, and otherwise locks again.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import functools
import json
import os
import shutil
import stat
import tempfile
import threading
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from typing import Any

MANIFEST = ".gen-files.json"
# Threads creating files: creating one took 0.02-0.7 ms of kernel time on the shared
# machine gen is benchmarked on, and four threads took half the time of one.
WRITERS = 4
_RENAME_EXCHANGE = 2


class OutputError(Exception):
    """The output directory cannot be written safely; nothing was changed."""


def _safe_rel(rel: str) -> PurePosixPath:
    p = PurePosixPath(rel)
    if p.is_absolute() or ".." in p.parts or not p.parts or rel != str(p):
        raise OutputError(f"refusing to write {rel!r}: not a plain relative path")
    return p


def previous_files(target: Path) -> set[str]:
    """The files gen wrote into ``target`` last time (its manifest): the one reader of
    .gen-files.json, for writing, ``gen diff`` and ``gen render --check``."""
    manifest = target / MANIFEST
    if not manifest.is_file() or manifest.is_symlink():
        return set()
    try:
        files = json.loads(manifest.read_text(encoding="utf-8"))["files"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise OutputError(
            f"{manifest} is corrupt; delete it (and the files gen wrote) to start over"
        ) from None
    except OSError as exc:
        raise OutputError(f"cannot read {manifest}: {exc.strerror or exc}") from None
    if not isinstance(files, list):
        raise OutputError(f"{manifest} is corrupt; delete it (and the files gen wrote) to start over")
    return {f for f in files if isinstance(f, str)}


def read_owned(target: Path, wanted: set[str]) -> dict[str, bytes]:
    """The files gen owns in ``target`` (its manifest) plus any it is about to write."""
    found = {}
    for rel in sorted(previous_files(target) | wanted):
        path = target / rel
        if path.is_file() and not path.is_symlink():
            found[rel] = path.read_bytes()
    return found


@functools.cache
def _renameat2() -> Any:
    """libc's renameat2, or None. Looked up among the symbols the process has loaded
    (libc's among them) rather than by ctypes.util.find_library, which runs ldconfig."""
    try:
        return getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    except (OSError, AttributeError):
        return None


def _exchange(a: Path, b: Path) -> bool:
    fn = _renameat2()
    if fn is None:
        return False
    at_fdcwd = -100
    rc: int = fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    return rc == 0


def _carry_over(target: Path, staging: Path, ours: set[str], new: set[str]) -> None:
    """Hard-link every file in target that gen did not write into staging.

    Directories that only ever held gen's files are not carried over, so a
    removed model leaves no empty folder behind; the user's own (even empty)
    directories are kept."""
    gen_dirs = {str(parent) for rel in ours for parent in PurePosixPath(rel).parents}
    for root, dirs, files in os.walk(target):
        rel_root = Path(root).relative_to(target)
        for d in list(dirs):
            src = Path(root) / d
            if src.is_symlink():
                raise OutputError(
                    f"{src} is a symlink; gen refuses to write through symlinks in the output directory"
                )
            if (rel_root / d).as_posix() not in gen_dirs:
                (staging / rel_root / d).mkdir(parents=True, exist_ok=True)
        for f in files:
            rel = (rel_root / f).as_posix()
            src = Path(root) / f
            if rel in ours or rel == MANIFEST:
                continue
            if rel in new:
                raise OutputError(
                    f"{src} was not written by gen but gen needs that path; move it away and render again"
                )
            dst = staging / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.is_symlink():
                os.symlink(os.readlink(src), dst)
            else:
                os.link(src, dst)


def _write(path: str | Path, data: bytes) -> None:
    # explicit modes: the output is the same whatever the caller's umask
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        os.fchmod(fd, 0o644)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def _holds(path: str, data: bytes) -> bool:
    """Whether ``path`` is a regular file, as gen writes it (mode 0644), holding ``data``.
    Such a file is linked into the new tree rather than written again: a re-render writes
    only what changed (creating a file is the costly part), and an unchanged file keeps
    its modification time."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or stat.S_IMODE(st.st_mode) != 0o644 or st.st_size != len(data):
            return False
        with os.fdopen(os.dup(fd), "rb") as f:
            return f.read(len(data) + 1) == data
    finally:
        os.close(fd)


def _mkdirs(rel_dir: str, top: str, made: set[str]) -> None:
    """Create ``top/rel_dir`` and its missing parents (``made``: those created so far)."""
    if not rel_dir or rel_dir in made:
        return
    _mkdirs(os.path.dirname(rel_dir), top, made)
    path = os.path.join(top, rel_dir)
    os.mkdir(path)
    os.chmod(path, 0o755)
    made.add(rel_dir)


def write_tree(target: Path, files: dict[str, bytes]) -> None:
    """Make ``target`` hold exactly ``files`` plus whatever gen did not write there (the
    whole tree at once; Staging writes one as its files are made)."""
    rels = {str(_safe_rel(r)) for r in files}  # before anything is created
    with Staging(target) as staging:
        staging.add({rel: files[rel] for rel in sorted(rels)})
        staging.commit()


class Staging:
    """A new output tree being written, which becomes ``target`` only at ``commit()``.

    Opening it takes the target's lock and creates a hidden staging directory beside it;
    ``add`` hands files to writer threads (creating a file is a system call the GIL is
    released for, so a render writes its chart while the Helm engine still renders; a
    file of the last run with the same bytes is linked instead); ``commit`` waits for
    them, carries the user's files over and swaps the trees. Leaving the ``with`` block
    without committing (an error anywhere) removes the staging tree: the target is as it
    was, and is removed again if this created it."""

    def __init__(self, target: Path) -> None:
        target = target.absolute()
        if target.is_symlink():
            raise OutputError(f"{target} is a symlink; give the real directory")
        if target.exists() and not target.is_dir():
            raise OutputError(f"{target} exists and is not a directory")
        target.parent.mkdir(parents=True, exist_ok=True)
        self.target = target
        self._created = not target.exists()
        self._lock = lock_target(target)
        self._rels: set[str] = set()
        self._writes: list[Future[None]] = []
        self._pool: ThreadPoolExecutor | None = None
        self._made: set[str] = set()  # directories created in the staging tree
        self._made_lock = threading.Lock()
        self._staging: Path | None = None
        self._ours: set[str] = set()
        try:
            self._ours = previous_files(target)  # under the lock: gen's files of the last run
            # under the lock, staging trees left by a killed run (never swapped in, so
            # never visible as the target) are removed
            for stale in target.parent.glob(f".{target.name}.gen-*"):
                if stale.is_dir() and not stale.is_symlink():
                    shutil.rmtree(stale, ignore_errors=True)
            # the (empty) lock file earlier versions of gen left beside the target
            legacy = target.parent / f".{target.name}.gen.lock"
            if legacy.is_file() and not legacy.is_symlink() and legacy.stat().st_size == 0:
                legacy.unlink(missing_ok=True)
            self._staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.gen-", dir=target.parent))
            os.chmod(self._staging, 0o755)
        except BaseException:
            self.abort()
            raise
        self._top = str(self._staging)
        self._pool = ThreadPoolExecutor(max_workers=WRITERS, thread_name_prefix="gen-writer")

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._staging is not None:
            self.abort()

    @property
    def added(self) -> frozenset[str]:
        """The files added so far."""
        return frozenset(self._rels)

    def add(self, files: Mapping[str, bytes]) -> None:
        """Write ``files`` (relative path -> bytes) into the new tree, in the background."""
        for rel, data in files.items():
            rel = str(_safe_rel(rel))
            if rel in self._rels:
                raise OutputError(f"{rel} is written twice")
            self._rels.add(rel)
            assert self._pool is not None, "added after commit() or abort()"
            self._writes.append(self._pool.submit(self._write_file, rel, data))

    def _write_file(self, rel: str, data: bytes) -> None:
        with self._made_lock:
            _mkdirs(os.path.dirname(rel), self._top, self._made)
        path = os.path.join(self._top, rel)
        if rel in self._ours:  # unchanged since the last run: the same file, linked
            old = os.path.join(self.target, rel)
            if _holds(old, data):
                with contextlib.suppress(OSError):  # no hard links there: written anew
                    os.link(old, path, follow_symlinks=False)
                    return
        _write(path, data)

    def _finish_writes(self) -> None:
        """Wait for the writer threads; raise the first error one of them had."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        for write in self._writes:
            write.result()

    def commit(self) -> None:
        """Wait for the files, then make the new tree the target."""
        assert self._staging is not None, "committed twice"
        self._finish_writes()
        staging = self._staging
        _write(
            staging / MANIFEST,
            (json.dumps({"generator": "gen", "files": sorted(self._rels)}, indent=1) + "\n").encode(),
        )
        target = self.target
        _carry_over(target, staging, self._ours, self._rels)
        if not _exchange(staging, target):
            # no renameat2 (non-Linux): two renames, a tiny window without target
            old = staging.with_name(staging.name + ".old")
            os.rename(target, old)
            os.rename(staging, target)
            staging = old
        self._staging = None
        shutil.rmtree(staging, ignore_errors=True)  # the old tree
        self._release()

    def abort(self) -> None:
        """Drop the new tree; the target stays as it was (removed if this created it)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
            self._staging = None
        if self._created:  # leave no empty directory behind when the first write fails
            with contextlib.suppress(OSError):
                os.rmdir(self.target)
        self._release()

    def _release(self) -> None:
        if self._lock >= 0:
            os.close(self._lock)
            self._lock = -1


def lock_target(target: Path) -> int:
    """Create ``target`` if missing and return a descriptor of it holding an exclusive
    flock; the caller closes it. The lock is on the directory the path names once the
    lock is held: a writer that swapped a new tree in meanwhile made the path name
    another directory, so the lock is taken again on that one."""
    while True:
        try:
            os.mkdir(target, 0o755)
            os.chmod(target, 0o755)
        except FileExistsError:
            pass
        try:
            fd = os.open(target, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except FileNotFoundError:  # swapped away between mkdir and open (no renameat2)
            continue
        except OSError as exc:
            if target.is_symlink():
                raise OutputError(f"{target} is a symlink; give the real directory") from None
            raise OutputError(f"{target} cannot be opened as a directory: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            held = os.fstat(fd)
            now = os.stat(target, follow_symlinks=False)
            if (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino):
                return fd
        except FileNotFoundError:
            pass
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
