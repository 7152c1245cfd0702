"""The one pipeline of gen: load spec -> plan -> render -> verify -> write or diff.

``gen render``, ``gen render --check``, ``gen diff`` and ``gen check`` all go through
here, so each stage exists once: ``render/`` renders and ``check/`` checks, neither
imports the other, and what ``gen render`` verifies before writing is what ``gen check``
reports on the written output, word for word (``render --strict`` adds the schema and
serve-config checks, as ``gen check`` always runs them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .check.loader import Document, Loaded, Scope
from .check.report import Report
from .check.runner import Options, check_loaded, check_paths
from .check.schemas import DEFAULT_KUBE_VERSION
from .diagnostics import Issue
from .gcpause import no_cyclic_gc
from .output_diff import DiffResult, diff_files
from .render import Progress, RenderError, quiet, render_spec, start_worker
from .render.manifests import Resource, files_by_kind
from .render.writer import OutputError, read_owned, write_tree
from .spec import load_spec

__all__ = ["RenderError", "RenderResult", "check", "diff_output", "render_to_dir", "verify"]


@dataclass
class RenderResult:
    files: int
    resources: int
    clusters: list[str]


def verify(
    resources: Sequence[Resource], *, strict: bool = False, readme: str | None = None, output: str = "out"
) -> list[Issue]:
    """What ``gen check`` would report on the written output, from the rendered resources
    in memory: duplicates, cross-references, GKE lints and the operational rules always
    (cheap); with ``strict`` also the pinned upstream schemas and Ray's serve-config
    models. Issues name the file each resource goes to under ``output``."""
    loaded = Loaded()
    by_cluster: dict[str, list[Resource]] = {}
    for r in resources:
        by_cluster.setdefault(r.cluster, []).append(r)
    readmes = {}
    for cluster, rendered in by_cluster.items():
        scope = f"{output}/manifests/{cluster}"
        docs = [
            Document(f"{scope}/{fname}", index, r.obj)
            for fname, in_file in files_by_kind(rendered).items()
            for index, r in enumerate(in_file)
        ]
        loaded.scopes.append(Scope(scope, docs))
        loaded.files += sorted({d.file for d in docs})
        if readme is not None:
            readmes[scope] = readme
    options = Options(schemas=strict, serve_configs=strict)
    report = Report([output], DEFAULT_KUBE_VERSION, files=len(loaded.files))
    check_loaded(loaded, options, report, readmes=readmes if readme is not None else None)
    if report.internal_errors:
        raise RenderError("checking the rendered output failed: " + "; ".join(report.internal_errors))
    return report.sorted_issues()


def render_to_dir(
    spec_path: str | Path, output: str | Path, *, strict: bool = False, progress: Progress = quiet
) -> RenderResult:
    """Validate, plan, render, verify and atomically write; raises SpecError or
    RenderError, and writes nothing then. ``progress`` is told each stage."""
    with no_cyclic_gc():  # see generator/gcpause.py
        progress("validating")
        worker = start_worker(spec_path)
        try:
            plan, files, resources = render_spec(load_spec(spec_path), progress, worker)
        finally:
            if worker is not None:
                worker.close()  # a no-op once it had its job
        progress(f"checking {len(resources)} resources")
        readme = files.get("README.md")
        issues = verify(
            resources, strict=strict, readme=readme.decode() if readme else None, output=str(output)
        )
        if issues:
            raise RenderError(
                "the rendered output is inconsistent (this is a bug in gen or its "
                "charts; please report it):\n  " + "\n  ".join(i.format() for i in issues)
            )
        progress(f"writing {len(files)} files")
        try:
            write_tree(Path(output), files)
        except (OutputError, OSError) as exc:
            raise RenderError(str(exc)) from None
        result = RenderResult(len(files), len(resources), [c.name for c in plan.clusters])
        # freed while collection is still paused: re-enabled with them alive, the first
        # collection would walk every parsed document once more (~25 ms at 1000 models)
        del plan, files, resources
        return result


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
