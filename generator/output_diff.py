"""`gen diff` and `gen render --check`: what a new render changes against the files on disk."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

import yaml

from .render.manifests import Resource

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class FileChange:
    path: str
    status: str  # added | changed | removed
    diff: str


@dataclass
class DiffResult:
    files: list[FileChange] = field(default_factory=list)
    resources: dict[str, list[str]] = field(default_factory=dict)  # status -> Kind/name

    @property
    def changed(self) -> bool:
        return bool(self.files)

    def as_dict(self) -> dict[str, Any]:
        return {
            "changed": self.changed,
            "files": [{"path": f.path, "status": f.status} for f in self.files],
            "resources": self.resources,
        }


def _keyed(cluster: str, obj: dict[str, Any]) -> tuple[str, str]:
    """cluster/Kind/name and a canonical dump of one resource, for comparing."""
    meta = obj.get("metadata") or {}
    return f"{cluster}/{obj['kind']}/{meta.get('name', '')}", yaml.safe_dump(obj, sort_keys=True)


def _resources(files: dict[str, bytes]) -> dict[str, str]:
    """The resources of the manifest files on disk, keyed as by _keyed."""
    out: dict[str, str] = {}
    for rel, data in files.items():
        parts = rel.split("/")
        if len(parts) != 3 or parts[0] != "manifests" or parts[2] == "kustomization.yaml":
            continue
        for doc in data.decode().split("\n---\n"):
            obj = yaml.load(doc, Loader=_Loader)
            if isinstance(obj, dict) and "kind" in obj:
                key, dumped = _keyed(parts[1], obj)
                out[key] = dumped
    return out


def diff_files(old: dict[str, bytes], new: dict[str, bytes], rendered: list[Resource]) -> DiffResult:
    """Files and resources added, changed and removed from ``old`` (on disk) to ``new``."""
    result = DiffResult()
    for rel in sorted(set(old) | set(new)):
        a, b = old.get(rel), new.get(rel)
        if a == b:
            continue
        status = "added" if a is None else "removed" if b is None else "changed"
        text = "".join(
            difflib.unified_diff(
                (a or b"").decode(errors="replace").splitlines(keepends=True),
                (b or b"").decode(errors="replace").splitlines(keepends=True),
                fromfile=f"a/{rel}" if a is not None else "/dev/null",
                tofile=f"b/{rel}" if b is not None else "/dev/null",
            )
        )
        result.files.append(FileChange(rel, status, text))
    # the new side is already parsed by the render: no need to read its files back
    before, after = _resources(old), dict(_keyed(r.cluster, r.obj) for r in rendered)
    for status, keys in (
        ("added", sorted(set(after) - set(before))),
        ("removed", sorted(set(before) - set(after))),
        ("changed", sorted(k for k in set(before) & set(after) if before[k] != after[k])),
    ):
        if keys:
            result.resources[status] = keys
    return result
