"""Operational rules about accelerators: what the pods ask for against what runs on them.

- ``accelerators_match_parallelism``: Ray Serve LLM places ``tensor_parallel_size x
  pipeline_parallel_size`` accelerators per LLM replica (ray 2.60
  ``llm/_internal/serve/engines/vllm/vllm_models.py``: ``num_devices``, one bundle per
  device). The worker groups of a RayService must provide exactly what its LLM replicas
  take: more and accelerators sit idle (and are paid for), fewer and replicas stay pending.
  With KubeRay's in-tree autoscaler the workers scale between minReplicas and maxReplicas,
  so the minimum must not hold idle accelerators and the maximum must hold every replica.
"""

from __future__ import annotations

from typing import Any

from ... import catalog, nodes
from ...diagnostics import Problem, format_path
from ...objects import as_dict, as_list, group_of, llm_configs, name_of, pod_templates

ACCELERATOR_RESOURCES = ("nvidia.com/gpu", "google.com/tpu")
_WORKERS = "spec.rayClusterConfig.workerGroupSpecs"


def _count(value: Any) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0


def _pod_accelerators(group: dict[str, Any]) -> tuple[str, int]:
    """(resource name, accelerators per pod) of a worker group; ("", 0) without any."""
    for container in as_list(as_dict(as_dict(group.get("template")).get("spec")).get("containers")):
        resources = as_dict(as_dict(container).get("resources"))
        for key in ACCELERATOR_RESOURCES:
            amount = as_dict(resources.get("limits")).get(key, as_dict(resources.get("requests")).get(key))
            if amount is not None:
                return key, _count(amount)
    return "", 0


def _replicas(llm: dict[str, Any]) -> tuple[int, int]:
    """(minimum, maximum) replicas of one LLM deployment (Serve's default is one)."""
    deployment = as_dict(llm.get("deployment_config"))
    auto = deployment.get("autoscaling_config")
    if isinstance(auto, dict):
        low = _count(auto.get("min_replicas", 1))
        return low, max(low, _count(auto.get("max_replicas", low)))
    fixed = deployment.get("num_replicas", 1)
    return (_count(fixed),) * 2 if fixed != "auto" else (1, 1)


def _per_replica(llm: dict[str, Any]) -> int:
    kwargs = as_dict(llm.get("engine_kwargs"))
    return max(1, _count(kwargs.get("tensor_parallel_size", 1))) * max(
        1, _count(kwargs.get("pipeline_parallel_size", 1))
    )


def accelerators_match_parallelism(obj: dict[str, Any]) -> list[Problem]:
    if obj.get("kind") != "RayService" or group_of(obj) != "ray.io":
        return []
    llms = llm_configs(obj)
    if not llms:
        return []  # not a Ray Serve LLM app: its accelerator use is not known here
    cluster = as_dict(as_dict(obj.get("spec")).get("rayClusterConfig"))
    autoscaled = cluster.get("enableInTreeAutoscaling") is True
    provide_min = provide_max = 0
    resource = ""
    per_pod = 0
    for group in as_list(cluster.get("workerGroupSpecs")):
        group = as_dict(group)
        key, pod = _pod_accelerators(group)
        if not pod:
            continue
        resource, per_pod = key, pod
        hosts = max(1, _count(group.get("numOfHosts", 1)))
        fixed = _count(group.get("replicas", group.get("minReplicas", 0)))
        low = _count(group.get("minReplicas", 0)) if autoscaled else fixed
        high = _count(group.get("maxReplicas", fixed)) if autoscaled else fixed
        provide_min += low * hosts * pod
        provide_max += high * hosts * pod
    if not resource:
        return []  # CPU-only workers: nothing to compare
    need_min = sum(_replicas(c)[0] * _per_replica(c) for c in llms)
    need_max = sum(_replicas(c)[1] * _per_replica(c) for c in llms)
    tp_hint = (
        f"set engine_kwargs.tensor_parallel_size so that tensor x pipeline = {per_pod} {resource} per pod"
    )
    problems = []
    name = name_of(obj)
    # With KubeRay's autoscaler the workers follow Serve, so accelerators the minimum holds
    # beyond Serve's minimum are waste. Without it the workers are fixed: accelerators
    # beyond Serve's minimum are headroom for Serve's autoscaling, waste only beyond its
    # maximum (kuberay's ray-service.llm-serve.yaml: one 4-GPU worker, 1..4 replicas).
    taken = need_min if autoscaled else need_max
    if provide_min > taken:
        scale = "at minimum scale" if autoscaled else "always"
        problems.append(
            Problem(
                "RayService",
                name,
                _WORKERS,
                f"{provide_min - taken} of {provide_min} {resource} idle {scale}: the worker groups "
                f"provide {provide_min}, the LLM replicas take {'' if autoscaled else 'at most '}{taken} "
                "(replicas x tensor_parallel_size "
                f"x pipeline_parallel_size); {tp_hint}, or lower the workers' "
                f"{'minReplicas' if autoscaled else 'replicas'}",
            )
        )
    if need_max > provide_max:
        problems.append(
            Problem(
                "RayService",
                name,
                _WORKERS,
                f"the LLM replicas take up to {need_max} {resource} but the worker groups provide at most "
                f"{provide_max}: {need_max - provide_max} would never be placed; raise the workers' "
                f"{'maxReplicas' if autoscaled else 'replicas'} or lower the deployments' replicas",
            )
        )
    return problems


def _requests(container: dict[str, Any]) -> dict[str, Any]:
    """A container's effective requests (Kubernetes defaults a missing request to its limit)."""
    resources = as_dict(container.get("resources"))
    return {**as_dict(resources.get("limits")), **as_dict(resources.get("requests"))}


def _pod_requests(spec: dict[str, Any]) -> dict[str, float]:
    """What the scheduler reserves for a pod: the sum over its containers, or the largest
    init container when that is more (Kubernetes' effective request)."""
    total = dict.fromkeys(nodes.RESOURCES, 0.0)
    for requests in map(_requests, map(as_dict, as_list(spec.get("containers")))):
        for k in nodes.RESOURCES:
            total[k] += nodes.quantity(requests.get(k, 0)) or 0.0
    for requests in map(_requests, map(as_dict, as_list(spec.get("initContainers")))):
        for k in nodes.RESOURCES:
            total[k] = max(total[k], nodes.quantity(requests.get(k, 0)) or 0.0)
    return total


def pods_fit_nodes(obj: dict[str, Any]) -> list[Problem]:
    """Every accelerator pod fits the node the catalog names for its accelerator: CPU,
    memory and ephemeral storage beside GKE's system pods (and GCS Fuse's sidecar)."""
    out = []
    for path, tpl, _, _ in pod_templates(obj):
        spec = as_dict(tpl.get("spec"))
        selector = as_dict(spec.get("nodeSelector"))
        accelerators = max(
            (
                _count(requests.get(key, 0))
                for requests in map(_requests, map(as_dict, as_list(spec.get("containers"))))
                for key in ACCELERATOR_RESOURCES
            ),
            default=0,
        )
        machines = nodes.machines_for(selector, accelerators) if accelerators else []
        if not machines:
            continue  # not an accelerator pod, or a shape the catalog does not name
        fuse = as_dict(as_dict(tpl.get("metadata")).get("annotations")).get("gke-gcsfuse/volumes") == "true"
        requests = _pod_requests(spec)
        # the pod fits if it fits any machine type with that many accelerators; report the largest
        misfits: dict[str, str] = {}
        for machine in machines:
            storage, where = nodes.stated_storage(tpl, machine)
            misfits = nodes.fits(requests, machine, storage, fuse)
            if not misfits:
                break
        for resource, why in misfits.items():
            fix = (
                "lower the request, or give the node pool a larger boot disk (--disk-size) or local SSD "
                f"(--ephemeral-storage-local-ssd) and state it with the pod annotation "
                f"{catalog.nodes()['bootDiskAnnotation']}"
                if resource == "ephemeral-storage"
                else "lower the request or choose a larger accelerator count"
            )
            out.append(
                Problem(
                    str(obj.get("kind")),
                    name_of(obj),
                    format_path((*path, "spec", "containers")),
                    f"the pod cannot be scheduled: {resource} {why} on a {machine} node with {where} "
                    f"(after GKE's reservations and system pods{' and the GCS Fuse sidecar' * fuse}); {fix}",
                )
            )
    return out
