"""Every name gen derives from a user-given name, defined once.

Both the validator (length limits) and the planner (values for the charts) use
these functions, so a derived name can never outgrow what was validated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the spec model imports this module: types only, no import cycle
    from .spec.model import Model

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


# Helm refuses release names longer than 53 characters (helm pkg/chartutil/validate_name.go:
# maxReleaseNameLen); the fleet name is the release name of the umbrella chart.
HELM_RELEASE_MAX = 53

# Label values (app.kubernetes.io/name) derived from the fleet and namespace when the
# metrics reader is on (charts/inference-pool/templates/metrics-reader-rbac.yaml): label
# values are at most 63 characters.
METRICS_READER_SUFFIX = "-metrics-reader"
EPP_AUTH_SUFFIX = "-epp-auth"


def fleet_labels(fleet: str, namespace: str) -> dict[str, str]:
    """Label values derived from the fleet (and namespace) with `gateway.metricsReader`."""
    return {
        "metrics reader": fleet + METRICS_READER_SUFFIX,
        "endpoint picker auth ClusterRole": f"{namespace}-{fleet}{EPP_AUTH_SUFFIX}",
    }


# A namespaced object gen generates: (kind, name, what it is, the spec field it comes from).
GeneratedObject = tuple[str, str, str, tuple[str | int, ...]]


def model_objects(
    model: Model, *, pools: bool, network_policy: bool, autopilot: bool
) -> list[GeneratedObject]:
    """Every namespaced object the charts generate for one model in one cluster, with the
    spec field it is named after (kept in step with the charts by tests/test_contract.py)."""
    names = model.names
    name = ("name",)
    out: list[GeneratedObject] = [
        ("RayService", model.name, "the RayService", name),
        ("Service", names["serveService"], "KubeRay's serve Service", name),
        ("Service", names["headService"], "KubeRay's head Service", name),
    ]
    if network_policy:
        out.append(("NetworkPolicy", model.name, "the model's NetworkPolicy", name))
    if model.chat_ui_enabled:
        for kind in ("Deployment", "Service", "NetworkPolicy"):
            out.append((kind, names["chatUI"], "the chat UI", ("chatUI",)))
    if model.download_enabled:
        for kind in ("Job", "NetworkPolicy"):
            out.append((kind, names["downloadJob"], "the download Job", ("download",)))
    if pools:
        out.append(("InferencePool", names["inferencePool"], "the InferencePool", name))
        kinds = ["Deployment", "Service", "ServiceAccount", "ConfigMap", "Role", "RoleBinding"]
        if network_policy:
            kinds.append("NetworkPolicy")
        out += [(kind, names["endpointPicker"], "the endpoint picker", name) for kind in kinds]
        if model.custom_metric is not None:
            out.append(("AutoscalingMetric", names["autoscalingMetric"], "the KV-cache metric", name))
    if model.dranet:
        out.append(("ResourceClaimTemplate", names["resourceClaimTemplate"], "the DRANET claim", ("dranet",)))
        if autopilot:
            out.append(("ComputeClass", names["computeClass"], "the DRANET ComputeClass", ("dranet",)))
    if model.service_account is not None:
        sa = model.service_account.name
        out.append(("ServiceAccount", sa, "the model's ServiceAccount", ("serviceAccount", "name")))
    return out


def fleet_objects(fleet: str, *, metrics_reader: bool) -> list[GeneratedObject]:
    if not metrics_reader:
        return []
    sa = fleet + METRICS_READER_SUFFIX
    return [
        ("ServiceAccount", sa, "the metrics reader", ("metadata", "name")),
        ("Secret", sa + "-token", "the metrics reader token", ("metadata", "name")),
        ("Role", sa + "-secret-read", "the metrics reader Role", ("metadata", "name")),
    ]
