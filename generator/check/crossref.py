"""Cross-reference checks over the resources of every cluster of one output, plus the
GKE lints (lints.py): what no per-resource schema can see.

Pure and cheap (one indexing pass per cluster, then dict lookups), so ``gen render``
runs it before writing anything::

    findings = check_references({"default": [obj, ...], "gke-east": [...]})

Each ``Finding`` names its cluster and the position of the offending resource in that
cluster's sequence. References resolve in the referrer's namespace unless the reference
names another; a namespace none of the cluster's resources live in is not checked
(its objects are managed elsewhere). Not required to exist: Secrets (users create
them), and ServiceAccounts other than those gen renders (see ``_service_accounts``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..diagnostics import Finding, Problem, format_path
from ..objects import Path, as_dict, as_list, as_port, as_str, group_of, name_of, pod_templates
from . import lints
from .scope_index import (
    POOL,
    POOL_IMPORT,
    ROUTE_KINDS,
    Ref,
    ScopeIndex,
    Service,
    make_ref,
    namespace_of,
)

__all__ = ["Finding", "check_references", "index_scopes"]

GEN_ANNOTATION = "gen.llm-fleet.dev/generator"
COMPUTE_CLASS_LABEL = "cloud.google.com/compute-class"
# GKE's built-in compute classes exist without a ComputeClass object (Autopilot docs,
# "About built-in compute classes").
BUILTIN_COMPUTE_CLASSES = {
    "autopilot",
    "autopilot-spot",
    "Accelerator",
    "Balanced",
    "Performance",
    "Scale-Out",
}


def index_scopes(scopes: Mapping[str, Sequence[Mapping[str, Any]]]) -> dict[str, ScopeIndex]:
    """One index per cluster, to share between the reference and the operational checks."""
    return {scope: ScopeIndex(objs) for scope, objs in scopes.items()}


def check_references(
    scopes: Mapping[str, Sequence[Mapping[str, Any]]], indexes: Mapping[str, ScopeIndex] | None = None
) -> list[Finding]:
    """Dangling references and GKE lints in every cluster of one output (``indexes``:
    index_scopes(scopes), when the caller already built them).

    An import (``GCPInferencePoolImport``) resolves against the InferencePools exported
    by ANY of the clusters, so pass all clusters of an output in one call.
    """
    indexes = indexes if indexes is not None else index_scopes(scopes)
    world = _World(indexes)
    out: list[Finding] = []
    for scope, ix in indexes.items():
        out.extend(_Checker(scope, ix, world).run())
        out.extend(lints.lint(scope, ix, world.resolves))
    return out


class _World:
    """Facts spanning clusters: which InferencePools exist and which are exported."""

    def __init__(self, indexes: Mapping[str, ScopeIndex]):
        self.exported = set().union(*(ix.exported_pools for ix in indexes.values()))
        self.pools = {(ns, n) for ix in indexes.values() for (g, k, ns, n) in ix.objects if (g, k) == POOL}

    def import_problem(self, ix: ScopeIndex, ns: str, name: str) -> str | None:
        if (ns, name) in self.exported or (*POOL_IMPORT, ns, name) in ix.objects:
            return None
        why = (
            f'InferencePool "{name}" is not exported (annotate it networking.gke.io/export: "True")'
            if (ns, name) in self.pools
            else f'no cluster has an InferencePool "{name}" in namespace "{ns}"'
        )
        return f'GCPInferencePoolImport "{name}" has no source: {why}'

    def resolves(self, ix: ScopeIndex, ns: str, ref: Ref) -> bool:
        """The backend or policy target exists (lints skip what is already reported)."""
        if ref.name is None:
            return False
        if (ref.group, ref.kind) == ("", "Service"):
            return (ns, ref.name) in ix.services
        if (ref.group, ref.kind) == POOL_IMPORT:
            return self.import_problem(ix, ns, ref.name) is None
        return (ref.group, ref.kind, ns, ref.name) in ix.objects


def _ports(svc: Service) -> str:
    return ", ".join(str(p) for p in sorted(svc.ports)) or "none"


class _Checker:
    def __init__(self, scope: str, ix: ScopeIndex, world: _World):
        self.scope, self.ix, self.world = scope, ix, world
        self.out: list[Finding] = []

    def run(self) -> list[Finding]:
        by_kind: dict[tuple[str, str], list[Callable[[_Checker, int, Mapping[str, Any]], None]]] = {}
        for i, obj in enumerate(self.ix.objs):
            if not isinstance(obj, Mapping) or not isinstance(obj.get("kind"), str):
                continue
            gk = (group_of(obj), obj["kind"])
            checks = by_kind.get(gk)
            if checks is None:  # the checks of one kind, in their order: looked up once per kind
                checks = by_kind[gk] = [
                    check
                    for kinds, check in REFERENCE_CHECKS
                    if kinds is None or gk in kinds or gk[1] in kinds
                ]
            for check in checks:
                check(self, i, obj)
        return self.out

    def add(self, i: int, obj: Mapping[str, Any], path: Path, message: str) -> None:
        problem = Problem(str(obj.get("kind")), name_of(obj), format_path(path), message)
        self.out.append(Finding(self.scope, i, problem))

    def checkable(self, own_ns: str, ref: Ref) -> bool:
        ns = ref.target_ns(own_ns)
        return ref.name is not None and (ns == own_ns or ns in self.ix.namespaces)

    def not_found(self, group: str, kind: str, ns: str, name: str) -> str:
        where = f' in namespace "{ns}"' if ns else ""
        close = self.ix.similar(group, kind, ns, name)
        return f'{kind} "{name}" not found{where}' + (f' (did you mean "{close}"?)' if close else "")

    def target(self, i: int, obj: Mapping[str, Any], ref: Ref, *, check_port: bool) -> None:
        """A backendRef or policy targetRef to a Service, InferencePool or import."""
        own_ns = namespace_of(obj)
        if not self.checkable(own_ns, ref):
            return
        ns, name = ref.target_ns(own_ns), ref.name
        assert name is not None
        if (ref.group, ref.kind) == ("", "Service"):
            svc = self.ix.services.get((ns, name))
            if svc is None:
                self.add(i, obj, (*ref.path, "name"), self.not_found("", "Service", ns, name))
            elif check_port and ref.port is not None and ref.port not in svc.ports:
                made = f" (created by KubeRay for {svc.creator})" if svc.creator else ""
                self.add(
                    i,
                    obj,
                    (*ref.path, "port"),
                    f'Service "{name}"{made} has no port {ref.port} (ports: {_ports(svc)})',
                )
        elif (ref.group, ref.kind) == POOL:
            if (*POOL, ns, name) not in self.ix.objects:
                self.add(i, obj, (*ref.path, "name"), self.not_found(*POOL, ns, name))
        elif (ref.group, ref.kind) == POOL_IMPORT:
            problem = self.world.import_problem(self.ix, ns, name)
            if problem:
                self.add(i, obj, (*ref.path, "name"), problem)

    def _route(self, i: int, obj: Mapping[str, Any]) -> None:
        own_ns = namespace_of(obj)
        for ref in self.ix.parents(obj):
            if (ref.group, ref.kind) == ("gateway.networking.k8s.io", "Gateway") and self.checkable(
                own_ns, ref
            ):
                ns = ref.target_ns(own_ns)
                if (ns, ref.name) not in self.ix.gateway_classes:
                    self.add(
                        i,
                        obj,
                        (*ref.path, "name"),
                        self.not_found("gateway.networking.k8s.io", "Gateway", ns, str(ref.name)),
                    )
        for ref in self.ix.backends(obj):
            self.target(i, obj, ref, check_port=True)

    def _policy(self, i: int, obj: Mapping[str, Any]) -> None:
        raw = as_dict(obj.get("spec")).get("targetRef")
        if isinstance(raw, dict):
            self.target(i, obj, make_ref(("spec", "targetRef"), raw, "", "Service"), check_port=False)

    def _pool(self, i: int, obj: Mapping[str, Any]) -> None:
        ns, spec = namespace_of(obj), as_dict(obj.get("spec"))
        labels = {
            k: v
            for k, v in as_dict(as_dict(spec.get("selector")).get("matchLabels")).items()
            if isinstance(v, str)
        }
        if labels:
            pods = self.ix.select(ns, labels)
            if not pods:
                wanted = ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))
                self.add(
                    i,
                    obj,
                    ("spec", "selector", "matchLabels"),
                    f'selects no pods: no pod template in namespace "{ns}" has the labels {wanted}',
                )
            else:
                for k, tp in enumerate(as_list(spec.get("targetPorts"))):
                    number = as_port(as_dict(tp).get("number"))
                    if number is not None and number not in pods.ports:
                        self.add(
                            i,
                            obj,
                            ("spec", "targetPorts", k, "number"),
                            f"no selected pod listens on port {number} ({', '.join(pods.owners[:3])}"
                            f"{', ...' if len(pods.owners) > 3 else ''}: container ports "
                            f"{', '.join(str(p) for p in sorted(pods.ports))})",
                        )
        epp = spec.get("endpointPickerRef")
        if isinstance(epp, dict):
            self.target(i, obj, make_ref(("spec", "endpointPickerRef"), epp, "", "Service"), check_port=True)

    def _objective(self, i: int, obj: Mapping[str, Any]) -> None:
        raw = as_dict(obj.get("spec")).get("poolRef")
        if isinstance(raw, dict):
            self.target(i, obj, make_ref(("spec", "poolRef"), raw, *POOL), check_port=False)

    def _service_accounts(self, i: int, obj: Mapping[str, Any]) -> None:
        # gen creates every ServiceAccount it binds or runs pods as, so for its own
        # output a missing one is a bug; a hand-written binding may name an account
        # that another tool creates, so it is not checked.
        if not self._rendered_by_gen(obj):
            return
        own_ns = namespace_of(obj)
        for k, subject in enumerate(as_list(obj.get("subjects"))):
            subject = as_dict(subject)
            if subject.get("kind") == "ServiceAccount":
                ns = as_str(subject.get("namespace")) or own_ns
                self._service_account(i, obj, ("subjects", k, "name"), ns, as_str(subject.get("name")))

    def _service_account(self, i: int, obj: Mapping[str, Any], path: Path, ns: str, name: str | None) -> None:
        if (
            name
            and name != "default"
            and ns in self.ix.namespaces
            and ("", "ServiceAccount", ns, name) not in self.ix.objects
        ):
            self.add(i, obj, path, self.not_found("", "ServiceAccount", ns, name))

    @staticmethod
    def _rendered_by_gen(obj: Mapping[str, Any]) -> bool:
        return GEN_ANNOTATION in as_dict(as_dict(obj.get("metadata")).get("annotations"))

    def _pods(self, i: int, obj: Mapping[str, Any]) -> None:
        ns = namespace_of(obj)
        for path, tpl, _, _ in pod_templates(obj):
            spec = as_dict(tpl.get("spec"))
            for k, claim in enumerate(as_list(spec.get("resourceClaims"))):
                name = as_str(as_dict(claim).get("resourceClaimTemplateName"))
                if name and ("resource.k8s.io", "ResourceClaimTemplate", ns, name) not in self.ix.objects:
                    self.add(
                        i,
                        obj,
                        (*path, "spec", "resourceClaims", k, "resourceClaimTemplateName"),
                        self.not_found("resource.k8s.io", "ResourceClaimTemplate", ns, name),
                    )
            cls = as_str(as_dict(spec.get("nodeSelector")).get(COMPUTE_CLASS_LABEL))
            if (
                cls
                and cls not in BUILTIN_COMPUTE_CLASSES
                and ("cloud.google.com", "ComputeClass", "", cls) not in self.ix.objects
            ):
                self.add(
                    i,
                    obj,
                    (*path, "spec", "nodeSelector", COMPUTE_CLASS_LABEL),
                    self.not_found("cloud.google.com", "ComputeClass", "", cls),
                )
            if self._rendered_by_gen(obj):
                self._service_account(
                    i, obj, (*path, "spec", "serviceAccountName"), ns, as_str(spec.get("serviceAccountName"))
                )


# Every reference check, in one place: the kinds it reads (group and kind, or a kind in any
# group; None: every resource) and the method that checks one such resource.
REFERENCE_CHECKS: tuple[
    tuple[frozenset[Any] | None, Callable[[_Checker, int, Mapping[str, Any]], None]], ...
] = (
    (frozenset(ROUTE_KINDS), _Checker._route),
    (
        frozenset({("networking.gke.io", "HealthCheckPolicy"), ("networking.gke.io", "GCPBackendPolicy")}),
        _Checker._policy,
    ),
    (frozenset({POOL}), _Checker._pool),
    (frozenset({"InferenceObjective"}), _Checker._objective),
    (
        frozenset(
            {
                ("rbac.authorization.k8s.io", "RoleBinding"),
                ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
            }
        ),
        _Checker._service_accounts,
    ),
    (None, _Checker._pods),
)
