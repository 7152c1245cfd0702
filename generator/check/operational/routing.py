"""Operational rules about the path of a request: gateway -> route -> backend -> pods."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ... import catalog
from ...diagnostics import Problem, format_path
from ...objects import as_dict, as_list, name_of
from ..lints import on_gke_gateway
from ..scope_index import (
    POOL,
    POOL_IMPORT,
    ROUTE_KINDS,
    ScopeIndex,
    make_ref,
    namespace_of,
)

if TYPE_CHECKING:
    from . import Context

_BACKEND_POLICY = ("networking.gke.io", "GCPBackendPolicy")


def _timeouts(ix: ScopeIndex) -> dict[tuple[str, str, str, str], Any]:
    """(group, kind, namespace, name) of each GCPBackendPolicy target -> its timeoutSec."""
    out: dict[tuple[str, str, str, str], Any] = {}
    for i in ix.of_kinds(_BACKEND_POLICY):
        obj = ix.objs[i]
        spec = as_dict(obj.get("spec"))
        ref = make_ref(("spec", "targetRef"), spec.get("targetRef"), "", "Service")
        timeout = as_dict(spec.get("default")).get("timeoutSec")
        out[(ref.group, ref.kind, ref.target_ns(namespace_of(obj)), ref.name or "")] = timeout
    return out


def _llm_backend(ix: ScopeIndex, ns: str, group: str, kind: str, name: str) -> bool:
    """An InferencePool (or its import), or a Service whose endpoints are Ray Serve pods."""
    if (group, kind) in (POOL, POOL_IMPORT):
        return True
    svc = ix.services.get((ns, name)) if (group, kind) == ("", "Service") else None
    if svc is None:
        return False
    if svc.creator:  # KubeRay's serve Service (its head Service is linted elsewhere)
        return not svc.ray_head
    return bool(svc.selector) and ix.select(ns, svc.selector).ray


def llm_backends_have_timeout(ix: ScopeIndex, ctx: Context) -> list[tuple[int, Problem]]:
    """GKE cuts a request after the backend timeout, 30 s without a GCPBackendPolicy:
    a long generation is answered with a 504 while the model is still writing it."""
    facts = catalog.operations()["backendTimeout"]
    timeouts = _timeouts(ix)
    out = []
    for i in ix.of_kinds(*ROUTE_KINDS):
        obj = ix.objs[i]
        if not on_gke_gateway(ix, obj):
            continue
        seen = set()
        for ref in ix.backends(obj):
            ns = ref.target_ns(namespace_of(obj))
            key = (ref.group, ref.kind, ns, ref.name or "")
            if key in seen or not ref.name or not _llm_backend(ix, ns, ref.group, ref.kind, ref.name):
                continue
            seen.add(key)
            timeout = timeouts.get(key)
            if timeout is not None:  # an explicit timeout is the operator's choice
                continue
            have = f"no GCPBackendPolicy sets its timeoutSec (GKE's default: {facts['gkeDefaultSec']} s)"
            out.append(
                (
                    i,
                    Problem(
                        str(obj.get("kind")),
                        name_of(obj),
                        format_path(ref.path),
                        f'{ref.kind} "{ref.name}" serves LLM generations but {have}: long '
                        f"responses are cut with a 504; add a GCPBackendPolicy targeting it with "
                        f"default.timeoutSec (gen's default is {facts['llmDefaultSec']})",
                    ),
                )
            )
    return out


def pooled_rayservices_never_upgrade_beside(ix: ScopeIndex, ctx: Context) -> list[tuple[int, Problem]]:
    """An InferencePool selecting a RayService's pods must not see a pending cluster.

    KubeRay (v1.7.0) starts a second RayCluster for a changed cluster spec unless
    ``upgradeStrategy.type`` is None. Its workers carry the same labels as the active
    ones (ray.io/serve=true from creation; only ray.io/cluster, with a random suffix,
    differs) and turn Ready before KubeRay's cut-over, so the endpoint picker would send
    requests to a cluster whose apps are still deploying."""
    out = []
    for obj in map(ix.objs.__getitem__, ix.of_kinds(POOL)):
        labels = as_dict(as_dict(as_dict(obj.get("spec")).get("selector")).get("matchLabels"))
        if not labels:
            continue
        owners = sorted({t.index for t in ix.select(namespace_of(obj), labels).templates})
        for i in owners:
            owner = ix.objs[i]
            if not isinstance(owner, Mapping) or owner.get("kind") != "RayService":
                continue
            strategy = as_dict(as_dict(owner.get("spec")).get("upgradeStrategy")).get("type")
            if strategy == "None":
                continue
            out.append(
                (
                    i,
                    Problem(
                        "RayService",
                        name_of(owner),
                        "spec.upgradeStrategy.type",
                        f'InferencePool "{name_of(obj)}" selects its pods, but upgradeStrategy is '
                        f"{strategy or 'unset (NewCluster)'}: during an upgrade KubeRay's pending cluster "
                        "has the same pod labels and its workers turn Ready before the cut-over, so "
                        "the endpoint picker would route to apps still deploying; set "
                        "upgradeStrategy.type: None (serve-config changes still apply in place)",
                    ),
                )
            )
    return out


def _headers_set_by_routes(ix: ScopeIndex, header: str) -> set[str]:
    """Values routes set for ``header`` (RequestHeaderModifier set/add, rule or backend filters)."""
    values = set()
    for obj in map(ix.objs.__getitem__, ix.of_kinds(*ROUTE_KINDS)):
        for rule in map(as_dict, as_list(as_dict(obj.get("spec")).get("rules"))):
            filters = as_list(rule.get("filters"))
            filters += [
                f for b in as_list(rule.get("backendRefs")) for f in as_list(as_dict(b).get("filters"))
            ]
            for f in map(as_dict, filters):
                modifier = as_dict(f.get("requestHeaderModifier"))
                for h in [*as_list(modifier.get("set")), *as_list(modifier.get("add"))]:
                    h = as_dict(h)
                    if str(h.get("name", "")).lower() == header and isinstance(h.get("value"), str):
                        values.add(h["value"])
    return values


def objectives_are_sent(ix: ScopeIndex, ctx: Context) -> list[tuple[int, Problem]]:
    """An InferenceObjective takes effect only for requests whose header names it (GAIE
    v1.5.0 pkg/epp/metadata ObjectiveKey); one that no route sets and the shipped README
    never tells clients to send is dead configuration: its requests run at priority 0.
    Without a README (hand-written manifests) clients may send it: not judged."""
    if ctx.readme is None:
        return []
    header = catalog.releases()["endpointPicker"]["objectiveHeader"]
    sent = _headers_set_by_routes(ix, header)
    out = []
    for i in ix.named("InferenceObjective"):
        obj = ix.objs[i]
        name = name_of(obj)
        if name in sent or f"{header}: {name}" in ctx.readme:
            continue
        out.append(
            (
                i,
                Problem(
                    "InferenceObjective",
                    name,
                    "metadata.name",
                    f"no route sets the {header} header to {name!r} and the README never tells "
                    "clients to send it: the objective's priority never applies; document the header "
                    f"(`{header}: {name}`) or set it with a route's RequestHeaderModifier",
                ),
            )
        )
    return out


def pools_keep_an_endpoint(ix: ScopeIndex, ctx: Context) -> list[tuple[int, Problem]]:
    """A pool that selects only Ray worker pods has no endpoint once the workers scale to
    zero, so the request that should scale them up is refused (KubeRay's autoscaler adds
    workers for pending Ray tasks, not for HTTP requests that never reach Ray)."""
    out = []
    for i in ix.of_kinds(POOL):
        obj = ix.objs[i]
        labels = as_dict(as_dict(as_dict(obj.get("spec")).get("selector")).get("matchLabels"))
        selection = ix.select(namespace_of(obj), labels) if labels else None
        if not selection or any(t.ray_node != "worker" for t in selection.templates):
            continue  # selects something that always runs (a head, a Deployment ...)
        owners = {t.index for t in selection.templates}
        if all(_workers_scale_to_zero(ix.objs[k]) for k in owners):
            out.append(
                (
                    i,
                    Problem(
                        "InferencePool",
                        name_of(obj),
                        "spec.selector.matchLabels",
                        "selects only Ray worker pods, and every worker group it selects may scale to "
                        "minReplicas 0: then the pool has no endpoint and the gateway refuses the "
                        "request that would scale it up; keep at least one worker (minReplicas >= 1, "
                        "and the Serve deployments' min_replicas >= 1)",
                    ),
                )
            )
    return out


def _workers_scale_to_zero(obj: Any) -> bool:
    if not isinstance(obj, Mapping) or obj.get("kind") not in ("RayService", "RayCluster"):
        return False
    spec = as_dict(obj.get("spec"))
    cluster = as_dict(spec.get("rayClusterConfig")) if obj.get("kind") == "RayService" else spec
    groups = [as_dict(g) for g in as_list(cluster.get("workerGroupSpecs"))]
    if cluster.get("enableInTreeAutoscaling") is not True:
        return bool(groups) and all(g.get("replicas", 0) == 0 for g in groups)
    return bool(groups) and all(g.get("minReplicas", 0) == 0 for g in groups)
