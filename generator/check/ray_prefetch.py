"""Serve configs validated by Ray in a second process while this one does the rest.

Importing Ray's models takes ~1 s and validating a large fleet's serve configs a few
tenths more: for `gen check` of a large output that is a third of the run, and none of
it depends on the schema, operational and reference checks. So once loading has met
enough RayServices, a forked child imports Ray (while loading goes on), is then sent
the distinct serveConfigV2 texts, and returns their problems; ``validate_serve_config``
takes a text's result from it, or validates in-process when the child has none (it
raised there, or the child died), so every result and error is what in-process
validation gives. Linux only (fork), and not when this process has built Ray's models
already (in-process is then cheap).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import threading
from multiprocessing.connection import Connection

# RayServices met while loading before the child is worth its fork and Ray import
MIN_RAYSERVICES = 20


class _Child:
    """One forked validator: imports Ray at once, then validates one batch of texts."""

    def __init__(self) -> None:
        ctx = multiprocessing.get_context("fork")
        self.conn, child_end = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(child_end,), daemon=True, name="gen-serve-check")
        self.process.start()
        child_end.close()
        self.index: dict[str, int] | None = None  # text -> position, once sent
        self.results: dict[int, list[str]] | None = None
        self._sender: threading.Thread | None = None
        self._send_failed = False

    def send(self, texts: list[str]) -> None:
        """Sent from a thread: the texts (megabytes for a large fleet) fill the pipe while
        the child is still importing Ray, and the checks go on meanwhile."""
        self.index = {t: i for i, t in enumerate(dict.fromkeys(texts))}
        self._sender = threading.Thread(target=self._send, args=(list(self.index),), daemon=True)
        self._sender.start()

    def _send(self, texts: list[str]) -> None:
        try:
            self.conn.send(texts)
        except OSError:  # the child is gone (or stopped): everything is validated in-process
            self._send_failed = True

    def problems(self, text: str) -> list[str] | None:
        position = None if self.index is None else self.index.get(text)
        if position is None:
            return None
        if self.results is None:
            if self._sender is not None:
                self._sender.join()
            try:
                self.results = {} if self._send_failed else self.conn.recv()
            except (EOFError, OSError):
                self.results = {}
            self.stop()
        found = self.results.get(position)
        return None if found is None else list(found)

    def stop(self) -> None:
        if self.results is None:  # not needed any more
            self.process.terminate()  # first: a send still under way then fails at once
        if self._sender is not None:
            self._sender.join()
        self.conn.close()
        self.process.join(timeout=5)


_current: _Child | None = None


def reset() -> None:
    """A new run: the previous run's child and results are no longer consulted."""
    global _current
    if _current is not None and _current.results is None:
        _current.stop()
    _current = None


def start(ray_models_built: bool) -> None:
    """Fork a child that imports Ray and waits for texts (once per run)."""
    global _current
    if _current is None and not ray_models_built and sys.platform.startswith("linux"):
        _current = _Child()


def started() -> bool:
    return _current is not None and _current.index is None


def send(texts: list[str]) -> None:
    """The serve configs the started child validates (each distinct text once)."""
    if started() and _current is not None:
        _current.send(texts)


def problems(text: str) -> list[str] | None:
    """The child's problems for ``text``, or None when it has none (validate here)."""
    return None if _current is None else _current.problems(text)


def _serve(conn: Connection) -> None:
    """The child: import Ray's models, then validate each text it is sent."""
    from .ray_serve import RayNotInstalled, _import_ray, validate_serve_config

    global _current
    _current = None  # the parent's, inherited: this process validates in-process
    with contextlib.suppress(RayNotInstalled):  # each text then raises, reported by the parent
        _import_ray()
    try:
        texts = conn.recv()
    except (EOFError, OSError):
        return
    results: dict[int, list[str]] = {}
    for i, text in enumerate(texts):
        try:
            results[i] = validate_serve_config(text)
        except Exception:  # the parent validates this one again and reports the error its way
            continue
    conn.send(results)
    conn.close()
    os._exit(0)  # now: Ray's import leaves threads that a normal exit would wait for
