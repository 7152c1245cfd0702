"""Hand-broken manifests: each must yield exactly the listed problems (and valid
variants none), so a checker that is too lax or too strict fails here."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from generator.check.schemas import Problem, validate_resource

from .samples import ROOT, load_docs

SAMPLES = ROOT / "kubernetes-engine-samples" / "ai-ml" / "gke-ray" / "rayserve"
RAY = load_docs(SAMPLES / "llm" / "gemma-2b-it" / "ray-service.yaml")[0]
HEAD = ("spec", "rayClusterConfig", "headGroupSpec", "template", "spec", "containers", 0)
WORKER = ("spec", "rayClusterConfig", "workerGroupSpecs", 0)
HEAD_PATH = "spec.rayClusterConfig.headGroupSpec.template.spec.containers[0]"

HEALTH = load_docs(SAMPLES / "ingress" / "healthcheckpolicy.yaml")[0]
SERVICE = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "llm"},
    "spec": {"selector": {"app": "llm"}, "ports": [{"name": "http", "port": 8000, "targetPort": "serve"}]},
}
BACKEND_POLICY = {
    "apiVersion": "networking.gke.io/v1",
    "kind": "GCPBackendPolicy",
    "metadata": {"name": "pool"},
    "spec": {
        "targetRef": {"group": "networking.gke.io", "kind": "GCPInferencePoolImport", "name": "pool"},
        "default": {
            "balancingMode": "CUSTOM_METRICS",
            "trafficDuration": "LONG",
            "customMetrics": [
                {"name": "gke.named_metrics.kv-cache", "dryRun": False, "maxUtilizationPercent": 80}
            ],
        },
    },
}
AUTOSCALING_METRIC = {  # the shape of GKE's multi-cluster Inference Gateway guide (seed 002)
    "apiVersion": "autoscaling.gke.io/v1beta1",
    "kind": "AutoscalingMetric",
    "metadata": {"name": "gpu-cache", "namespace": "llm"},
    "spec": {
        "selector": {"matchLabels": {"app": "vllm-llama3-8b-instruct"}},
        "endpoints": [{"port": 8000, "path": "/metrics"}],
        "metrics": [
            {"name": "vllm:kv_cache_usage_perc", "exportName": "kv-cache"},
            {"name": "vllm:gpu_cache_usage_perc", "exportName": "kv-cache-old"},
        ],
    },
}


def at(obj: dict, path: tuple) -> Any:
    for p in path:
        obj = obj[p]
    return obj


def setting(path: tuple, key: Any, value: Any) -> Callable[[dict], None]:
    def mutate(obj: dict) -> None:
        at(obj, path)[key] = value

    return mutate


def deleting(path: tuple, key: Any) -> Callable[[dict], None]:
    def mutate(obj: dict) -> None:
        del at(obj, path)[key]

    return mutate


def P(kind: str, name: str, path: str, message: str) -> Problem:  # noqa: N802 - reads like the dataclass
    return Problem(kind, name, path, message)


def ray(path: str, message: str) -> Problem:
    return P("RayService", "gemma-2b-it", path, message)


CASES: list[tuple[str, dict, Callable[[dict], None], list[Problem]]] = [
    # unknown fields, from the root down to a container
    ("unknown-root", RAY, setting((), "extra", 1), [ray("extra", "unknown field")]),
    (
        "unknown-metadata",
        RAY,
        setting(("metadata",), "labelz", {}),
        [ray("metadata.labelz", "unknown field")],
    ),
    ("unknown-spec", RAY, setting(("spec",), "bogus", True), [ray("spec.bogus", "unknown field")]),
    (
        "unknown-pod-template-metadata",
        RAY,
        setting(("spec", "rayClusterConfig", "headGroupSpec", "template", "metadata"), "zzz", 1),
        [ray("spec.rayClusterConfig.headGroupSpec.template.metadata.zzz", "unknown field")],
    ),
    ("unknown-container", RAY, setting(HEAD, "foo", 1), [ray(f"{HEAD_PATH}.foo", "unknown field")]),
    (
        "unknown-two-at-once",
        RAY,
        lambda o: at(o, HEAD).update(a=1, b=2),
        [ray(f"{HEAD_PATH}.a", "unknown field"), ray(f"{HEAD_PATH}.b", "unknown field")],
    ),
    # wrong types
    (
        "wrong-type-int",
        RAY,
        setting(WORKER, "replicas", "2"),
        [ray("spec.rayClusterConfig.workerGroupSpecs[0].replicas", '"2" is not of type "integer"')],
    ),
    (
        # The API server prunes a null of a field that is not nullable before validating.
        "null-not-nullable-is-pruned",
        RAY,
        setting(("spec", "rayClusterConfig", "headGroupSpec"), "rayStartParams", None),
        [],
    ),
    (
        # ... so a required one is then missing,
        "null-required-is-missing",
        RAY,
        setting(("spec", "rayClusterConfig", "headGroupSpec"), "template", None),
        [ray("spec.rayClusterConfig.headGroupSpec.template", "required field is missing")],
    ),
    (
        # ... but a null list item is not pruned.
        "null-list-item",
        RAY,
        setting(("spec", "rayClusterConfig"), "workerGroupSpecs", [None]),
        [ray("spec.rayClusterConfig.workerGroupSpecs[0]", 'null is not of type "object"')],
    ),
    (
        "nullable-null-ok",
        RAY,
        setting((), "status", {"activeServiceStatus": {"rayClusterStatus": {"lastUpdateTime": None}}}),
        [],
    ),
    (
        "format-date-time",
        RAY,
        setting((), "status", {"activeServiceStatus": {"rayClusterStatus": {"lastUpdateTime": "yesterday"}}}),
        [
            ray(
                "status.activeServiceStatus.rayClusterStatus.lastUpdateTime",
                '"yesterday" is not a "date-time"',
            )
        ],
    ),
    (
        "int32-range",
        RAY,
        setting(WORKER, "replicas", 2**31),
        [
            ray(
                "spec.rayClusterConfig.workerGroupSpecs[0].replicas",
                "2147483648 is greater than the maximum of 2147483647",
            )
        ],
    ),
    # int-or-string
    (
        "int-or-string-float",
        RAY,
        setting(HEAD + ("resources", "limits"), "cpu", 1.5),
        [ray(f"{HEAD_PATH}.resources.limits.cpu", "must be an integer or a string, not 1.5")],
    ),
    ("int-or-string-int-ok", RAY, setting(HEAD + ("resources", "limits"), "cpu", 2), []),
    (
        "int-or-string-pattern",
        RAY,
        setting(HEAD + ("resources", "limits"), "cpu", "two"),
        [
            ray(
                f"{HEAD_PATH}.resources.limits.cpu",
                r'"two" does not match "^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|'
                r'([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"',
            )
        ],
    ),
    # required fields
    (
        "missing-required",
        RAY,
        deleting(HEAD, "name"),
        [ray(f"{HEAD_PATH}.name", "required field is missing")],
    ),
    (
        "missing-required-group",
        RAY,
        deleting(WORKER, "groupName"),
        [ray("spec.rayClusterConfig.workerGroupSpecs[0].groupName", "required field is missing")],
    ),
    # minReplicas/maxReplicas are required but defaulted (0 / 2147483647): never missing.
    (
        "required-with-default",
        RAY,
        lambda o: [at(o, WORKER).pop(k) for k in ("minReplicas", "maxReplicas")],
        [],
    ),
    (
        "missing-name",
        RAY,
        deleting(("metadata",), "name"),
        [P("RayService", "?", "metadata.name", "required field is missing")],
    ),
    # enums
    (
        "bad-enum",
        RAY,
        setting(("spec", "rayClusterConfig"), "upgradeStrategy", {"type": "Sometimes"}),
        [ray("spec.rayClusterConfig.upgradeStrategy.type", '"Sometimes" is not one of: "Recreate", "None"')],
    ),
    (
        "bad-enum-datree",
        HEALTH,
        setting(("spec", "default", "config"), "type", "UDP"),
        [
            P(
                "HealthCheckPolicy",
                "endpoint-lb-healthcheck",
                "spec.default.config.type",
                '"UDP" is not one of: "TCP", "HTTP", "HTTPS", "HTTP2", "GRPC"',
            )
        ],
    ),
    (
        "unknown-datree",
        HEALTH,
        setting(("spec", "default"), "foo", 1),
        [P("HealthCheckPolicy", "endpoint-lb-healthcheck", "spec.default.foo", "unknown field")],
    ),
    (
        "unknown-datree-root",
        HEALTH,
        setting((), "extra", 1),
        [P("HealthCheckPolicy", "endpoint-lb-healthcheck", "extra", "unknown field")],
    ),
    # list-map keys (containerPort + protocol, protocol defaulted to TCP)
    (
        "list-map-duplicate",
        RAY,
        lambda o: at(o, HEAD).update(
            ports=[{"containerPort": 8000, "name": "serve"}, {"containerPort": 8000, "protocol": "TCP"}]
        ),
        [ray(f"{HEAD_PATH}.ports[1]", "duplicate entry with key (containerPort=8000, protocol='TCP')")],
    ),
    (
        "list-map-distinct",
        RAY,
        lambda o: at(o, HEAD).update(
            ports=[{"containerPort": 8000}, {"containerPort": 8000, "protocol": "UDP"}]
        ),
        [],
    ),
    # metadata syntax
    (
        "bad-name",
        RAY,
        setting(("metadata",), "name", "Gemma_2b"),
        [
            P(
                "RayService",
                "Gemma_2b",
                "metadata.name",
                "invalid name 'Gemma_2b': must be a lowercase RFC 1035 label "
                "(lowercase alphanumerics or '-', starting with a letter and ending with an alphanumeric)",
            )
        ],
    ),
    (
        "bad-label-value",
        RAY,
        setting(("metadata",), "labels", {"app": "has space"}),
        [
            ray(
                "metadata.labels.app",
                "invalid label value 'has space': must be no more than 63 characters of "
                "alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric",
            )
        ],
    ),
    # built-in kinds (kubernetes-validate, strict)
    ("core-valid", SERVICE, lambda o: None, []),
    (
        "core-unknown",
        SERVICE,
        setting(("spec",), "foo", 1),
        [P("Service", "llm", "spec.foo", "unknown field")],
    ),
    (
        "core-wrong-type",
        SERVICE,
        setting(("spec", "ports", 0), "port", "http"),
        [P("Service", "llm", "spec.ports[0].port", '"http" is not of type "integer"')],
    ),
    (
        "core-int-or-string",
        SERVICE,
        setting(("spec", "ports", 0), "targetPort", 1.5),
        [P("Service", "llm", "spec.ports[0].targetPort", "must be an integer or a string, not 1.5")],
    ),
    (
        "core-dns1035-name",
        SERVICE,
        setting(("metadata",), "name", "1llm"),
        [
            P(
                "Service",
                "1llm",
                "metadata.name",
                "invalid name '1llm': must be a lowercase RFC 1035 label (lowercase alphanumerics or '-', "
                "starting with a letter and ending with an alphanumeric)",
            )
        ],
    ),
    (
        "core-secret-base64",
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "hf"}, "data": {"token": "aGVsbG8="}},
        setting(("data",), "bad", "not base64!"),
        [P("Secret", "hf", "data.bad", '"not base64!" is not a "byte"')],
    ),
    # hand-written schemas and the overlay
    ("autoscalingmetric-valid", AUTOSCALING_METRIC, lambda o: None, []),
    (
        "autoscalingmetric-unknown",
        AUTOSCALING_METRIC,
        setting(("spec",), "pod", {"containers": []}),
        [P("AutoscalingMetric", "gpu-cache", "spec.pod", "unknown field")],
    ),
    (
        "autoscalingmetric-missing",
        AUTOSCALING_METRIC,
        deleting(("spec", "endpoints", 0), "port"),
        [P("AutoscalingMetric", "gpu-cache", "spec.endpoints[0].port", "required field is missing")],
    ),
    (
        "preserve-unknown-fields",
        {
            "apiVersion": "networking.gke.io/v1",
            "kind": "GCPInferencePoolImport",
            "metadata": {"name": "pool"},
        },
        setting((), "spec", {"anything": {"goes": [1, "x"]}}),
        [],
    ),
    (
        "preserve-unknown-not-at-root",
        {
            "apiVersion": "networking.gke.io/v1",
            "kind": "GCPInferencePoolImport",
            "metadata": {"name": "pool"},
        },
        setting((), "extra", 1),
        [P("GCPInferencePoolImport", "pool", "extra", "unknown field")],
    ),
    ("overlay-trafficDuration-ok", BACKEND_POLICY, lambda o: None, []),
    (
        "overlay-trafficDuration-enum",
        BACKEND_POLICY,
        setting(("spec", "default"), "trafficDuration", "MEDIUM"),
        [
            P(
                "GCPBackendPolicy",
                "pool",
                "spec.default.trafficDuration",
                '"MEDIUM" is not one of: "LONG", "SHORT"',
            )
        ],
    ),
    # dispatch
    (
        "unknown-kind",
        {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "d"}},
        lambda o: None,
        [
            P(
                "Widget",
                "d",
                "",
                "no schema for example.com/v1 Widget: not a Kubernetes 1.35 kind and not a custom resource "
                "gen pins a schema for (--ignore-missing-schemas skips such resources)",
            )
        ],
    ),
    (
        "any-built-in-kind",
        {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "d"}, "spec": {"replicas": 2}},
        lambda o: None,
        [
            P("DaemonSet", "d", "spec.replicas", "unknown field"),
            P("DaemonSet", "d", "spec.selector", "required field is missing"),
            P("DaemonSet", "d", "spec.template", "required field is missing"),
        ],
    ),
    (
        "removed-api",
        {"apiVersion": "extensions/v1beta1", "kind": "Ingress", "metadata": {"name": "i"}},
        lambda o: None,
        [
            P(
                "Ingress",
                "i",
                "",
                "extensions/v1beta1 Ingress was removed in Kubernetes 1.22, use networking.k8s.io/v1",
            )
        ],
    ),
    (
        "removed-api-read-from-the-schemas",
        {"apiVersion": "autoscaling/v2beta2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "h"}},
        lambda o: None,
        [
            P(
                "HorizontalPodAutoscaler",
                "h",
                "",
                "autoscaling/v2beta2 HorizontalPodAutoscaler was removed in Kubernetes 1.26, "
                "use autoscaling/v2",
            )
        ],
    ),
    (
        "unpinned-version",
        {"apiVersion": "gateway.networking.k8s.io/v1alpha2", "kind": "HTTPRoute", "metadata": {"name": "r"}},
        lambda o: None,
        [
            P(
                "HTTPRoute",
                "r",
                "",
                "no schema for gateway.networking.k8s.io/v1alpha2 HTTPRoute: not a Kubernetes 1.35 kind "
                "and not a custom resource gen pins a schema for (--ignore-missing-schemas skips such "
                "resources); known versions of HTTPRoute: gateway.networking.k8s.io/v1, "
                "gateway.networking.k8s.io/v1beta1",
            )
        ],
    ),
    (
        "generate-name",
        RAY,
        lambda o: o["metadata"].update({"generateName": o["metadata"].pop("name") + "-"}),
        [],
    ),
    (
        "generate-name-invalid",
        RAY,
        lambda o: o["metadata"].update({"generateName": o["metadata"].pop("name").upper()}),
        [
            P(
                "RayService",
                "?",
                "metadata.generateName",
                "invalid generateName 'GEMMA-2B-IT': must be a lowercase RFC 1035 label (lowercase "
                "alphanumerics or '-', starting with a letter and ending with an alphanumeric)",
            )
        ],
    ),
    ("missing-kind", RAY, deleting((), "kind"), [P("?", "gemma-2b-it", "kind", "required field is missing")]),
]


@pytest.mark.parametrize("base,mutate,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_broken_manifest(base: dict, mutate: Callable[[dict], None], expected: list[Problem]) -> None:
    obj = copy.deepcopy(base)
    mutate(obj)
    assert validate_resource(obj) == expected


def test_bases_are_valid() -> None:
    for base in (RAY, HEALTH, SERVICE, BACKEND_POLICY, AUTOSCALING_METRIC):
        assert validate_resource(base) == []


def test_not_a_mapping() -> None:
    assert validate_resource(["not", "a", "dict"]) == [  # type: ignore[arg-type]  # the point: a non-dict resource
        Problem("?", "?", "", "resource must be a mapping, not list")
    ]


def test_problem_format() -> None:
    assert ray("spec.bogus", "unknown field").format() == "RayService/gemma-2b-it: spec.bogus: unknown field"
