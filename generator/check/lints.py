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

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..diagnostics import Finding, Problem, format_path
from ..objects import Path, as_dict, as_list, as_port, name_of
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
    classes = (ix.gateway_classes.get((ref.target_ns(ns), ref.name or "")) for ref in ix.parents(route))
    return any(str(c or "").startswith(GKE_CLASS_PREFIX) for c in classes)


@dataclass(frozen=True)
class Lint:
    """What a lint sees: one cluster's index, and whether a reference resolves (a lint
    skips what the reference check already reports)."""

    ix: ScopeIndex
    resolves: Resolves

    def objects(self, *kinds: tuple[str, str]) -> Iterator[tuple[int, Mapping[str, Any]]]:
        for i in self.ix.of_kinds(*kinds):  # only mappings are indexed
            yield i, self.ix.objs[i]

    def is_ray_head(self, svc: Service) -> bool:
        return svc.ray_head or (bool(svc.selector) and self.ix.select(svc.namespace, svc.selector).ray_head)

    def resolved_backends(self, route: Mapping[str, Any]) -> Iterator[tuple[Ref, str]]:
        ns = namespace_of(route)
        for ref in self.ix.backends(route):
            if self.resolves(self.ix, ref.target_ns(ns), ref):
                yield ref, ref.target_ns(ns)


# A rule yields (index of the offending resource, path in it, message).
Found = Iterator[tuple[int, Path, str]]


def route_timeouts_ignored_on_gke(cx: Lint) -> Found:
    """GKE ignores HTTPRoute timeouts: GCPBackendPolicy timeoutSec is what it applies."""
    for i, route in cx.objects(*ROUTE_KINDS):
        if on_gke_gateway(cx.ix, route):
            for k, rule in enumerate(as_list(as_dict(route.get("spec")).get("rules"))):
                if "timeouts" in as_dict(rule):
                    yield i, ("spec", "rules", k, "timeouts"), TIMEOUTS_MESSAGE


def backends_have_health_checks(cx: Lint) -> Found:
    """GKE's default probe (GET / on the serving port) does not match Ray Serve's health
    endpoint: every backend of a route on a GKE gateway needs a HealthCheckPolicy."""
    for i, route in cx.objects(*ROUTE_KINDS):
        if not on_gke_gateway(cx.ix, route):
            continue
        for ref, ns in cx.resolved_backends(route):
            if (ref.group, ref.kind) in _HEALTH_CHECKED_KINDS and (
                ref.group,
                ref.kind,
                ns,
                ref.name,
            ) not in cx.ix.health_checked:
                yield (
                    i,
                    ref.path,
                    f'no HealthCheckPolicy targets {ref.kind} "{ref.name}" '
                    "(GKE would probe GET / on the serving port)",
                )


def routes_reach_only_serve_port(cx: Lint) -> Found:
    """A route to the Ray head reaches only Ray Serve's port, never GCS or the dashboard."""
    for i, route in cx.objects(*ROUTE_KINDS):
        for ref, ns in cx.resolved_backends(route):
            svc = cx.ix.services.get((ns, ref.name or "")) if ref.kind == "Service" else None
            if svc is not None and ref.port is not None and cx.is_ray_head(svc):
                what = _service_private(svc, ref.port)
                if what:
                    yield (
                        i,
                        (*ref.path, "port"),
                        f'routes to {what} of Service "{svc.name}"; routes must reach only the '
                        f"Ray Serve port ({SERVE_PORT})",
                    )


def pools_target_only_serve_port(cx: Lint) -> Found:
    """An InferencePool over Ray pods sends gateway traffic to Ray Serve's port only."""
    for i, pool in cx.objects(POOL):
        spec = as_dict(pool.get("spec"))
        labels = as_dict(as_dict(spec.get("selector")).get("matchLabels"))
        if labels and cx.ix.select(namespace_of(pool), labels).ray:
            for k, tp in enumerate(as_list(spec.get("targetPorts"))):
                what = _private(as_dict(tp).get("number"))
                if what:
                    yield (
                        i,
                        ("spec", "targetPorts", k, "number"),
                        f"sends gateway traffic to {what} of the Ray pods; target only the "
                        f"Ray Serve port ({SERVE_PORT})",
                    )


def ray_head_ports_stay_private(cx: Lint) -> Found:
    """No LoadBalancer or NodePort Service exposes the Ray head's private ports."""
    for svc in cx.ix.services.values():
        if svc.type not in _EXPOSING_TYPES or not cx.is_ray_head(svc):
            continue
        obj = cx.ix.objs[svc.index]
        if svc.creator:  # KubeRay's head Service, typed by headGroupSpec.serviceType
            exposed = list(filter(None, (_service_private(svc, p) for p in sorted(svc.ports))))
            if exposed:
                head = ("spec", "rayClusterConfig") if obj.get("kind") == "RayService" else ("spec",)
                yield (
                    svc.index,
                    (*head, "headGroupSpec", "serviceType"),
                    f"{svc.type} exposes {', '.join(exposed)} outside the cluster; use ClusterIP "
                    "and route only the Ray Serve port",
                )
            continue
        for k, raw in enumerate(as_list(as_dict(obj.get("spec")).get("ports"))):
            number = as_port(as_dict(raw).get("port"))
            what = _service_private(svc, number) if number is not None else None
            if what:
                yield (
                    svc.index,
                    ("spec", "ports", k),
                    f"{svc.type} Service exposes {what} outside the cluster; keep Ray's head "
                    "ports on a ClusterIP Service",
                )


# Every GKE lint, in one place: adding a lint is a function above, a line here and a
# negative case under tests/check/negative/.
LINTS: tuple[Callable[[Lint], Found], ...] = (
    route_timeouts_ignored_on_gke,
    backends_have_health_checks,
    routes_reach_only_serve_port,
    pools_target_only_serve_port,
    ray_head_ports_stay_private,
)


def lint(scope: str, ix: ScopeIndex, resolves: Resolves) -> list[Finding]:
    cx = Lint(ix, resolves)
    out = []
    for rule in LINTS:
        for i, path, message in rule(cx):
            obj = ix.objs[i]
            problem = Problem(str(obj.get("kind")), name_of(obj), format_path(path), message)
            out.append(Finding(scope, i, problem, "lint"))
    return out
