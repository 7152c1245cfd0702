"""Operational checks: output that every schema accepts but that would not run well.

One function per concern, listed in RULES; each takes one resource and returns Problems
naming the field, the fact it contradicts and the fix.

- ``accelerators_match_parallelism``: Ray Serve LLM places ``tensor_parallel_size x
  pipeline_parallel_size`` accelerators per LLM replica (ray 2.60
  ``llm/_internal/serve/engines/vllm/vllm_models.py``: ``num_devices``, one bundle per
  device). The worker groups of a RayService must provide exactly what its LLM replicas
  take: more and accelerators sit idle (and are paid for), fewer and replicas stay pending.
  With KubeRay's in-tree autoscaler the workers scale between minReplicas and maxReplicas,
  so the minimum must not hold idle accelerators and the maximum must hold every replica.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml

from .graph import as_dict, as_list, group_of, name_of
from .problem import Problem
from .ray_serve import LLM_BUILDERS

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


def _llm_configs(service: dict[str, Any]) -> list[dict[str, Any]]:
    text = as_dict(service.get("spec")).get("serveConfigV2")
    try:
        config = yaml.safe_load(text) if isinstance(text, str) else None
    except yaml.YAMLError:
        return []  # reported by the serve-config check
    out = []
    for app in as_list(as_dict(config).get("applications")):
        app = as_dict(app)
        if app.get("import_path") in LLM_BUILDERS:
            out += [as_dict(c) for c in as_list(as_dict(app.get("args")).get("llm_configs"))]
    return out


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
    llms = _llm_configs(obj)
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
    if provide_min > need_min:
        scale = "at minimum scale" if autoscaled else "always"
        problems.append(
            Problem(
                "RayService",
                name,
                _WORKERS,
                f"{provide_min - need_min} of {provide_min} {resource} idle {scale}: the worker groups "
                f"provide {provide_min}, the LLM replicas take {need_min} (replicas x tensor_parallel_size "
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


RULES: list[Callable[[dict[str, Any]], list[Problem]]] = [accelerators_match_parallelism]


def check_resource(obj: dict[str, Any]) -> list[Problem]:
    """Every operational rule on one resource."""
    return [p for rule in RULES for p in rule(obj)]
