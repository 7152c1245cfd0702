"""Strict schemas of built-in kinds, from the pinned ``kubernetes-validate`` package.

kubernetes-validate ships one strict JSON schema per kind and Kubernetes minor plus a
1.5 MB ``_definitions.json``. Its own ``validate()`` re-reads both and rebuilds a
pure-Python validator on every call; here each kind is bundled once per process (only
the definitions it reaches) and compiled with jsonschema_rs.
"""

from __future__ import annotations

import copy
import functools
import importlib.util
import json
import re
from pathlib import Path
from typing import Any

_DEFS_REF = re.compile(r"^(?:/api/_definitions\.json)?#/\$defs/(.+)$")
_INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"


def _package_dir() -> Path:
    # located, not imported: importing it (jsonschema, urllib...) took ~70 ms of every gen check
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or spec.origin is None:  # pragma: no cover - environment problem
        raise RuntimeError(
            "validating built-in kinds needs the kubernetes-validate package "
            "(pip install kubernetes-validate==1.37.0)"
        )
    return Path(spec.origin).resolve().parent / "kubernetes-json-schema"


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


# Fields the OpenAPI documents mark required (Go fields without omitempty) that the API
# server accepts absent. EndpointSlice.endpoints: kubernetes/kubernetes#135968, fixed in
# the OpenAPI by #136111 (2026-01); the kubernetes-validate schemas predate the fix.
SERVER_OPTIONAL: dict[str, tuple[str, ...]] = {
    "io.k8s.api.discovery.v1.EndpointSlice": ("endpoints",),
}


def _definition_of(api_version: str, kind: str, defs: dict[str, Any]) -> str:
    """The definition whose group-version-kind is ``api_version`` ``kind``."""
    for name, definition in defs.items():
        gvks = definition.get("x-kubernetes-group-version-kind") or []
        if len(gvks) == 1 and gvks[0].get("kind") == kind and _api_version(gvks[0]) == api_version:
            return name
    return ""


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
    own = _definition_of(api_version, kind, defs)
    for name, fields in SERVER_OPTIONAL.items():
        node = bundled if name == own else wanted.get(name)
        if isinstance(node, dict) and "required" in node:
            node["required"] = [r for r in node["required"] if r not in fields]
    bundled.pop("$id", None)
    if _INT_OR_STRING in wanted:  # lets schemas.py word the error like for custom resources
        wanted[_INT_OR_STRING] = {**wanted[_INT_OR_STRING], "x-kubernetes-int-or-string": True}
    bundled["$defs"] = wanted
    return bundled


def _api_version(gvk: dict[str, str]) -> str:
    return f"{gvk['group']}/{gvk['version']}" if gvk.get("group") else gvk["version"]


@functools.lru_cache(maxsize=None)  # noqa: UP033  # small sets, one per minor
def builtin_kinds(kube_minor: str) -> frozenset[tuple[str, str]]:
    """Every (apiVersion, kind) Kubernetes ``kube_minor`` serves that kubernetes-validate
    has a strict schema for (read from the definitions' group-version-kind)."""
    strict = _strict_dir(kube_minor)
    out = set()
    for definition in _definitions(kube_minor).values():
        gvks = definition.get("x-kubernetes-group-version-kind") or []
        if len(gvks) != 1:  # DeleteOptions, WatchEvent: in every group, not resources
            continue
        api_version, kind = _api_version(gvks[0]), gvks[0]["kind"]
        if (strict / _file_name(api_version, kind)).is_file():
            out.add((api_version, kind))
    return frozenset(out)


# APIs Kubernetes removed before the oldest minor kubernetes-validate ships (1.25); later
# removals are read from the schemas themselves. Source: the Kubernetes "Deprecated API
# Migration Guide" (kubernetes.io/docs/reference/using-api/deprecation-guide/).
_REMOVED_EARLY: dict[tuple[str, str], tuple[str, str]] = {
    **{
        (av, k): ("1.16", "apps/v1")
        for av in ("extensions/v1beta1", "apps/v1beta1", "apps/v1beta2")
        for k in ("Deployment", "DaemonSet", "ReplicaSet", "StatefulSet")
        if not (av == "extensions/v1beta1" and k == "StatefulSet")
    },
    ("extensions/v1beta1", "NetworkPolicy"): ("1.16", "networking.k8s.io/v1"),
    ("extensions/v1beta1", "PodSecurityPolicy"): ("1.16", ""),
    ("extensions/v1beta1", "Ingress"): ("1.22", "networking.k8s.io/v1"),
    ("networking.k8s.io/v1beta1", "Ingress"): ("1.22", "networking.k8s.io/v1"),
    ("networking.k8s.io/v1beta1", "IngressClass"): ("1.22", "networking.k8s.io/v1"),
    ("admissionregistration.k8s.io/v1beta1", "MutatingWebhookConfiguration"): (
        "1.22",
        "admissionregistration.k8s.io/v1",
    ),
    ("admissionregistration.k8s.io/v1beta1", "ValidatingWebhookConfiguration"): (
        "1.22",
        "admissionregistration.k8s.io/v1",
    ),
    ("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition"): ("1.22", "apiextensions.k8s.io/v1"),
    ("apiregistration.k8s.io/v1beta1", "APIService"): ("1.22", "apiregistration.k8s.io/v1"),
    ("authentication.k8s.io/v1beta1", "TokenReview"): ("1.22", "authentication.k8s.io/v1"),
    **{
        ("authorization.k8s.io/v1beta1", k): ("1.22", "authorization.k8s.io/v1")
        for k in (
            "LocalSubjectAccessReview",
            "SelfSubjectAccessReview",
            "SubjectAccessReview",
            "SelfSubjectRulesReview",
        )
    },
    ("certificates.k8s.io/v1beta1", "CertificateSigningRequest"): ("1.22", "certificates.k8s.io/v1"),
    ("coordination.k8s.io/v1beta1", "Lease"): ("1.22", "coordination.k8s.io/v1"),
    **{
        ("rbac.authorization.k8s.io/v1beta1", k): ("1.22", "rbac.authorization.k8s.io/v1")
        for k in ("ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")
    },
    ("scheduling.k8s.io/v1beta1", "PriorityClass"): ("1.22", "scheduling.k8s.io/v1"),
    **{
        ("storage.k8s.io/v1beta1", k): ("1.22", "storage.k8s.io/v1")
        for k in ("CSIDriver", "CSINode", "StorageClass", "VolumeAttachment")
    },
    ("batch/v1beta1", "CronJob"): ("1.25", "batch/v1"),
    ("discovery.k8s.io/v1beta1", "EndpointSlice"): ("1.25", "discovery.k8s.io/v1"),
    ("events.k8s.io/v1beta1", "Event"): ("1.25", "events.k8s.io/v1"),
    ("autoscaling/v2beta1", "HorizontalPodAutoscaler"): ("1.25", "autoscaling/v2"),
    ("policy/v1beta1", "PodDisruptionBudget"): ("1.25", "policy/v1"),
    ("policy/v1beta1", "PodSecurityPolicy"): ("1.25", ""),
    ("node.k8s.io/v1beta1", "RuntimeClass"): ("1.25", "node.k8s.io/v1"),
}


def _minor_key(v: str) -> tuple[int, int]:
    a, b = v.split(".")
    return int(a), int(b)


def removed(api_version: str, kind: str, kube_minor: str) -> tuple[str, str] | None:
    """(the minor that removed ``api_version`` ``kind``, the apiVersion to use instead
    ("" when the kind is gone)) when Kubernetes ``kube_minor`` no longer serves it."""
    key = (api_version, kind)
    if key in builtin_kinds(kube_minor):
        return None
    versions = supported_versions()
    older = [v for v in versions if _minor_key(v) < _minor_key(kube_minor)]
    removed_in = None
    for i, v in enumerate(older):
        if key in builtin_kinds(v):
            later = [*older[i + 1 :], kube_minor]
            removed_in = next(w for w in later if key not in builtin_kinds(w))
    if removed_in is None:
        if key not in _REMOVED_EARLY:
            return None
        removed_in, _ = _REMOVED_EARLY[key]
    return removed_in, replacement(api_version, kind, kube_minor)


def added_in(api_version: str, kind: str, kube_minor: str) -> str | None:
    """The first newer minor that serves ``api_version`` ``kind`` (None if none)."""
    for v in supported_versions():
        if _minor_key(v) > _minor_key(kube_minor) and (api_version, kind) in builtin_kinds(v):
            return v
    return None


def replacement(api_version: str, kind: str, kube_minor: str) -> str:
    """The apiVersion ``kube_minor`` serves ``kind`` under: the same group first, GA
    before beta before alpha; "" when none."""
    group = api_version.rpartition("/")[0]
    candidates = [av for av, k in builtin_kinds(kube_minor) if k == kind]
    if not candidates:
        return ""

    def rank(av: str) -> tuple[int, int, int, int, str]:
        m = re.fullmatch(r"v(\d+)(?:(alpha|beta)(\d+))?", av.rpartition("/")[2])
        major, level, sub = (int(m.group(1)), m.group(2), int(m.group(3) or 0)) if m else (0, "alpha", 0)
        stability = {None: 0, "beta": 1}.get(level, 2)
        return (0 if av.rpartition("/")[0] == group else 1, stability, -major, -sub, av)

    return sorted(candidates, key=rank)[0]
