"""Find the Kubernetes resources `gen check` is given: a rendered output directory
(each ``manifests/<cluster>/`` is one cluster) or any directory of YAML manifests
(searched recursively, one cluster).

A document is a resource when it has ``apiVersion`` and ``kind`` and either
``metadata`` or a pinned schema; everything else (``Chart.yaml``, values files,
``kustomization.yaml``, helmfiles) is not Kubernetes and is skipped, as are Helm chart
directories (their templates are not manifests until rendered).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .index import load_index

_YAML = re.compile(r"\.ya?ml$")
_NOT_MANIFESTS = re.compile(
    r"^(kustomization\.ya?ml|Kustomization|Chart\.yaml|values.*\.ya?ml"
    r"|helmfile\.ya?ml)$"
)


@dataclass
class Document:
    file: str  # as shown to the user: the DIR argument as typed + relative path
    index: int  # position among the file's documents
    obj: dict[str, Any]
    duplicate_keys: list[tuple[str, int, int]] = field(default_factory=list)  # key, line, column


@dataclass
class Scope:
    name: str  # "out/manifests/<cluster>" in a rendered output, else the DIR argument
    docs: list[Document]


@dataclass
class FileError:
    file: str
    message: str
    scope: str


@dataclass
class Loaded:
    scopes: list[Scope] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    skipped_charts: list[str] = field(default_factory=list)
    paths: dict[str, Path] = field(default_factory=dict)  # shown file -> path on disk


class NotADirectory(ValueError):
    """A DIR argument is missing or not a directory (a usage error)."""


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]  # base chosen at runtime
    """Safe loader that records duplicate mapping keys (kubectl keeps the last
    silently; kubeconform -strict and the API server's strict decoding reject them)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen = set()
        for key_node, _ in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is not None and key in seen:
                mark = key_node.start_mark
                self.duplicate_keys.append((key, mark.line + 1, mark.column + 1))
            seen.add(key)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep)
        return mapping


def _documents(text: str) -> Iterator[tuple[Any, list[tuple[str, int, int]]]]:
    loader = _Loader(text)
    try:
        while loader.check_data():
            loader.duplicate_keys = []
            data = loader.get_data()
            yield data, loader.duplicate_keys
    finally:
        loader.dispose()


def _is_resource(doc: Any) -> bool:
    if not isinstance(doc, dict):
        return False
    api_version, kind = doc.get("apiVersion"), doc.get("kind")
    if not (isinstance(api_version, str) and isinstance(kind, str)):
        return False
    return "metadata" in doc or (api_version, kind) in load_index().entries


def _yaml_files(root: Path, skipped_charts: list[Path]) -> list[Path]:
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        if here != root and "Chart.yaml" in filenames:
            skipped_charts.append(here)
            dirnames[:] = []
            continue
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found += [here / f for f in filenames if _YAML.search(f) and not _NOT_MANIFESTS.match(f)]
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def _shown(dir_arg: str, root: Path, path: Path) -> str:
    rel = path.relative_to(root).as_posix()
    prefix = dir_arg.rstrip("/")
    return rel if prefix == "." else f"{prefix}/{rel}"  # "/" gives "/rel"


def _read(dir_arg: str, root: Path, out: Loaded) -> Scope:
    scope = dir_arg.rstrip("/") or "/"
    skipped: list[Path] = []
    docs: list[Document] = []
    for path in _yaml_files(root, skipped):
        shown = _shown(dir_arg, root, path)
        out.paths[shown] = path
        try:
            text = path.read_text(encoding="utf-8")
            index = 0
            for doc, dups in _documents(text):
                if _is_resource(doc):
                    docs.append(Document(shown, index, doc, dups))
                    index += 1
        except UnicodeDecodeError as exc:
            out.errors.append(FileError(shown, f"not UTF-8 text: {exc.reason}", scope))
        except OSError as exc:
            out.errors.append(FileError(shown, f"cannot read: {exc.strerror or exc}", scope))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{shown}:{mark.line + 1}:{mark.column + 1}" if mark else shown
            problem = getattr(exc, "problem", None) or str(exc)
            out.errors.append(FileError(where, f"not valid YAML: {problem}", scope))
    out.skipped_charts += [_shown(dir_arg, root, p) for p in skipped]
    return Scope(scope, docs)


def rendered_clusters(root: Path) -> list[Path] | None:
    """``manifests/<cluster>/`` directories when ``root`` is a rendered output."""
    manifests = root / "manifests"
    if not manifests.is_dir():
        return None
    clusters = sorted(p for p in manifests.iterdir() if p.is_dir() and not p.name.startswith("."))
    return clusters or None


def load(dir_args: list[str]) -> Loaded:
    """Read every DIR; raises NotADirectory before reading anything if one is missing."""
    for arg in dir_args:
        if not Path(arg).is_dir():
            raise NotADirectory(
                f"{arg}: " + ("not a directory" if Path(arg).exists() else "no such directory")
            )
    out = Loaded()
    for arg in dict.fromkeys(a.rstrip("/") or "/" for a in dir_args):  # each directory once
        root = Path(arg)
        clusters = rendered_clusters(root)
        if clusters is None:
            out.scopes.append(_read(arg, root, out))
            continue
        for cluster in clusters:
            shown = _shown(arg, root, cluster)  # "out/manifests/<cluster>"
            out.scopes.append(_read(shown, cluster, out))
    return out
