"""A second process that renders part of the umbrella chart (see SLICED in __init__).

The Helm engine serializes renders within one process, so a large fleet's chart is
rendered in two: this one is started with ``sys.executable -c BOOTSTRAP`` and the
parent's sys.path (so it imports the same gen), reads one pickled job on stdin and
writes its answer on stdout as pickled messages: ("part", template, [Resource, ...]) as
documents are parsed, then ("ok", None), or ("helm", message) when the Helm engine
rejected the chart. Started by subprocess rather than
multiprocessing, so nothing re-runs the caller's __main__.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import tempfile
from collections.abc import Callable
from typing import IO, Any

BOOTSTRAP = (
    "import json, os, sys\n"
    "sys.path[:] = json.loads(os.environ.pop('GEN_RENDER_WORKER_PATH'))\n"
    "from generator.render._worker import serve\n"
    "serve()\n"
)


class WorkerUnavailable(Exception):
    """The second process could not run the job; the caller renders it itself."""


STREAM_BATCH = 100  # documents per message: the caller unpickles while this one parses

# The Helm engine is Go: its collector ran ~20 times in one 1000-model render at the default
# GOGC=100, ~30% of the engine's CPU. Go reads GOGC once, from the environment the process
# started with, so only this process can be tuned (bench/issue19.md); GOMEMLIMIT keeps a
# 10000-model slice from growing the heap without bound. A user's own settings win.
GO_ENV = {"GOGC": "400", "GOMEMLIMIT": "512MiB"}


def serve() -> None:
    import gc

    gc.disable()  # as in render_to_dir: the parsed documents are millions of objects
    import helm_python  # noqa: F401  (loaded before the job arrives: the parent is still planning)

    from . import iter_group
    from .manifests import HelmRenderError

    job = pickle.load(sys.stdin.buffer)
    if job is None:  # not needed after all
        return
    out = sys.stdout.buffer
    try:
        archive, values, group, fleet, namespace, cluster = job["args"]
        parts = iter_group(archive, values, group, fleet, namespace, cluster, batch=STREAM_BATCH)
        for template, docs in parts:
            pickle.dump(("part", template, docs), out, protocol=pickle.HIGHEST_PROTOCOL)
            out.flush()
        answer: tuple[str, Any] = ("ok", None)
    except HelmRenderError as exc:  # raised before any part: the engine renders first
        answer = ("helm", str(exc))
    pickle.dump(answer, out, protocol=pickle.HIGHEST_PROTOCOL)
    out.flush()
    sys.stderr.flush()
    # nothing left to clean up: skip the interpreter's teardown (freeing every parsed
    # document, ~35 ms at 1000 models), which the caller would otherwise wait for
    os._exit(0)


class Worker:
    """A started second process, waiting for its job (start it early: it imports gen and
    the Helm engine while the caller plans)."""

    def __init__(self) -> None:
        env = {**GO_ENV, **os.environ, "GEN_RENDER_WORKER_PATH": json.dumps(sys.path)}
        # stderr goes to a file: read only on failure, and never a full pipe that blocks
        # the worker while this process reads its answer
        self.err = tempfile.TemporaryFile()  # noqa: SIM115  (closed by run/close)
        try:
            self.proc: subprocess.Popen[bytes] | None = subprocess.Popen(
                [sys.executable, "-c", BOOTSTRAP],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self.err,
                env=env,
            )
        except (OSError, ValueError):
            self.proc = None

    def run(self, args: tuple[Any, ...], on_parsed: Callable[[list[Any]], None] | None = None) -> Any:
        """Run render_group(*args) there; its answer, unpickled part by part while the
        second process still parses (a large fleet's answer is ~100 MB: never held as
        bytes and as objects at once, and mostly read before the last part is parsed).
        ``on_parsed`` is told each part's documents as they arrive."""
        proc, self.proc = self.proc, None
        if proc is None:
            raise WorkerUnavailable("no second process")
        assert proc.stdin is not None and proc.stdout is not None
        try:
            with proc.stdin:
                pickle.dump({"args": args}, proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            answer = self._receive(proc.stdout, on_parsed)
            proc.wait(timeout=60)
        except Exception as exc:  # a broken pipe, a truncated or unreadable answer
            proc.kill()
            proc.wait()
            raise WorkerUnavailable(self._failure(f"no answer ({type(exc).__name__}: {exc})")) from None
        finally:
            proc.stdout.close()
        if proc.returncode != 0:
            raise WorkerUnavailable(self._failure(f"exit status {proc.returncode}"))
        self.err.close()
        return answer

    @staticmethod
    def _receive(stream: IO[bytes], on_parsed: Callable[[list[Any]], None] | None) -> tuple[str, Any]:
        """("ok", {template: [Resource, ...]}) from the parts as they come, or ("helm", message)."""
        parts: dict[str, list[Any]] = {}
        while True:
            message = pickle.load(stream)
            if message[0] != "part":
                return ("ok", parts) if message[0] == "ok" else message
            parts.setdefault(message[1], []).extend(message[2])
            if on_parsed is not None:
                on_parsed(message[2])

    def _failure(self, what: str) -> str:
        with self.err:
            self.err.seek(0)
            return f"{what}: {self.err.read().decode(errors='replace')[-2000:]}"

    def close(self) -> None:
        """Dismiss the process if it got no job."""
        proc, self.proc = self.proc, None
        if proc is None:
            self.err.close()
            return
        try:
            proc.communicate(pickle.dumps(None), timeout=60)
        except (OSError, ValueError, subprocess.SubprocessError):
            proc.kill()
            proc.wait()
        finally:
            self.err.close()
