"""`gen check PATH...`: every check on every resource of rendered (or hand-written) output.

Per resource: strict schema (schemas.py: pruning and defaults first, like the API
server), RayService serve config with Ray's own models (ray_serve.py, when the ray
extra is installed), operational checks. Per cluster: duplicates, cross-references and
GKE lints (crossref.py). Optionally kubeconform. Schemas are compiled once per process,
so checking many paths in one call is cheap.

Nothing raised while checking one document stops the run: it becomes an internal error
naming the file and document (exit 2) and the other documents are still checked.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import yaml

from ..diagnostics import Issue
from ..gcpause import no_cyclic_gc
from ..objects import as_dict, group_of, name_of
from . import core_kinds, kubeconform, operational
from .crossref import check_references, index_scopes
from .loader import COMMAND_LINE_SCOPE, Document, Loaded, NotFound, describe, load, node_lines
from .ray_serve import RayNotInstalled, ray_available, ray_version, validate_serve_config
from .report import Report, Resource
from .schema_index import load_index
from .schemas import (
    DEFAULT_KUBE_VERSION,
    missing_schema_message,
    schema_status,
    supported_kube_versions,
    unevaluated_rules,
    validate_resource,
)
from .scope_index import namespace_of

_SAFE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
RAY_NOTE = "Ray is not installed (pip install 'gen-llm-fleet[ray]'); serve configs not validated"
_REF = re.compile(r'^(?P<kind>[A-Za-z][A-Za-z0-9]*) "(?P<name>[^"]+)"')


class UsageError(ValueError):
    """The command line asks for something impossible (exit code 2)."""


def kube_minor(version: str) -> str:
    try:
        minor = core_kinds.minor(version)
    except ValueError:
        minor = None
    if minor not in supported_kube_versions():
        raise UsageError(
            f"--kube-version {version!r}: expected one of "
            f"{', '.join(supported_kube_versions())} (default {DEFAULT_KUBE_VERSION})"
        )
    return str(minor)


@dataclass(frozen=True)
class Options:
    kube_version: str = DEFAULT_KUBE_VERSION
    use_kubeconform: bool = False
    ignore_missing_schemas: bool = False
    skip: frozenset[str] = frozenset()  # "Kind" or "apiVersion/Kind"
    reject: frozenset[str] = frozenset()
    skip_references: bool = False
    assume: frozenset[tuple[str, str]] = frozenset()  # (Kind, name) that exist elsewhere
    verbose: bool = False
    # gen render checks its own output with schemas and serve configs only with --strict
    schemas: bool = True
    serve_configs: bool = True


def kinds_option(values: Iterable[str]) -> frozenset[str]:
    """``--skip A,B --skip C`` -> {"A", "B", "C"}."""
    return frozenset(k.strip() for v in values for k in v.split(",") if k.strip())


def assume_option(values: Iterable[str]) -> frozenset[tuple[str, str]]:
    """``--assume Service/web``, or ``--assume @FILE`` (one KIND/NAME a line, # comments)."""
    out = set()
    for value in values:
        items: list[str] = [value]
        if value.startswith("@"):
            try:
                text = Path(value[1:]).read_text(encoding="utf-8")
            except OSError as exc:
                raise UsageError(f"--assume {value}: cannot read: {exc.strerror or exc}") from None
            items = [line.split("#", 1)[0].strip() for line in text.splitlines()]
        for item in filter(None, items):
            kind, sep, name = item.rpartition("/")
            kind = kind.rpartition("/")[2]  # "apps/v1/Deployment/x" -> Deployment
            if not sep or not kind or not name:
                raise UsageError(f"--assume {item!r}: expected KIND/NAME, e.g. Service/my-backend")
            out.add((kind, name))
    return frozenset(out)


def _matches(doc: Document, patterns: frozenset[str]) -> bool:
    if not patterns:
        return False
    kind, api_version = doc.obj.get("kind"), doc.obj.get("apiVersion")
    return kind in patterns or f"{api_version}/{kind}" in patterns


def check_dirs(
    dirs: Sequence[str], *, kube_version: str = DEFAULT_KUBE_VERSION, use_kubeconform: bool = False
) -> Report:
    """The old entry point: check_paths with default options."""
    return check_paths(dirs, Options(kube_version=kube_version, use_kubeconform=use_kubeconform))


def check_paths(paths: Sequence[str], options: Options | None = None, stdin: IO[str] | None = None) -> Report:
    """Check every resource under ``paths``; raises UsageError or kubeconform.KubeconformError."""
    with no_cyclic_gc():  # see generator/gcpause.py
        return _check_paths(paths, options or Options(), stdin)


def _check_paths(paths: Sequence[str], options: Options, stdin: IO[str] | None) -> Report:
    minor = kube_minor(options.kube_version)
    binary = kubeconform.find() if options.use_kubeconform else None
    if options.use_kubeconform and binary is None:
        raise UsageError(
            "--kubeconform: kubeconform is not on PATH "
            "(install it from https://github.com/yannh/kubeconform/releases)"
        )
    try:
        loaded = load(list(paths), stdin, functools.partial(_precheck, options=options, minor=minor))
    except NotFound as exc:
        raise UsageError(str(exc)) from None
    if not loaded.files:
        raise UsageError(f"no Kubernetes manifests (*.yaml, *.yml, *.json) found in {', '.join(paths)}")

    report = Report(list(paths), minor, files=len(loaded.files))
    check_loaded(loaded, options, report, binary=binary)
    return report


def check_loaded(
    loaded: Loaded,
    options: Options,
    report: Report,
    *,
    readmes: Mapping[str, str] | None = None,
    binary: str | None = None,
) -> None:
    """Every check on documents already loaded (from files by ``load``, or from memory by
    ``gen render``), added to ``report``. ``readmes``: the README a scope ships (default:
    the one beside a rendered output on disk)."""
    minor = report.kube_version
    report.notes += loaded.notes
    report.issues += [
        Issue(
            e.file,
            e.line,
            e.column,
            "",
            e.message,
            check="document" if e.label else "yaml",
            document=e.label,
        )
        for e in loaded.errors
    ]
    checked: list[Document] = []
    for doc in (d for s in loaded.scopes for d in s.docs):
        api_version, kind = str(doc.obj["apiVersion"]), str(doc.obj["kind"])
        raw_ns = as_dict(doc.obj.get("metadata")).get("namespace")
        ns = raw_ns if isinstance(raw_ns, str) else ""
        res = Resource(doc.file, doc.index, doc.line, api_version, kind, ns, name_of(doc.obj))
        if _matches(doc, options.skip):
            report.skipped[kind] += 1
            report.resources_seen.append(Resource(**{**res.__dict__, "status": "skipped"}))
            continue
        report.resources_seen.append(res)
        if _matches(doc, options.reject):
            report.kinds[kind] += 1
            report.issues.append(_issue(doc, "", f"prohibited resource kind {kind} (--reject)", "policy"))
            continue
        if options.ignore_missing_schemas and schema_status(api_version, kind, minor) == "missing":
            report.skipped[kind] += 1
            report.resources_seen[-1] = Resource(**{**res.__dict__, "status": "skipped"})
            continue
        report.kinds[kind] += 1
        checked.append(doc)
        result = doc.prechecked  # computed while loading, or here
        issues, error = result if result is not None else resource_result(doc, minor, options.schemas)
        report.issues += issues
        if error is not None:
            report.internal_errors.append(error)
    # The cross-references first, while a large fleet's serve configs are still being
    # validated by the second process (ray_prefetch.py); reported after them, as always.
    ref_issues: list[Issue] = []
    ref_notes: list[str] = []
    ref_errors: list[str] = []
    if not options.skip_references:
        try:
            ref_issues += _duplicates(loaded, {id(d) for d in checked})
            ref_issues += _references(loaded, ref_notes, options.assume, readmes)
        except Exception as exc:
            ref_errors.append(f"cross-references: {_internal(exc)}")
    try:
        if options.serve_configs:
            report.issues += _serve_configs(checked, report)
    except Exception as exc:
        report.internal_errors.append(f"serve configs: {_internal(exc)}")
    report.issues += ref_issues
    report.notes += ref_notes
    report.internal_errors += ref_errors
    if options.schemas:
        report.details += _notes(checked, minor)  # printed with --verbose; always in JSON
    if binary is not None:
        report.issues += _kubeconform(binary, loaded, checked, minor, report)


def _precheck(doc: Document, options: Options, minor: str) -> tuple[list[Issue], str | None] | None:
    """check_loaded's per-resource result for ``doc``, computed while loading (None for
    a document it skips)."""
    if _matches(doc, options.skip) or _matches(doc, options.reject):
        return None
    api_version, kind = str(doc.obj["apiVersion"]), str(doc.obj["kind"])
    if options.ignore_missing_schemas and schema_status(api_version, kind, minor) == "missing":
        return None
    return resource_result(doc, minor, options.schemas)


def resource_result(doc: Document, minor: str, schemas: bool) -> tuple[list[Issue], str | None]:
    """The per-resource issues, or an internal error (one broken document must not stop the run)."""
    try:
        return _per_resource(doc, minor, schemas), None
    except Exception as exc:
        return [], f"{describe(doc)}: {_internal(exc)}"


def _internal(exc: BaseException) -> str:
    return f"internal error ({type(exc).__name__}: {exc}); please report it with this document"


def _issue(doc: Document, path: str, message: str, check: str) -> Issue:
    line, col = doc.position(path)
    kind, name = str(doc.obj.get("kind")), name_of(doc.obj)
    return Issue(doc.file, line, col, path, message, kind, name, check, doc.index, doc.label)


def _per_resource(doc: Document, minor: str, schemas: bool) -> list[Issue]:
    kind, name = str(doc.obj.get("kind")), name_of(doc.obj)
    out = [
        Issue(doc.file, line, col, "", f'duplicate key "{key}"', kind, name, "yaml", doc.index, doc.label)
        for key, line, col in doc.duplicate_keys
    ]
    if schemas:
        out += [
            _issue(doc, p.path, p.message, "schema") for p in validate_resource(doc.obj, kube_version=minor)
        ]
    out += [_issue(doc, p.path, p.message, "operational") for p in operational.check_resource(doc.obj)]
    return out


def _serve_configs(docs: list[Document], report: Report) -> list[Issue]:
    notes = report.notes
    configs = [
        d
        for d in docs
        if d.obj.get("kind") == "RayService"
        and group_of(d.obj) == "ray.io"
        and isinstance(as_dict(d.obj.get("spec")).get("serveConfigV2"), str)
    ]
    if not configs:
        return []
    if not ray_available():
        notes.append(RAY_NOTE)
        return []
    out = []
    for doc in configs:
        try:
            problems = validate_serve_config(doc.obj["spec"]["serveConfigV2"])
        except RayNotInstalled:  # importable but broken install: same as absent
            notes.append(RAY_NOTE)
            return []
        except Exception as exc:
            report.internal_errors.append(f"{describe(doc)}: serve config: {_internal(exc)}")
            continue
        out += [_serve_issue(doc, p) for p in problems]
    report.ray_version = ray_version()
    notes.append(f"serve configs validated with Ray {report.ray_version}'s own models")
    return out


def _serve_issue(doc: Document, problem: str) -> Issue:
    """A serve-config problem at the line of its field inside the ``serveConfigV2: |``
    block when it can be placed there, else at the serveConfigV2 key."""
    issue = _issue(doc, "spec.serveConfigV2", problem, "serve-config")
    block = doc.blocks.get("spec.serveConfigV2")
    inner_path = problem.split(": ", 1)[0]
    if block is None or inner_path == "(root)":
        return issue
    try:
        node = yaml.compose(doc.obj["spec"]["serveConfigV2"], Loader=_SAFE)
    except yaml.YAMLError:
        return issue
    if node is None:
        return issue
    inner = node_lines(node)
    path = inner_path
    while path and path not in inner:
        path = path[: path.rindex("[")] if path.endswith("]") else path.rpartition(".")[0]
    if not path:
        return issue
    line, col = inner[path]
    return Issue(**{**issue.__dict__, "line": block[0] + line - 1, "column": block[1] + col - 1})


def _duplicates(loaded: Loaded, checked: set[int]) -> list[Issue]:
    # kubectl apply would let the later one win; kustomize refuses the directory.
    out = []
    for scope in loaded.scopes:
        seen: dict[tuple[str, Any, str, str], Document] = {}
        for doc in scope.docs:
            if id(doc) not in checked:  # skipped kinds are not looked at
                continue
            meta = as_dict(doc.obj.get("metadata"))
            if not isinstance(meta.get("name"), str):  # generateName: a new name every time
                continue
            key = (group_of(doc.obj), doc.obj.get("kind"), namespace_of(doc.obj), name_of(doc.obj))
            first = seen.setdefault(key, doc)
            if first is not doc:
                out.append(
                    _issue(
                        doc,
                        "metadata.name",
                        f"defined twice in {_scope_words(scope.name)} (first at {first.file}:{first.line})",
                        "duplicate",
                    )
                )
    return out


def _scope_words(scope: str) -> str:
    return f"the {COMMAND_LINE_SCOPE}" if scope == COMMAND_LINE_SCOPE else scope


def _references(
    loaded: Loaded, notes: list[str], assume: frozenset[tuple[str, str]], readmes: Mapping[str, str] | None
) -> list[Issue]:
    # A cluster with an unreadable file is incomplete: its references cannot be judged.
    broken = {e.scope for e in loaded.errors}
    notes += [
        f"cross-references in {_scope_words(b)} not checked: a file or document there could not be read"
        for b in sorted(broken)
    ]
    scopes = {s.name: s.docs for s in loaded.scopes}
    out = []
    objs = {name: [d.obj for d in docs] for name, docs in scopes.items()}
    # the operational rules that span resources; a gen output's README tells which
    # headers clients are told to send
    if readmes is None:
        readmes = {name: text for name in objs if (text := operational.shipped_readme(name)) is not None}
    indexes = index_scopes(objs)
    for finding in check_references(objs, indexes) + operational.check_scopes(indexes, readmes):
        if finding.scope in broken:
            continue
        p = finding.problem
        m = _REF.match(p.message)
        if m and (m.group("kind"), m.group("name")) in assume:
            continue
        doc = scopes[finding.scope][finding.index]
        out.append(_issue(doc, p.path, p.message, finding.check))
    return out


def _notes(docs: list[Document], minor: str) -> list[str]:
    notes = []
    pairs = ((d.obj.get("apiVersion"), d.obj.get("kind")) for d in docs)
    present = sorted({(av, k) for av, k in pairs if isinstance(av, str) and isinstance(k, str)})
    for api_version, kind in present:
        if schema_status(api_version, kind, minor) != "pinned":
            continue
        by_reason: dict[str, list[str]] = {}
        for rule in unevaluated_rules(api_version, kind):
            by_reason.setdefault(rule.reason, []).append(rule.path)
        for reason, paths in by_reason.items():
            notes.append(f"{kind}: CEL rules not evaluated at {', '.join(paths)}: {reason}")
    return notes


def _kubeconform(
    binary: str, loaded: Loaded, docs: list[Document], minor: str, report: Report
) -> list[Issue]:
    objects = {(d.file, str(d.obj.get("kind")), name_of(d.obj)): (d.index, d.obj) for d in docs}
    files = {d.file: loaded.paths[d.file] for d in docs if d.file in loaded.paths}
    by_place = {(d.file, d.index): d for d in docs}
    out = []
    for issue in kubeconform.run(binary, files, minor, objects):
        doc = by_place.get((issue.file, issue.order))
        if doc is not None and issue.line is None:
            line, col = doc.position(issue.path)
            issue = Issue(**{**issue.__dict__, "line": line, "column": col, "document": doc.label})
        out.append(issue)
    exported = set(load_index().entries)
    unexported = sorted(
        {
            str(d.obj["kind"])
            for d in docs
            if (d.obj["apiVersion"], d.obj["kind"]) not in exported
            or schema_status(str(d.obj["apiVersion"]), str(d.obj["kind"]), minor) not in ("pinned", "builtin")
        }
    )
    if unexported:
        report.notes.append(f"kubeconform skipped {', '.join(unexported)} (no schema to export)")
    return out


__all__ = [
    "Options",
    "UsageError",
    "check_dirs",
    "check_loaded",
    "check_paths",
    "kube_minor",
    "missing_schema_message",
]
