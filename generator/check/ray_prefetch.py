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
    """One forked validator: imports Ray at once, then validates the texts it is sent
    (in batches: what is known early is validated while loading goes on)."""

    def __init__(self) -> None:
        ctx = multiprocessing.get_context("fork")
        self.conn, child_end = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(child_end,), daemon=True, name="gen-serve-check")
        self.process.start()
        child_end.close()
        self.index: dict[str, int] = {}  # text -> position, as sent
        self.sent = False  # the last batch is sent: results can be asked for
        self.results: dict[int, list[str]] | None = None
        self._sender: threading.Thread | None = None
        self._send_failed = False

    def send_early(self, texts: list[str]) -> None:
        """A batch the child may validate before the rest is known."""
        self._queue(texts, last=False)

    def send(self, texts: list[str]) -> None:
        """The last batch (texts sent before are not sent again)."""
        self._queue(texts, last=True)
        self.sent = True

    def _queue(self, texts: list[str], last: bool) -> None:
        """Sent from a thread: the texts (megabytes for a large fleet) fill the pipe while
        the child is still importing Ray, and the checks go on meanwhile."""
        new = [t for t in dict.fromkeys(texts) if t not in self.index]
        for text in new:
            self.index[text] = len(self.index)
        previous = self._sender
        self._sender = threading.Thread(target=self._send, args=(previous, new, last), daemon=True)
        self._sender.start()

    def _send(self, previous: threading.Thread | None, texts: list[str], last: bool) -> None:
        if previous is not None:
            previous.join()  # batches in order
        try:
            self.conn.send(texts)
            if last:
                self.conn.send(None)
        except OSError:  # the child is gone (or stopped): everything is validated in-process
            self._send_failed = True

    def problems(self, text: str) -> list[str] | None:
        position = self.index.get(text) if self.sent else None
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
    return _current is not None and not _current.sent


def send_early(texts: list[str]) -> None:
    """Serve configs the started child may validate already (send() follows)."""
    if started() and _current is not None:
        _current.send_early(texts)


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
    results: dict[int, list[str]] = {}
    position = 0
    while True:
        try:
            texts = conn.recv()
        except (EOFError, OSError):
            return
        if texts is None:  # the last batch was the one before
            break
        for text in texts:
            # on an error, the parent validates this one again and reports it its way
            with contextlib.suppress(Exception):
                results[position] = validate_serve_config(text)
            position += 1
    conn.send(results)
    conn.close()
    os._exit(0)  # now: Ray's import leaves threads that a normal exit would wait for
