"""GKE provider lints: output the API server accepts but GKE mishandles or that exposes
what must stay private.

- HTTPRoute ``timeouts`` on a GKE gateway class are ignored (GCPBackendPolicy's
  ``timeoutSec`` is what GKE applies);
- every backend of a route on a GKE gateway needs a HealthCheckPolicy (GKE's default
  probe, ``GET /`` on the serving port, does not match Ray Serve's health endpoint);
- the Ray head's private ports (GCS, dashboard, client; catalog ``ray.privatePorts``)
  are never reachable through a route, an InferencePool, or a LoadBalancer/NodePort
  Service.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..diagnostics import Finding, Problem, format_path
from ..objects import Path, as_dict, as_list, as_port, group_of, name_of
from .scope_index import (
    POOL,
    POOL_IMPORT,
    PRIVATE_PORTS,
    ROUTE_KINDS,
    SERVE_PORT,
    Ref,
    ScopeIndex,
    Service,
    namespace_of,
    route_backends,
    route_parents,
)

GKE_CLASS_PREFIX = "gke-l7-"
TIMEOUTS_MESSAGE = "GKE ignores HTTPRoute timeouts; use GCPBackendPolicy timeoutSec"
_PRIVATE_BY_NUMBER = {number: name for name, number in PRIVATE_PORTS.items()}
_EXPOSING_TYPES = ("LoadBalancer", "NodePort")
_HEALTH_CHECKED_KINDS = {("", "Service"), POOL, POOL_IMPORT}

Resolves = Callable[[ScopeIndex, str, Ref], bool]


def _private(port: Any, name: str = "") -> str | None:
    """'the Ray dashboard port (8265)' when a port number or name is a private Ray port."""
    if isinstance(port, str) and port in PRIVATE_PORTS:
        name, port = port, PRIVATE_PORTS[port]
    elif as_port(port) in _PRIVATE_BY_NUMBER:
        name = _PRIVATE_BY_NUMBER[port]
    elif name in PRIVATE_PORTS:
        port = PRIVATE_PORTS[name]
    else:
        return None
    return f"the Ray {name} port ({port})"


def _service_private(svc: Service, port: int) -> str | None:
    return _private(port, svc.ports.get(port, "")) or _private(svc.target_ports.get(port))


def on_gke_gateway(ix: ScopeIndex, route: Mapping[str, Any]) -> bool:
    """The route attaches to a Gateway of a GKE gateway class (gke-l7-*)."""
    ns = namespace_of(route)
    classes = (ix.gateway_classes.get((ref.target_ns(ns), ref.name or "")) for ref in route_parents(route))
    return any(str(c or "").startswith(GKE_CLASS_PREFIX) for c in classes)


def lint(scope: str, ix: ScopeIndex, resolves: Resolves) -> list[Finding]:
    out: list[Finding] = []

    def add(i: int, obj: Mapping[str, Any], path: Path, message: str) -> None:
        out.append(
            Finding(scope, i, Problem(str(obj.get("kind")), name_of(obj), format_path(path), message), "lint")
        )

    def is_ray_head(svc: Service) -> bool:
        return svc.ray_head or (bool(svc.selector) and ix.select(svc.namespace, svc.selector).ray_head)

    # typed as mappings, but a scope is whatever YAML held: anything else is skipped
    objs: Sequence[object] = ix.objs
    for i, obj in enumerate(objs):
        if not isinstance(obj, Mapping):
            continue
        gk, ns = (group_of(obj), obj.get("kind")), namespace_of(obj)
        if gk in ROUTE_KINDS:
            gke = on_gke_gateway(ix, obj)
            for k, rule in enumerate(as_list(as_dict(obj.get("spec")).get("rules"))):
                if gke and "timeouts" in as_dict(rule):
                    add(i, obj, ("spec", "rules", k, "timeouts"), TIMEOUTS_MESSAGE)
            for ref in route_backends(obj):
                target_ns = ref.target_ns(ns)
                if not resolves(ix, target_ns, ref):
                    continue
                if (
                    gke
                    and (ref.group, ref.kind) in _HEALTH_CHECKED_KINDS
                    and (ref.group, ref.kind, target_ns, ref.name) not in ix.health_checked
                ):
                    add(
                        i,
                        obj,
                        ref.path,
                        f'no HealthCheckPolicy targets {ref.kind} "{ref.name}" '
                        "(GKE would probe GET / on the serving port)",
                    )
                svc = ix.services.get((target_ns, ref.name or "")) if ref.kind == "Service" else None
                if svc is not None and ref.port is not None and is_ray_head(svc):
                    what = _service_private(svc, ref.port)
                    if what:
                        add(
                            i,
                            obj,
                            (*ref.path, "port"),
                            f'routes to {what} of Service "{svc.name}"; routes must reach only the '
                            f"Ray Serve port ({SERVE_PORT})",
                        )
        elif gk == POOL:
            spec = as_dict(obj.get("spec"))
            labels = as_dict(as_dict(spec.get("selector")).get("matchLabels"))
            if labels and ix.select(ns, labels).ray:
                for k, tp in enumerate(as_list(spec.get("targetPorts"))):
                    what = _private(as_dict(tp).get("number"))
                    if what:
                        add(
                            i,
                            obj,
                            ("spec", "targetPorts", k, "number"),
                            f"sends gateway traffic to {what} of the Ray pods; target only the "
                            f"Ray Serve port ({SERVE_PORT})",
                        )

    for svc in ix.services.values():
        if svc.type not in _EXPOSING_TYPES or not is_ray_head(svc):
            continue
        obj = ix.objs[svc.index]
        if svc.creator:  # KubeRay's head Service, typed by headGroupSpec.serviceType
            exposed = list(filter(None, (_service_private(svc, p) for p in sorted(svc.ports))))
            if exposed:
                head = ("spec", "rayClusterConfig") if obj.get("kind") == "RayService" else ("spec",)
                add(
                    svc.index,
                    obj,
                    (*head, "headGroupSpec", "serviceType"),
                    f"{svc.type} exposes {', '.join(exposed)} outside the cluster; use ClusterIP "
                    "and route only the Ray Serve port",
                )
            continue
        for k, raw in enumerate(as_list(as_dict(obj.get("spec")).get("ports"))):
            number = as_port(as_dict(raw).get("port"))
            what = _service_private(svc, number) if number is not None else None
            if what:
                add(
                    svc.index,
                    obj,
                    ("spec", "ports", k),
                    f"{svc.type} Service exposes {what} outside the cluster; keep Ray's head "
                    "ports on a ClusterIP Service",
                )
    return out
