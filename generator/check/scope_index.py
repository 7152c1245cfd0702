"""Indexes over the resources of one cluster, for the cross-reference checks and lints.

Built once per cluster in one pass; every lookup the checks make afterwards is a dict
access, so checking N resources stays O(N). Objects are taken as parsed YAML and may be
malformed (the schema checks report that): every accessor tolerates wrong types.

KubeRay facts mirrored here (ray-operator/controllers/ray/common/service.go, pod.go at
kuberay@feeaf72f): a RayService X gets Services ``X-head-svc`` (every port of the head
container, default ports when it declares none, plus ``metrics``) and ``X-serve-svc``
(the ports named ``serve`` or ``serve-*``); pods get KubeRay's labels, overridable by the
template except ``ray.io/node-type``, ``ray.io/group`` and ``ray.io/cluster``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .. import catalog
from ..objects import Path, as_dict, as_list, as_port, as_str, group_of, name_of, pod_templates

Key = tuple[str, str, str, str]  # (group, kind, namespace, name)

_RAY = catalog.releases()["ray"]
SERVE_PORT: int = _RAY["servePort"]
METRICS_PORT: int = _RAY["metricsPort"]
# port name -> number of the Ray head ports a route must never reach
PRIVATE_PORTS: dict[str, int] = dict(_RAY["privatePorts"])
_DEFAULT_HEAD_PORTS = {**PRIVATE_PORTS, "metrics": METRICS_PORT, "serve": SERVE_PORT}
_group = catalog.api_group
GATEWAY = (_group("Gateway"), "Gateway")
HEALTH_CHECK_POLICY = (_group("HealthCheckPolicy"), "HealthCheckPolicy")
POOL = (_group("InferencePool"), "InferencePool")

# Kinds that live outside namespaces (the ones gen renders or references).
CLUSTER_SCOPED = {
    ("", "Namespace"),
    ("", "PersistentVolume"),
    (_group("ComputeClass"), "ComputeClass"),
    (_group("ClusterRole"), "ClusterRole"),
    (_group("ClusterRoleBinding"), "ClusterRoleBinding"),
    (_group("Gateway"), "GatewayClass"),
    ("storage.k8s.io", "StorageClass"),
    ("resource.k8s.io", "DeviceClass"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
}
# Labels KubeRay sets on pods at run time with values a manifest cannot know
# (ray.io/cluster of a RayService has a random suffix; ray.io/serve flips with health).
_RAY_RUNTIME_LABELS = {"ray.io/cluster", "ray.io/serve", "ray.io/identifier"}
_RAY_PROTECTED_LABELS = ("ray.io/node-type", "ray.io/group", "ray.io/cluster")
EXPORT_ANNOTATION: str = catalog.keys()["annotations"]["poolExport"]


_CLUSTER_SCOPED_KINDS = frozenset(kind for _, kind in CLUSTER_SCOPED)


def namespace_of(obj: Mapping[str, Any]) -> str:
    """ "" for cluster-scoped kinds; "default" when a namespaced object names none
    (``kubectl apply`` without ``-n`` uses the context's namespace, usually default)."""
    kind = obj.get("kind")
    # the group is read only for a kind some group has cluster-scoped (a large fleet's
    # checks ask this a few hundred thousand times, nearly all for namespaced kinds)
    if kind in _CLUSTER_SCOPED_KINDS and (group_of(obj), kind) in CLUSTER_SCOPED:
        return ""
    return as_str(as_dict(obj.get("metadata")).get("namespace")) or "default"


@dataclass
class Service:
    """A Service as the cluster will have it: written in the manifests, or created by KubeRay."""

    name: str
    namespace: str
    ports: dict[int, str]  # port -> name ("" when unnamed)
    target_ports: dict[int, Any]  # port -> targetPort (int or name)
    type: str = "ClusterIP"
    index: int = -1  # the manifest that defines or implies it
    creator: str | None = None  # 'RayService "x"' when KubeRay creates it
    ray_head: bool = False  # its endpoints are Ray head pods
    selector: dict[str, str] = field(default_factory=dict)


@dataclass
class PodTemplate:
    index: int  # owning resource
    owner: str  # 'RayService "x"'
    labels: dict[str, str]  # as the running pods will have them
    ports: dict[int, str]  # container port -> name
    ray_node: str | None = None  # "head" / "worker" for Ray pods


def _container_ports(pod_spec: dict[str, Any]) -> dict[int, str]:
    ports: dict[int, str] = {}
    for key in ("containers", "initContainers"):  # restartable init containers serve too
        for c in as_list(pod_spec.get(key)):
            for p in as_list(as_dict(c).get("ports")):
                number = as_port(as_dict(p).get("containerPort"))
                if number is not None:
                    ports.setdefault(number, as_str(p.get("name")) or "")
    return ports


def _head_ports(head_template: dict[str, Any]) -> dict[str, int]:
    """KubeRay's getServicePorts: name -> port of the head Service."""
    containers = as_list(as_dict(head_template.get("spec")).get("containers"))
    ports: dict[str, int] = {}
    for p in as_list(as_dict(containers[0]).get("ports")) if containers else []:
        number = as_port(as_dict(p).get("containerPort"))
        if number is not None:
            ports[as_str(p.get("name")) or f"{number}-port"] = number
    ports = ports or dict(_DEFAULT_HEAD_PORTS)
    ports.setdefault("metrics", METRICS_PORT)
    return ports


def _is_serve_port(name: str) -> bool:
    return name == "serve" or name.startswith("serve-")


class Selection:
    """The pod templates a label selector matches, with what the checks ask of them."""

    def __init__(self, templates: list[PodTemplate]):
        self.templates = templates
        self.ports: set[int] = set().union(*(t.ports for t in templates))
        self.owners = sorted({t.owner for t in templates})
        self.ray = any(t.ray_node for t in templates)
        self.ray_head = any(t.ray_node == "head" for t in templates)

    def __bool__(self) -> bool:
        return bool(self.templates)


_MAX_HINTS = 50


class ScopeIndex:
    """Everything the checks look up in one cluster."""

    def __init__(self, objs: Sequence[Mapping[str, Any]]):
        self.objs = objs
        self.objects: dict[Key, int] = {}
        self._by_kind: dict[tuple[str, str], list[int]] = {}  # (group, kind) -> positions
        self.names: dict[tuple[str, str, str], list[str]] = {}  # (group, kind, ns) -> names
        self.namespaces: set[str] = set()
        self.services: dict[tuple[str, str], Service] = {}
        self.templates: list[PodTemplate] = []
        self._by_label: dict[tuple[str, str, str], list[int]] = {}  # (ns, key, value) -> templates
        self._ray_by_ns: dict[str, list[int]] = {}
        self.gateway_classes: dict[tuple[str, str], str | None] = {}
        self.health_checked: set[Key] = set()
        self.exported_pools: set[tuple[str, str]] = set()
        self._selections: dict[tuple[str, tuple[tuple[str, str], ...]], Selection] = {}
        # id(route) -> its parentRefs / backendRefs: the reference check, the lints and the
        # operational rules each ask for them (8 times a route in a gen output)
        self._route_refs: dict[tuple[int, bool], tuple[Mapping[str, Any], list[Ref]]] = {}
        self._hints_left = _MAX_HINTS
        for i, obj in enumerate(objs):
            if isinstance(obj, Mapping):
                self._add(i, obj)

    def _add(self, i: int, obj: Mapping[str, Any]) -> None:
        group, kind, ns, name = group_of(obj), obj.get("kind"), namespace_of(obj), name_of(obj)
        if not isinstance(kind, str):
            return
        self.objects.setdefault((group, kind, ns, name), i)
        self._by_kind.setdefault((group, kind), []).append(i)
        self.names.setdefault((group, kind, ns), []).append(name)
        if ns:
            self.namespaces.add(ns)
        spec = as_dict(obj.get("spec"))
        if (group, kind) == ("", "Service"):
            self._add_service(i, name, ns, spec)
        elif (group, kind) == GATEWAY:
            self.gateway_classes[(ns, name)] = as_str(spec.get("gatewayClassName"))
        elif (group, kind) == HEALTH_CHECK_POLICY:
            ref = as_dict(spec.get("targetRef"))
            self.health_checked.add(
                (
                    as_str(ref.get("group")) or "",
                    as_str(ref.get("kind")) or "",
                    as_str(ref.get("namespace")) or ns,
                    as_str(ref.get("name")) or "",
                )
            )
        elif (group, kind) == POOL:
            annotations = as_dict(as_dict(obj.get("metadata")).get("annotations"))
            if annotations.get(EXPORT_ANNOTATION) == "True":
                self.exported_pools.add((ns, name))
        if kind in ("RayService", "RayCluster") and group == _group("RayService"):
            self._add_ray_services(i, kind, name, ns, spec)
        for _, tpl, ray_node, ray_group in pod_templates(obj):
            self._add_template(i, f'{kind} "{name}"', ns, tpl, ray_node, ray_group)

    def _add_service(self, i: int, name: str, ns: str, spec: dict[str, Any]) -> None:
        ports, targets = {}, {}
        for p in as_list(spec.get("ports")):
            number = as_port(as_dict(p).get("port"))
            if number is not None:
                ports[number] = as_str(p.get("name")) or ""
                targets[number] = p.get("targetPort", number)
        selector = {k: v for k, v in as_dict(spec.get("selector")).items() if isinstance(v, str)}
        self.services.setdefault(
            (ns, name),
            Service(name, ns, ports, targets, as_str(spec.get("type")) or "ClusterIP", i, selector=selector),
        )

    def _add_ray_services(self, i: int, kind: str, name: str, ns: str, spec: dict[str, Any]) -> None:
        cluster = as_dict(spec.get("rayClusterConfig")) if kind == "RayService" else spec
        head = as_dict(cluster.get("headGroupSpec"))
        named = _head_ports(as_dict(head.get("template")))
        creator = f'{kind} "{name}"'
        head_name = f"{name}-head-svc"
        if kind == "RayCluster":  # a RayCluster may rename its head Service
            head_name = (
                as_str(as_dict(as_dict(head.get("headService")).get("metadata")).get("name")) or head_name
            )
        by_port = {port: n for n, port in sorted(named.items())}
        self.services.setdefault(
            (ns, head_name),
            Service(
                head_name,
                ns,
                by_port,
                {p: p for p in by_port},
                as_str(head.get("serviceType")) or "ClusterIP",
                i,
                creator,
                ray_head=True,
            ),
        )
        if kind != "RayService":
            return
        serve = {port: n for n, port in named.items() if _is_serve_port(n)}
        custom = as_dict(spec.get("serveService"))
        if custom:  # spec.serveService: user ports merged in, name may be overridden
            user: dict[int, str] = {}
            for p in as_list(as_dict(custom.get("spec")).get("ports")):
                port = as_port(as_dict(p).get("port"))
                if port is not None:
                    user[port] = as_str(as_dict(p).get("name")) or ""
            if not serve:
                serve = {p: n for p, n in user.items() if _is_serve_port(n)}
        serve_name = as_str(as_dict(custom.get("metadata")).get("name")) or f"{name}-serve-svc"
        self.services.setdefault(
            (ns, serve_name),
            Service(serve_name, ns, serve, {p: p for p in serve}, "ClusterIP", i, creator),
        )

    def _add_template(
        self, i: int, owner: str, ns: str, tpl: dict[str, Any], ray_node: str | None, ray_group: str
    ) -> None:
        spec = as_dict(tpl.get("spec"))
        labels = {
            k: v for k, v in as_dict(as_dict(tpl.get("metadata")).get("labels")).items() if isinstance(v, str)
        }
        ports = _container_ports(spec)
        if ray_node:
            labels = {
                "ray.io/is-ray-node": "yes",
                "app.kubernetes.io/name": "kuberay",
                "app.kubernetes.io/created-by": "kuberay-operator",
                **labels,
                "ray.io/node-type": ray_node,
                "ray.io/group": ray_group,
            }
            ports.setdefault(SERVE_PORT, "serve")  # Ray Serve's proxy listens on every node
        t = len(self.templates)
        self.templates.append(PodTemplate(i, owner, labels, ports, ray_node))
        for kv in labels.items():
            self._by_label.setdefault((ns, *kv), []).append(t)
        if ray_node:
            self._ray_by_ns.setdefault(ns, []).append(t)

    def parents(self, route: Mapping[str, Any]) -> list[Ref]:
        """route_parents(route), read once per indexed route."""
        return self._refs(route, True)

    def backends(self, route: Mapping[str, Any]) -> list[Ref]:
        """route_backends(route), read once per indexed route."""
        return self._refs(route, False)

    def _refs(self, route: Mapping[str, Any], parents: bool) -> list[Ref]:
        key = (id(route), parents)
        found = self._route_refs.get(key)
        if found is None or found[0] is not route:  # held: its id is not reused meanwhile
            found = self._route_refs[key] = (
                route,
                list(route_parents(route) if parents else route_backends(route)),
            )
        return found[1]

    def of_kinds(self, *kinds: tuple[str, str]) -> list[int]:
        """Positions of the resources of these (group, kind)s, in order: the rules that
        read one kind need not look at every resource of a large cluster."""
        return sorted(i for k in set(kinds) for i in self._by_kind.get(k, ()))

    def named(self, *kinds: str) -> list[int]:
        """Positions of the resources of these kinds in any group, in order."""
        return sorted(i for (_, k), found in self._by_kind.items() if k in kinds for i in found)

    def select(self, ns: str, selector: Mapping[str, Any]) -> Selection:
        """Pod templates in ``ns`` whose pods carry every label of ``selector``.

        Cached per selector: many pools or Services with one selector cost one lookup."""
        items = tuple(
            sorted((k, v) for k, v in selector.items() if isinstance(k, str) and isinstance(v, str))
        )
        key = (ns, items)
        if key not in self._selections:
            self._selections[key] = Selection([self.templates[t] for t in sorted(self._match(ns, items))])
        return self._selections[key]

    def _match(self, ns: str, items: tuple[tuple[str, str], ...]) -> set[int]:
        exact = [(k, v) for k, v in items if k not in _RAY_RUNTIME_LABELS]
        runtime_only = len(exact) < len(items)
        if exact:
            sets = sorted((self._by_label.get((ns, k, v), []) for k, v in exact), key=len)
            found = set(sets[0]).intersection(*sets[1:])
        else:
            found = set(self._ray_by_ns.get(ns, ())) if runtime_only else set()
        if runtime_only:  # only KubeRay sets those labels: only Ray pods can match
            found = {t for t in found if self.templates[t].ray_node}
        return found

    def similar(self, group: str, kind: str, ns: str, name: str) -> str | None:
        """The closest existing name, for "did you mean" (only computed on a miss, and
        only for the first misses: each costs a scan of the names)."""
        import difflib

        if self._hints_left <= 0:
            return None
        self._hints_left -= 1
        pool = self.names.get((group, kind, ns), [])
        if (group, kind) == ("", "Service"):
            pool = [n for (s_ns, n) in self.services if s_ns == ns]
        close = difflib.get_close_matches(name, pool, n=1, cutoff=0.75)
        return close[0] if close else None


class Ref(NamedTuple):
    """A reference field with the API's defaults applied (a NamedTuple: a gen output's
    routes and policies make thousands, built several times faster than a frozen dataclass)."""

    path: Path
    group: str
    kind: str
    name: str | None
    namespace: str | None
    port: int | None

    def target_ns(self, own_ns: str) -> str:
        return self.namespace or own_ns


def make_ref(path: Path, raw: Any, group: str, kind: str) -> Ref:
    raw = as_dict(raw)
    g = raw.get("group")
    port = raw.get("port")
    return Ref(
        path,
        g if isinstance(g, str) else group,
        as_str(raw.get("kind")) or kind,
        as_str(raw.get("name")),
        as_str(raw.get("namespace")),
        as_port(as_dict(port).get("number")) if isinstance(port, dict) else as_port(port),
    )


def route_parents(obj: Mapping[str, Any]) -> Iterator[Ref]:
    for i, raw in enumerate(as_list(as_dict(obj.get("spec")).get("parentRefs"))):
        yield make_ref(("spec", "parentRefs", i), raw, *GATEWAY)


def route_backends(obj: Mapping[str, Any]) -> Iterator[Ref]:
    for i, rule in enumerate(as_list(as_dict(obj.get("spec")).get("rules"))):
        for j, raw in enumerate(as_list(as_dict(rule).get("backendRefs"))):
            yield make_ref(("spec", "rules", i, "backendRefs", j), raw, "", "Service")


ROUTE_KINDS = {(_group("HTTPRoute"), "HTTPRoute"), (_group("HTTPRoute"), "GRPCRoute")}
POOL_IMPORT = (_group("GCPInferencePoolImport"), "GCPInferencePoolImport")
