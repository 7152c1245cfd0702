"""Every name gen derives from a user-given name, defined once.

Both the validator (length limits) and the planner (values for the charts) use
these functions, so a derived name can never outgrow what was validated.
"""

from __future__ import annotations

DNS_LABEL_MAX = 63
# KubeRay's ValidateRayServiceMetadata: RayService names are DNS-1035 labels of at
# most 47 characters (it appends suffixes of its own to the RayCluster it creates).
RAYSERVICE_NAME_MAX = 47

# Suffixes appended to a model name. KubeRay itself creates `<name>-serve-svc`
# and `<name>-head-svc` for a RayService; the rest are gen's own resources.
MODEL_SUFFIXES = {
    "serveService": "-serve-svc",
    "headService": "-head-svc",
    "route": "-route",
    "healthCheckPolicy": "-healthcheck",
    "backendPolicy": "-backend",
    "inferencePool": "-pool",
    "endpointPicker": "-epp",
    "resourceClaimTemplate": "-netdev",
    "chatUI": "-chat",
    "downloadJob": "-download",
    "computeClass": "-dranet",
    "autoscalingMetric": "-kv-cache",
}
FLEET_SUFFIXES = {"gateway": "-gateway"}


def model_names(model: str) -> dict[str, str]:
    return {key: model + suffix for key, suffix in MODEL_SUFFIXES.items()}


def fleet_names(fleet: str) -> dict[str, str]:
    return {key: fleet + suffix for key, suffix in FLEET_SUFFIXES.items()}


def longest(suffixes: dict[str, str]) -> str:
    return max(suffixes.values(), key=len)
