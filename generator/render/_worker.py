"""A second process that renders part of the umbrella chart (see SLICED in __init__).

Parsing the Helm engine's output is Python and holds the GIL, so a large fleet's chart is
rendered in two processes: this one is started with ``sys.executable -c BOOTSTRAP`` and the
parent's sys.path (so it imports the same gen), reads one pickled job on stdin and
writes its answer on stdout as pickled messages: ("part", template, [Resource, ...]) as
documents are parsed, then ("ok", None), or ("helm", message) when the Helm engine
rejected the chart. Started by subprocess rather than multiprocessing, so nothing
re-runs the caller's __main__.

A worker started with ``follow_up`` modules then waits for one more job: a function
(pickled by reference) called with the Resources it rendered, a way to read further
messages from the caller, and the job's arguments; its result goes back as ("done",
value), or ("error", message). The caller uses it to check the whole render there while
it writes the README (pipeline.render_to_dir); the modules are imported while the
Helm engine renders, so the function finds them loaded, and an optional ``prepare``
function runs on what it rendered while the caller gets the job ready.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import pickle
import subprocess
import sys
import tempfile
import threading
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
# started with, so only this process can be tuned (bench/issue19.md). GOMEMLIMIT bounds the
# heap of a large slice: a 1000-model chart peaks at ~170 MB (gctrace), while a
# 10000-model slice grew the heap to 512 MiB, and that memory stays with this process while
# it checks the whole output (peak RSS 998 MiB, 729 MiB at 256 MiB). A user's own settings win.
GO_ENV = {"GOGC": "400", "GOMEMLIMIT": "256MiB"}


def serve() -> None:
    import gc

    gc.disable()  # as in render_to_dir: the parsed documents are millions of objects
    import helm_python  # noqa: F401  (loaded before the job arrives: the parent is still planning)

    from . import iter_group
    from .manifests import HelmRenderError

    stdin, out = sys.stdin.buffer, sys.stdout.buffer
    job = pickle.load(stdin)
    if job is None:  # not needed after all
        return
    follow_up = job.get("follow_up")
    if follow_up is not None:  # imported while the Helm engine renders (it releases the GIL)
        threading.Thread(target=_import_all, args=(follow_up,), daemon=True).start()
    lock = threading.Lock()  # parts and files are sent from two threads

    def send(message: tuple[Any, ...]) -> None:
        with lock:
            pickle.dump(message, out, protocol=pickle.HIGHEST_PROTOCOL)
            out.flush()

    # the values files are dumped while the Helm engine renders (it releases the GIL)
    dumper = threading.Thread(target=_dump_files, args=(job.get("dump") or [], send), daemon=True)
    dumper.start()
    mine: list[Any] = []
    try:
        archive, values, group, fleet, namespace, cluster = job["args"]
        parts = iter_group(archive, values, group, fleet, namespace, cluster, batch=STREAM_BATCH)
        for template, docs in parts:
            send(("part", template, docs))
            mine += docs
        answer: tuple[str, Any] = ("ok", None)
    except HelmRenderError as exc:  # raised before any part: the engine renders first
        answer = ("helm", str(exc))
    dumper.join()  # its files go before the answer
    send(answer)
    if follow_up is not None and answer[0] == "ok":
        if job.get("prepare"):  # while the caller gathers what the follow-up needs
            with contextlib.suppress(Exception):  # only ever a head start: the job does it anyway
                module, name = job["prepare"]
                getattr(importlib.import_module(module), name)(mine)
        _follow_up(stdin, out, mine)
    sys.stderr.flush()
    # nothing left to clean up: skip the interpreter's teardown (freeing every parsed
    # document, ~35 ms at 1000 models), which the caller would otherwise wait for
    os._exit(0)


def _dump_files(files: list[tuple[str, str, dict[str, Any]]], send: Callable[[tuple[Any, ...]], Any]) -> None:
    """Each values file (chart.values_files) as ("file", path, bytes); a failure leaves the
    file to the caller, which dumps what it was not sent."""
    from .chart import dump_values_file

    for rel, head, values in files:
        try:
            data = dump_values_file(head, values)
        except Exception:
            continue
        send(("file", rel, data))


def _import_all(modules: list[str]) -> None:
    for name in modules:
        with contextlib.suppress(Exception):  # the follow-up reports what it lacks
            importlib.import_module(name)


def _follow_up(stdin: IO[bytes], out: IO[bytes], mine: list[Any]) -> None:
    try:
        job = pickle.load(stdin)
    except (EOFError, pickle.UnpicklingError):  # the caller is gone or changed its mind
        return
    if job is None:
        return
    try:
        fn, args = job
        answer: tuple[str, Any] = ("done", fn(mine, lambda: pickle.load(stdin), *args))
    except Exception as exc:  # the caller does the work itself and reports it its own way
        answer = ("error", f"{type(exc).__name__}: {exc}")
    pickle.dump(answer, out, protocol=pickle.HIGHEST_PROTOCOL)
    out.flush()


class Worker:
    """A started second process, waiting for its job (start it early: it imports gen and
    the Helm engine while the caller plans). ``follow_up``: modules a follow-up job
    (``then``) needs; None when there will be none."""

    def __init__(
        self, follow_up: tuple[str, ...] | None = None, prepare: tuple[str, str] | None = None
    ) -> None:
        env = {**GO_ENV, **os.environ, "GEN_RENDER_WORKER_PATH": json.dumps(sys.path)}
        self.follow_up = follow_up
        # (module, function) called there with its Resources once it has sent them, while
        # this process prepares the follow-up: warming what the follow-up will read
        self.prepare = prepare
        # the Resources it rendered, in the order it sent them (then: they stay there)
        self.streamed: list[Any] = []
        self._live: subprocess.Popen[bytes] | None = None  # answered, waiting for a follow-up
        self._following: subprocess.Popen[bytes] | None = None  # running a follow-up (then)
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

    def run(
        self,
        args: tuple[Any, ...],
        on_parsed: Callable[[list[Any]], None] | None = None,
        dump: list[tuple[str, str, dict[str, Any]]] | None = None,
        on_file: Callable[[str, bytes], None] | None = None,
    ) -> Any:
        """Run render_group(*args) there; its answer, unpickled part by part while the
        second process still parses (a large fleet's answer is ~100 MB: never held as
        bytes and as objects at once, and mostly read before the last part is parsed).
        ``on_parsed`` is told each part's documents as they arrive. ``dump``: values
        files (chart.values_files) it dumps meanwhile, each told to ``on_file``."""
        proc, self.proc = self.proc, None
        if proc is None:
            raise WorkerUnavailable("no second process")
        assert proc.stdin is not None and proc.stdout is not None
        try:
            job = {
                "args": args,
                "dump": dump or [],
                "follow_up": list(self.follow_up) if self.follow_up is not None else None,
                "prepare": self.prepare,
            }
            pickle.dump(job, proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            proc.stdin.flush()
            answer = self._receive(proc.stdout, on_parsed, on_file)
            if self.follow_up is not None and answer[0] == "ok":
                self._live = proc  # waits for then() or close()
                return answer
            proc.stdin.close()
            proc.wait(timeout=60)
        except Exception as exc:  # a broken pipe, a truncated or unreadable answer
            self._kill(proc)
            raise WorkerUnavailable(self._failure(f"no answer ({type(exc).__name__}: {exc})")) from None
        proc.stdout.close()
        if proc.returncode != 0:
            raise WorkerUnavailable(self._failure(f"exit status {proc.returncode}"))
        self.err.close()
        return answer

    def _receive(
        self,
        stream: IO[bytes],
        on_parsed: Callable[[list[Any]], None] | None,
        on_file: Callable[[str, bytes], None] | None,
    ) -> tuple[str, Any]:
        """("ok", {template: [Resource, ...]}) from the parts as they come, or ("helm", message)."""
        parts: dict[str, list[Any]] = {}
        while True:
            message = pickle.load(stream)
            if message[0] == "file":
                if on_file is not None:
                    on_file(message[1], message[2])
                continue
            if message[0] != "part":
                return ("ok", parts) if message[0] == "ok" else message
            parts.setdefault(message[1], []).extend(message[2])
            self.streamed += message[2]
            if on_parsed is not None:
                on_parsed(message[2])

    def then(self, fn: Callable[..., Any], *args: Any) -> FollowUp | None:
        """Send the follow-up job fn(its Resources, receive, *args) to the process that
        answered run(); None when there is none (the caller does the work itself)."""
        proc, self._live = self._live, None
        if proc is None:
            return None
        assert proc.stdin is not None
        try:
            pickle.dump((fn, args), proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            proc.stdin.flush()
        except (OSError, ValueError, pickle.PicklingError):
            self._kill(proc)
            return None
        self._following = proc
        return FollowUp(self, proc)

    def _kill(self, proc: subprocess.Popen[bytes]) -> None:
        proc.kill()
        proc.wait()
        for pipe in (proc.stdin, proc.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()

    def _failure(self, what: str) -> str:
        with self.err:
            self.err.seek(0)
            return f"{what}: {self.err.read().decode(errors='replace')[-2000:]}"

    def close(self) -> None:
        """Dismiss the process if it got no job (or no follow-up); stop a follow-up whose
        result nobody will read (the caller was interrupted)."""
        following, self._following = self._following, None
        if following is not None and following.poll() is None:
            self._kill(following)
        proc, self.proc = self.proc, None
        live, self._live = self._live, None
        for p in (proc, live):
            if p is None:
                continue
            try:
                p.communicate(pickle.dumps(None), timeout=60)
            except (OSError, ValueError, subprocess.SubprocessError):
                self._kill(p)
        self.err.close()


class FollowUp:
    """A follow-up job running in the second process (Worker.then)."""

    def __init__(self, worker: Worker, proc: subprocess.Popen[bytes]) -> None:
        self._worker, self._proc = worker, proc

    def send(self, message: Any) -> None:
        """A message the job reads with its ``receive`` (a broken pipe shows in result())."""
        assert self._proc.stdin is not None
        with contextlib.suppress(OSError, ValueError):
            pickle.dump(message, self._proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            self._proc.stdin.flush()

    def result(self) -> Any:
        """The job's result; WorkerUnavailable when it failed or the process died."""
        proc = self._proc
        self._worker._following = None  # read here: nothing for close() to stop
        assert proc.stdin is not None and proc.stdout is not None
        try:
            with contextlib.suppress(OSError):
                proc.stdin.close()
            answer = pickle.load(proc.stdout)
        except Exception as exc:
            self._worker._kill(proc)
            raise WorkerUnavailable(
                self._worker._failure(f"no answer ({type(exc).__name__}: {exc})")
            ) from None
        proc.stdout.close()
        if answer[0] != "done":
            proc.wait(timeout=60)
            raise WorkerUnavailable(self._worker._failure(str(answer[1])))
        # its exit (the kernel freeing all it parsed: ~30 ms at 1000 models) is not waited
        # for here: the process is reaped in the background
        threading.Thread(target=proc.wait, daemon=True, name="gen-reap").start()
        self._worker.err.close()
        return answer[1]
