"""Strict schemas of built-in kinds, from the pinned ``kubernetes-validate`` package.

kubernetes-validate ships one strict JSON schema per kind and Kubernetes minor plus a
1.5 MB ``_definitions.json``. Its own ``validate()`` re-reads both and rebuilds a
pure-Python validator on every call; here each kind is bundled once per process (only
the definitions it reaches) and compiled with jsonschema_rs.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from pathlib import Path
from typing import Any

_DEFS_REF = re.compile(r"^(?:/api/_definitions\.json)?#/\$defs/(.+)$")
_INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"


def _package_dir() -> Path:
    try:
        import kubernetes_validate
    except ImportError as exc:  # pragma: no cover - environment problem, not a resource problem
        raise RuntimeError(
            "validating built-in kinds needs the kubernetes-validate package "
            "(pip install kubernetes-validate==1.37.0)"
        ) from exc
    return Path(kubernetes_validate.__file__).resolve().parent / "kubernetes-json-schema"


@functools.lru_cache(maxsize=1)
def supported_versions() -> tuple[str, ...]:
    """Kubernetes minors ("1.35") the installed kubernetes-validate has strict schemas for."""
    found = []
    for d in _package_dir().iterdir():
        m = re.match(r"^v(\d+)\.(\d+)\.\d+-local-strict$", d.name)
        if m:
            found.append((int(m.group(1)), int(m.group(2))))
    return tuple(f"{a}.{b}" for a, b in sorted(found))


def minor(version: str) -> str:
    m = re.match(r"^v?(\d+)\.(\d+)", version)
    if not m:
        raise ValueError(f"not a Kubernetes version: {version!r}")
    return f"{m.group(1)}.{m.group(2)}"


def _strict_dir(kube_minor: str) -> Path:
    if kube_minor not in supported_versions():
        raise ValueError(
            f"kubernetes-validate has no schemas for Kubernetes {kube_minor}; "
            f"supported: {', '.join(supported_versions())}"
        )
    return _package_dir() / f"v{kube_minor}.0-local-strict"


@functools.lru_cache(maxsize=4)
def _definitions(kube_minor: str) -> dict[str, Any]:
    with open(_strict_dir(kube_minor) / "_definitions.json", encoding="utf-8") as f:
        defs: dict[str, Any] = json.load(f)["$defs"]
    return defs


def _file_name(api_version: str, kind: str) -> str:
    # Same naming as kubernetes_validate.utils.validate: "rbac.authorization.k8s.io/v1" -> "rbac-v1".
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    return f"{kind.lower()}-{group_version}.json"


def bundled_schema(api_version: str, kind: str, kube_minor: str) -> dict[str, Any] | None:
    """One self-contained schema (``$defs`` inlined), or None if the kind is not shipped."""
    path = _strict_dir(kube_minor) / _file_name(api_version, kind)
    if not path.is_file():
        return None
    with open(path, encoding="utf-8") as f:
        root = json.load(f)
    defs = _definitions(kube_minor)
    wanted: dict[str, Any] = {}

    def rewrite(node: Any, is_properties: bool = False) -> Any:
        if isinstance(node, dict):
            out = {}
            for k, v in node.items():
                if is_properties:  # keys are field names, "description" included
                    out[k] = rewrite(v)
                elif k == "$ref" and isinstance(v, str):
                    m = _DEFS_REF.match(v)
                    if not m:
                        raise ValueError(f"unexpected $ref {v!r} in {path.name}")
                    name = m.group(1)
                    if name not in wanted:
                        wanted[name] = None  # reserve before recursing: definitions are cyclic
                        wanted[name] = rewrite(copy.deepcopy(defs[name]))
                    out[k] = f"#/$defs/{name}"
                elif k != "description":
                    out[k] = rewrite(v, is_properties=(k in ("properties", "patternProperties")))
            return out
        if isinstance(node, list):
            return [rewrite(x) for x in node]
        return node

    bundled: dict[str, Any] = rewrite(root)
    bundled.pop("$id", None)
    if _INT_OR_STRING in wanted:  # lets schemas.py word the error like for custom resources
        wanted[_INT_OR_STRING] = {**wanted[_INT_OR_STRING], "x-kubernetes-int-or-string": True}
    bundled["$defs"] = wanted
    return bundled
