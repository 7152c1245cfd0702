"""`gen check DIR...`: every check on every resource of rendered (or hand-written) output.

Per resource: strict schema (schemas.py), RayService serve config with Ray's own
models (ray_serve.py, when the ray extra is installed). Per cluster: duplicates,
cross-references and GKE lints (crossref.py). Optionally kubeconform. Schemas are
compiled once per process, so checking many directories in one call is cheap.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from . import core_kinds, kubeconform, operational
from .crossref import check_references
from .graph import as_dict, group_of, name_of, namespace_of
from .index import load_index
from .loader import Document, Loaded, NotADirectory, load
from .ray_serve import RayNotInstalled, ray_available, ray_version, validate_serve_config
from .report import Issue, Report
from .schemas import DEFAULT_KUBE_VERSION, supported_kube_versions, unevaluated_rules, validate_resource

RAY_NOTE = "Ray is not installed (pip install 'gen-llm-fleet[ray]'); serve configs not validated"


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


def check_dirs(
    dirs: Sequence[str], *, kube_version: str = DEFAULT_KUBE_VERSION, use_kubeconform: bool = False
) -> Report:
    """Check every resource under ``dirs``; raises UsageError or kubeconform.KubeconformError."""
    minor = kube_minor(kube_version)
    binary = kubeconform.find() if use_kubeconform else None
    if use_kubeconform and binary is None:
        raise UsageError(
            "--kubeconform: kubeconform is not on PATH "
            "(install it from https://github.com/yannh/kubeconform/releases)"
        )
    try:
        loaded = load(list(dirs))
    except NotADirectory as exc:
        raise UsageError(str(exc)) from None
    docs = [d for s in loaded.scopes for d in s.docs]
    if not docs and not loaded.errors:
        raise UsageError(f"no Kubernetes manifests found in {', '.join(dirs)}")

    report = Report(list(dirs), minor, Counter(str(d.obj["kind"]) for d in docs))
    report.issues += [Issue(e.file, None, None, "", e.message, "yaml") for e in loaded.errors]
    for doc in docs:
        report.issues += _per_resource(doc, minor)
    report.issues += _serve_configs(docs, report)
    report.issues += _duplicates(loaded)
    scopes = {s.name: s.docs for s in loaded.scopes}
    # A cluster with an unreadable file is incomplete: its references cannot be judged.
    broken = {e.scope for e in loaded.errors}
    report.notes += [
        f"cross-references in {b} not checked: a file there could not be read" for b in sorted(broken)
    ]
    objs = {name: [d.obj for d in docs] for name, docs in scopes.items()}
    readmes = {name: text for name in objs if (text := operational.shipped_readme(name)) is not None}
    for finding in check_references(objs) + operational.check_scopes(objs, readmes):
        if finding.scope in broken:
            continue
        doc = scopes[finding.scope][finding.index]
        p = finding.problem
        report.issues.append(Issue(doc.file, p.kind, p.name, p.path, p.message, finding.check, doc.index))
    report.notes += _notes(loaded)
    report.details += _unevaluated_rules(docs)
    if binary is not None:
        objects = {(d.file, str(d.obj.get("kind")), name_of(d.obj)): (d.index, d.obj) for d in docs}
        files = {d.file: loaded.paths[d.file] for d in docs}
        report.issues += kubeconform.run(binary, files, minor, objects)
        unpinned = sorted(
            {
                str(d.obj["kind"])
                for d in docs
                if (d.obj.get("apiVersion"), d.obj.get("kind")) not in load_index().entries
            }
        )
        if unpinned:
            report.notes.append(f"kubeconform skipped {', '.join(unpinned)} (no schema to export)")
    return report


def _per_resource(doc: Document, minor: str) -> list[Issue]:
    kind, name = str(doc.obj.get("kind")), name_of(doc.obj)
    out = [
        Issue(
            doc.file, kind, name, "", f'duplicate key "{key}" at line {line}, column {col}', "yaml", doc.index
        )
        for key, line, col in doc.duplicate_keys
    ]
    out += [
        Issue(doc.file, p.kind, p.name, p.path, p.message, "schema", doc.index)
        for p in validate_resource(doc.obj, kube_version=minor)
    ]
    out += [
        Issue(doc.file, p.kind, p.name, p.path, p.message, "operational", doc.index)
        for p in operational.check_resource(doc.obj)
    ]
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
        out += [
            Issue(
                doc.file, "RayService", name_of(doc.obj), "spec.serveConfigV2", p, "serve-config", doc.index
            )
            for p in problems
        ]
    report.ray_version = ray_version()
    notes.append(f"serve configs validated with Ray {report.ray_version}'s own models")
    return out


def _duplicates(loaded: Loaded) -> list[Issue]:
    # kubectl apply would let the later one win; kustomize refuses the directory.
    out = []
    for scope in loaded.scopes:
        seen: dict[tuple[str, Any, str, str], Document] = {}
        for doc in scope.docs:
            key = (group_of(doc.obj), doc.obj.get("kind"), namespace_of(doc.obj), name_of(doc.obj))
            first = seen.setdefault(key, doc)
            if first is not doc:
                out.append(
                    Issue(
                        doc.file,
                        str(key[1]),
                        key[3],
                        "metadata.name",
                        f"defined twice in this cluster (first in {first.file})",
                        "duplicate",
                        doc.index,
                    )
                )
    return out


def _notes(loaded: Loaded) -> list[str]:
    return [
        f"skipped Helm chart {c} (templates are not manifests; check the rendered output)"
        for c in loaded.skipped_charts
    ]


def _unevaluated_rules(docs: list[Document]) -> list[str]:
    notes = []
    pairs = ((d.obj.get("apiVersion"), d.obj.get("kind")) for d in docs)
    present = sorted({(av, k) for av, k in pairs if isinstance(av, str) and isinstance(k, str)})
    entries = load_index().entries
    for api_version, kind in present:
        entry = entries.get((api_version, kind))
        if entry is None or entry.format == "kubernetes-validate":
            continue
        by_reason: dict[str, list[str]] = {}
        for rule in unevaluated_rules(api_version, kind):
            by_reason.setdefault(rule.reason, []).append(rule.path)
        for reason, paths in by_reason.items():
            notes.append(f"{kind}: CEL rules not evaluated at {', '.join(paths)}: {reason}")
    return notes
