"""check_references as a library function: the pure, per-cluster checks `gen render`
runs before writing (inline resources, no files)."""

from __future__ import annotations

import copy
import time
from pathlib import Path

import pytest
import yaml

from generator.check.crossref import check_references

HERE = Path(__file__).parent
MC = HERE / "positive" / "multi-cluster" / "manifests"
TPU = HERE / "positive" / "tpu-dranet" / "manifests" / "ray-llm-cluster"


def load(directory: Path) -> list[dict]:
    return [
        d
        for f in sorted(directory.glob("*.yaml"))
        if f.name != "kustomization.yaml"
        for d in yaml.safe_load_all(f.read_text())
        if d
    ]


def lines(scopes: dict[str, list[dict]]) -> list[str]:
    return sorted(f"{f.scope}#{f.index} {f.check}: {f.problem.format()}" for f in check_references(scopes))


def find(objs: list[dict], kind: str) -> dict:
    return next(o for o in objs if o["kind"] == kind)


def ray(name: str, **head: object) -> dict:
    return {
        "apiVersion": "ray.io/v1",
        "kind": "RayService",
        "metadata": {"name": name},
        "spec": {
            "rayClusterConfig": {
                "headGroupSpec": {
                    **head,
                    "template": {
                        "metadata": {"labels": {"app": name}},
                        "spec": {"containers": [{"name": "ray-head"}]},
                    },
                }
            }
        },
    }


def route(*backends: dict, parent: str = "gw") -> dict:
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "r"},
        "spec": {"parentRefs": [{"name": parent}], "rules": [{"backendRefs": list(backends)}]},
    }


GW = {
    "apiVersion": "gateway.networking.k8s.io/v1",
    "kind": "Gateway",
    "metadata": {"name": "gw"},
    "spec": {"gatewayClassName": "istio", "listeners": []},
}


def test_positive_fixtures_have_no_findings():
    assert lines({"west": load(MC / "gke-west"), "east": load(MC / "gke-east"), "tpu": load(TPU)}) == []


def test_an_import_resolves_against_pools_exported_by_any_cluster():
    west, east = load(MC / "gke-west"), load(MC / "gke-east")
    del find(west, "InferencePool")["metadata"]["annotations"]["networking.gke.io/export"]
    assert lines({"west": west, "east": east}) == []  # gke-east still exports it
    # The config cluster alone: its own pool is not exported, the import has no source.
    found = check_references({"west": west})
    assert sorted((west[f.index]["kind"], f.problem.path) for f in found) == [
        ("GCPBackendPolicy", "spec.targetRef.name"),
        ("HTTPRoute", "spec.rules[0].backendRefs[0].name"),
        ("HealthCheckPolicy", "spec.targetRef.name"),
    ]
    assert {f.problem.message for f in found} == {
        'GCPInferencePoolImport "llama3-8b-instruct-pool" has no source: InferencePool '
        '"llama3-8b-instruct-pool" is not exported (annotate it networking.gke.io/export: "True")'
    }
    west.remove(find(west, "InferencePool"))
    assert {f.problem.message for f in check_references({"west": west})} == {
        'GCPInferencePoolImport "llama3-8b-instruct-pool" has no source: no cluster has an InferencePool '
        '"llama3-8b-instruct-pool" in namespace "default"',
        'InferencePool "llama3-8b-instruct-pool" not found in namespace "default"',
    }  # the objective's poolRef


def test_kuberay_services_and_their_ports():
    objs = [
        GW,
        ray("m"),
        route(
            {"name": "m-serve-svc", "port": 8000},
            {"name": "m-head-svc", "port": 8080},
            {"name": "m-head-svc", "port": 9999},
        ),
    ]
    assert lines({"c": objs}) == [
        'c#2 reference: HTTPRoute/r: spec.rules[0].backendRefs[2].port: Service "m-head-svc" '
        '(created by KubeRay for RayService "m") has no port 9999 (ports: 6379, 8000, 8080, 8265, 10001)'
    ]


def test_custom_serve_service_name():
    svc = ray("m")
    svc["spec"]["serveService"] = {
        "metadata": {"name": "public"},
        "spec": {"ports": [{"name": "serve", "port": 8000}]},
    }
    assert lines({"c": [GW, svc, route({"name": "public", "port": 8000})]}) == []


def test_explicit_service_port_by_name_and_namespace_defaulting():
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "s", "namespace": "default"},
        "spec": {"ports": [{"port": 80, "targetPort": 8080}]},
    }
    # No namespace means the default namespace, for the referrer and the target alike.
    assert lines({"c": [GW, svc, route({"name": "s", "port": 80})]}) == []
    other = copy.deepcopy(svc)
    other["metadata"]["namespace"] = "llm"
    assert lines({"c": [GW, other, route({"name": "s", "port": 80})]}) == [
        "c#2 reference: HTTPRoute/r: spec.rules[0].backendRefs[0].name: "
        'Service "s" not found in namespace "default"'
    ]
    # A namespace none of the cluster's resources live in is managed elsewhere: not checked.
    assert lines({"c": [GW, svc, route({"name": "x", "namespace": "shared", "port": 80})]}) == []


def test_secrets_are_not_required_to_exist():
    objs = load(TPU)
    containers = find(objs, "RayService")["spec"]["rayClusterConfig"]["headGroupSpec"]["template"]["spec"][
        "containers"
    ]
    containers[0]["env"] = [{"name": "T", "valueFrom": {"secretKeyRef": {"name": "nowhere", "key": "k"}}}]
    assert lines({"c": objs}) == []


def test_service_accounts_are_checked_only_in_gen_output():
    objs = load(TPU)
    sa = find(objs, "ServiceAccount")
    objs.remove(sa)
    rayservice = find(objs, "RayService")
    found = lines({"c": objs})
    assert len(found) == 3  # the RoleBinding subject and both pod templates
    assert all('ServiceAccount "ray-ksa" not found in namespace "llm"' in f for f in found)
    assert any("spec.rayClusterConfig.headGroupSpec.template.spec.serviceAccountName" in f for f in found)
    # Hand-written manifests may use accounts created by other tools.
    for obj in objs:
        obj["metadata"].get("annotations", {}).pop("gen.llm-fleet.dev/generator", None)
    assert rayservice["metadata"]["annotations"] == {}
    assert lines({"c": objs}) == []


def test_builtin_compute_classes_need_no_object():
    objs = load(TPU)
    objs.remove(find(objs, "ComputeClass"))
    tpl = find(objs, "RayService")["spec"]["rayClusterConfig"]["workerGroupSpecs"][0]["template"]
    tpl["spec"]["nodeSelector"]["cloud.google.com/compute-class"] = "Accelerator"
    assert lines({"c": objs}) == []


def test_pool_selector_may_use_kuberay_runtime_labels():
    objs = load(MC / "gke-east")
    pool = find(objs, "InferencePool")
    pool["spec"]["selector"]["matchLabels"] = {"ray.io/serve": "true"}
    assert lines({"c": objs}) == []
    pool["spec"]["selector"]["matchLabels"] = {"ray.io/serve": "true", "app": "nope"}
    assert len(lines({"c": objs})) == 1


def test_non_gke_gateways_are_not_linted():
    objs = [GW, ray("m"), route({"name": "m-serve-svc", "port": 8000})]
    objs[2]["spec"]["rules"][0]["timeouts"] = {"request": "10s"}
    assert lines({"c": objs}) == []
    gke = copy.deepcopy(objs)
    gke[0]["spec"]["gatewayClassName"] = "gke-l7-rilb"
    assert lines({"c": gke}) == [
        "c#2 lint: HTTPRoute/r: spec.rules[0].backendRefs[0]: "
        'no HealthCheckPolicy targets Service "m-serve-svc" (GKE would probe GET / on the serving port)',
        "c#2 lint: HTTPRoute/r: spec.rules[0].timeouts: GKE ignores HTTPRoute timeouts; use GCPBackendPolicy "
        "timeoutSec",
    ]


def test_private_port_by_name_through_an_explicit_service():
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "s"},
        "spec": {
            "selector": {"app": "m", "ray.io/node-type": "head"},
            "ports": [{"name": "web", "port": 80, "targetPort": "client"}],
        },
    }
    assert lines({"c": [GW, ray("m"), svc, route({"name": "s", "port": 80})]}) == [
        "c#3 lint: HTTPRoute/r: spec.rules[0].backendRefs[0].port: routes to the Ray client port (10001) of "
        'Service "s"; routes must reach only the Ray Serve port (8000)'
    ]


def test_malformed_resources_do_not_crash():
    junk = [
        None,
        3,
        {"kind": 5},
        {"apiVersion": "v1", "kind": "Service", "spec": "x"},
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "HTTPRoute",
            "metadata": [],
            "spec": {"parentRefs": "gw", "rules": [None, {"backendRefs": [3, {"name": 7, "port": "x"}]}]},
        },
        {
            "apiVersion": "inference.networking.k8s.io/v1",
            "kind": "InferencePool",
            "metadata": {"name": "p"},
            "spec": {
                "selector": {"matchLabels": {"a": 1}},
                "targetPorts": [{"number": "8000"}],
                "endpointPickerRef": {"port": 9002},
            },
        },
        {
            "apiVersion": "ray.io/v1",
            "kind": "RayService",
            "metadata": {"name": "r"},
            "spec": {
                "rayClusterConfig": {
                    "headGroupSpec": {"template": {"spec": {"containers": [None]}}},
                    "workerGroupSpecs": "x",
                }
            },
        },
    ]
    assert isinstance(check_references({"c": junk}), list)  # type: ignore[dict-item]  # the point: junk input


@pytest.mark.slow
def test_time_grows_linearly_with_the_number_of_models():
    base = load(MC / "gke-east")

    def cluster(n: int) -> list[dict]:
        out = []
        for i in range(n):
            for obj in base:
                o = copy.deepcopy(obj)
                o["metadata"]["name"] = f"{o['metadata']['name']}-{i}"
                out.append(o)
        return out

    def seconds(objs: list[dict]) -> float:
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            check_references({"c": objs})
            best = min(best, time.perf_counter() - start)
        return best

    small, large = cluster(50), cluster(400)
    # 8x the resources: linear is ~8x, quadratic ~64x; 24x leaves room for noise.
    assert seconds(large) < 24 * seconds(small)
