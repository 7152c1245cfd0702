"""One function run in a forked child while this process goes on, its result sent back.

`gen check` of a large directory parses and checks part of its files this way: the
child inherits the loaded texts, the compiled schemas and every import by fork, so its
start costs milliseconds. The caller encodes the result as bytes (marshal keeps a
document's strings interned and decodes several times faster than parsing YAML) and
handles a failed child (None) by doing the work itself, so results never depend on it.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable
from multiprocessing.connection import Connection


def available() -> bool:
    return sys.platform.startswith("linux")


class Child:
    """``job()`` in a forked child; ``result()`` waits for its bytes (None if it failed)."""

    def __init__(self, job: Callable[[], bytes]) -> None:
        ctx = multiprocessing.get_context("fork")
        self._conn, child_end = ctx.Pipe(duplex=False)
        self._process = ctx.Process(target=_run, args=(job, child_end), daemon=True, name="gen-check-files")
        self._process.start()
        child_end.close()

    def result(self) -> bytes | None:
        try:
            data = self._conn.recv_bytes()
        except (EOFError, OSError):
            data = None
        self._conn.close()
        self._process.join(timeout=5)
        return data if self._process.exitcode == 0 else None


def _run(job: Callable[[], bytes], conn: Connection) -> None:
    try:
        data = job()
        conn.send_bytes(data)
    except BaseException:  # the parent does the work again and reports it its own way
        os._exit(1)
    os._exit(0)  # now: no exit handlers inherited from the parent (its Ray child, its files)
