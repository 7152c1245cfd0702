"""The one pipeline of gen: load spec -> plan -> render -> verify -> write or diff.

``gen render``, ``gen render --check``, ``gen diff`` and ``gen check`` all go through
here, so each stage exists once: ``render/`` renders and ``check/`` checks, neither
imports the other, and what ``gen render`` verifies before writing is what ``gen check``
reports on the written output, word for word (``render --strict`` adds the schema and
serve-config checks, as ``gen check`` always runs them).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .check.loader import Document, Loaded, Scope
from .check.report import Report
from .check.runner import Options, check_loaded, check_paths, resource_result
from .check.schemas import DEFAULT_KUBE_VERSION
from .diagnostics import Issue
from .gcpause import no_cyclic_gc
from .objects import llm_configs
from .output_diff import DiffResult, diff_files
from .render import Progress, RenderError, quiet, render_spec, start_worker
from .render.manifests import Resource, files_by_kind
from .render.writer import OutputError, Staging, read_owned
from .spec import load_spec

__all__ = ["EarlyChecks", "RenderError", "RenderResult", "check", "diff_output", "render_to_dir", "verify"]


@dataclass
class RenderResult:
    files: int
    resources: int
    clusters: list[str]


class EarlyChecks:
    """verify's per-resource checks, run on each resource as soon as it is parsed (an
    OnParsed hook for render_spec), so that they overlap the rest of the render rather
    than wait for the whole of it. A resource with a finding (or an internal error) is
    checked again by verify, which reports it with its file and place."""

    def __init__(self, strict: bool) -> None:
        self.strict = strict
        # id -> each object they found nothing wrong with, held so that no id is reused by
        # another object (a second process's parts are dropped when it dies mid-answer)
        self._passed: dict[int, Any] = {}
        self._lock = threading.Lock()  # parse threads and the second process's reader call it

    def __call__(self, batch: list[Resource]) -> None:
        with self._lock:
            for r in batch:
                issues, error = resource_result(Document("", 0, r.obj), DEFAULT_KUBE_VERSION, self.strict)
                if not issues and error is None:
                    self._passed[id(r.obj)] = r.obj

    def trust(self, objs: Iterable[Any]) -> None:
        """Take ``objs`` as passed (checked by another process's EarlyChecks)."""
        self._passed.update((id(obj), obj) for obj in objs)

    def passed(self, obj: Any, strict: bool) -> bool:
        """Whether ``obj`` passed the per-resource checks verify(strict=strict) runs."""
        return strict == self.strict and self._passed.get(id(obj)) is obj


def _prechecked(early: EarlyChecks | None, obj: Any, strict: bool) -> tuple[list[Issue], None] | None:
    """Document.prechecked for check_loaded: nothing found, or None (check it there)."""
    return ([], None) if early is not None and early.passed(obj, strict) else None


class _ReadmeLater(Mapping[str, str]):
    """The README of every scope, fetched when a rule first reads one: the second process
    checks the output while this one still writes the README (_RemoteVerify)."""

    def __init__(self, scopes: list[str], fetch: Callable[[], str | None]) -> None:
        self._scopes, self._fetch = scopes, fetch
        self._text: list[str | None] = []

    def __getitem__(self, scope: str) -> str:
        if not self._text:
            self._text.append(self._fetch())
        text = self._text[0]
        if text is None or scope not in self._scopes:
            raise KeyError(scope)
        return text

    def __iter__(self) -> Iterator[str]:
        return iter(self._scopes)

    def __len__(self) -> int:
        return len(self._scopes)


def verify(
    resources: Sequence[Resource],
    *,
    strict: bool = False,
    readme: str | Callable[[], str | None] | None = None,
    output: str = "out",
    early: EarlyChecks | None = None,
) -> list[Issue]:
    """What ``gen check`` would report on the written output, from the rendered resources
    in memory: duplicates, cross-references, GKE lints and the operational rules always
    (cheap); with ``strict`` also the pinned upstream schemas and Ray's serve-config
    models. Issues name the file each resource goes to under ``output``. ``early``: the
    per-resource checks already run (with the same ``strict``) while rendering;
    ``readme``: the README shipped with the output, or how to get it once a rule asks."""
    loaded = Loaded()
    by_cluster: dict[str, list[Resource]] = {}
    for r in resources:
        by_cluster.setdefault(r.cluster, []).append(r)
    scopes = []
    for cluster, rendered in by_cluster.items():
        scope = f"{output}/manifests/{cluster}"
        docs = [
            Document(f"{scope}/{fname}", index, r.obj, prechecked=_prechecked(early, r.obj, strict))
            for fname, in_file in files_by_kind(rendered).items()
            for index, r in enumerate(in_file)
        ]
        loaded.scopes.append(Scope(scope, docs))
        loaded.files += sorted({d.file for d in docs})
        scopes.append(scope)
    readmes: Mapping[str, str] | None = None
    if callable(readme):
        readmes = _ReadmeLater(scopes, readme)
    elif readme is not None:
        readmes = dict.fromkeys(scopes, readme)
    options = Options(schemas=strict, serve_configs=strict)
    report = Report([output], DEFAULT_KUBE_VERSION, files=len(loaded.files))
    check_loaded(loaded, options, report, readmes=readmes)
    if report.internal_errors:
        raise RenderError("checking the rendered output failed: " + "; ".join(report.internal_errors))
    return report.sorted_issues()


class _RemoteVerify:
    """verify run by the second process of a large render (Worker.then), which holds most of
    the resources already, while this one writes the README it needs: the check and the
    README no longer follow each other on one core. It gets the order of every resource
    (its own by position, this process's whole) and which passed EarlyChecks here; the
    README follows once written. Anything failing there leaves verify to this process."""

    MODULES = ("generator.pipeline",)  # what the job imports there
    PREPARE = ("generator.pipeline", "_read_serve_configs")  # run there before the job arrives

    def __init__(self, worker: Any, early: EarlyChecks, output: str) -> None:
        self.worker, self.early, self.output = worker, early, output
        self.pending: Any = None

    def start(self, resources: list[Resource]) -> None:
        """render_spec's on_rendered: every resource rendered, the README not yet written."""
        if self.worker is None:
            return
        theirs = {id(r): k for k, r in enumerate(self.worker.streamed)}
        # this process's own without their text, which verify does not read (a quarter
        # of the bytes: pickled here and unpickled there on the way to the check)
        order = [theirs.get(id(r), (r.kind, r.name, r.namespace, r.obj, r.cluster)) for r in resources]
        strict = self.early.strict
        passed = [k for k, r in enumerate(resources) if self.early.passed(r.obj, strict)]
        self.pending = self.worker.then(_verify_there, order, passed, strict, self.output)

    def finish(self, readme: str | None) -> list[Issue] | None:
        """The issues found there; None when it could not check (verify here then)."""
        from .render._worker import WorkerUnavailable

        if self.pending is None:
            return None
        self.pending.send(readme)
        try:
            issues: list[Issue] = self.pending.result()
        except WorkerUnavailable:
            return None
        return issues


def _read_serve_configs(mine: list[Resource]) -> None:
    """The second process's head start on verify: it parses the serve configs of the
    RayServices it rendered (cached by their text, objects.load_serve_config; ~24 µs each)
    while this process gathers the rest of the output for it."""
    for r in mine:
        if r.kind == "RayService":
            llm_configs(r.obj)


def _verify_there(
    mine: list[Resource],
    receive: Callable[[], str | None],
    order: list[int | tuple[str, str, str, dict[str, Any], str]],
    passed: list[int],
    strict: bool,
    output: str,
) -> list[Issue]:
    """_RemoteVerify's job in the second process: ``mine`` are the resources it rendered,
    ``order`` every resource: one of those by position, or one of the caller's as
    (kind, name, namespace, obj, cluster)."""
    resources = [mine[x] if isinstance(x, int) else Resource(x[0], x[1], x[2], "", x[3], x[4]) for x in order]
    early = EarlyChecks(strict)
    early.trust(resources[k].obj for k in passed)
    return verify(resources, strict=strict, readme=receive, output=output, early=early)


def render_to_dir(
    spec_path: str | Path, output: str | Path, *, strict: bool = False, progress: Progress = quiet
) -> RenderResult:
    """Validate, plan, render, verify and atomically write; raises SpecError or
    RenderError, and writes nothing then. ``progress`` is told each stage. Files are
    written into a staging tree as they are made (writer.Staging), which becomes the
    output only once every check passed."""
    with no_cyclic_gc():  # see generator/gcpause.py
        progress("validating")
        worker = start_worker(spec_path, _RemoteVerify.MODULES, _RemoteVerify.PREPARE)
        early = EarlyChecks(strict)
        remote = _RemoteVerify(worker, early, str(output))
        try:
            spec = load_spec(spec_path)
            with _staging(output) as staging:
                plan, files, resources = render_spec(spec, progress, worker, early, remote.start, staging.add)
                del spec
                progress(f"checking {len(resources)} resources")
                readme = files["README.md"].decode() if "README.md" in files else None
                issues = remote.finish(readme)
                if worker is not None:
                    worker.close()
                    worker = None
                if issues is None:
                    issues = verify(resources, strict=strict, readme=readme, output=str(output), early=early)
                if issues:
                    raise RenderError(
                        "the rendered output is inconsistent (this is a bug in gen or its "
                        "charts; please report it):\n  " + "\n  ".join(i.format() for i in issues)
                    )
                progress(f"writing {len(files)} files")
                try:
                    staging.add({rel: data for rel, data in files.items() if rel not in staging.added})
                    staging.commit()
                except (OutputError, OSError) as exc:
                    raise RenderError(str(exc)) from None
        finally:
            if worker is not None:
                worker.close()  # a no-op once it had its jobs
        result = RenderResult(len(files), len(resources), [c.name for c in plan.clusters])
        # freed while collection is still paused: re-enabled with them alive, the first
        # collection would walk every parsed document once more (~25 ms at 1000 models)
        del plan, files, resources, early, remote
        return result


@contextlib.contextmanager
def _staging(output: str | Path) -> Iterator[Staging]:
    """writer.Staging of ``output``, its errors as RenderError."""
    try:
        staging = Staging(Path(output))
    except (OutputError, OSError) as exc:
        raise RenderError(str(exc)) from None
    with staging:
        yield staging


def diff_output(spec_path: str | Path, out_dir: str | Path) -> DiffResult:
    """What rendering spec_path into out_dir would change (raises SpecError, and
    RenderError for an output directory gen cannot read, such as a corrupt manifest)."""
    with no_cyclic_gc():
        _, new, rendered = render_spec(load_spec(spec_path))
        try:
            old = read_owned(Path(out_dir), set(new))
        except OutputError as exc:
            raise RenderError(str(exc)) from None
        return diff_files(old, new, rendered)


def check(paths: Sequence[str], options: Options | None = None, stdin: IO[str] | None = None) -> Report:
    """``gen check``: every check on every resource under ``paths``."""
    return check_paths(paths, options, stdin)
