"""Accelerator catalog: internally consistent, in step with the schema, and the planner's math."""

from __future__ import annotations

import math

import pytest

from generator import catalog
from generator.spec.build import model_from_data
from generator.spec.model import Cluster
from generator.spec.schema import spec_schema

STANDARD = {"name": "c", "mode": "standard"}
AUTOPILOT = {"name": "c", "mode": "autopilot"}
TPU_CASES = [(t, e) for t, d in catalog.tpus().items() for e in d["topologies"]]


def test_schema_enum_is_the_catalog():
    enum = spec_schema()["$defs"]["accelerator"]["properties"]["type"]["enum"]
    assert sorted(enum) == catalog.accelerator_types(), (
        "schemas/models.schema.json accelerator.type enum must list exactly the catalog types"
    )


@pytest.mark.parametrize("tpu_type, entry", TPU_CASES, ids=[f"{t}-{e['topology']}" for t, e in TPU_CASES])
def test_tpu_topology_math(tpu_type, entry):
    chips = math.prod(int(d) for d in entry["topology"].split("x"))
    assert entry["hosts"] * entry["chipsPerHost"] == chips
    assert entry["chipsPerHost"] in (1, 4, 8)
    assert entry["machineType"].endswith(f"-{entry['chipsPerHost']}t")
    assert catalog.tpu_topology(tpu_type, entry["topology"]) == entry


@pytest.mark.parametrize(
    "tpu_type, topology", [("tpu-v6e", "4x5"), ("tpu-v6e", "2x2x1"), ("tpu-v5p", "4x4"), ("tpu-v5e", "3x3")]
)
def test_invalid_tpu_topologies(tpu_type, topology):
    assert catalog.tpu_topology(tpu_type, topology) is None


@pytest.mark.parametrize("gpu", sorted(catalog.gpus()))
def test_gpu_entries(gpu):
    entry = catalog.gpus()[gpu]
    assert entry["counts"] == sorted(set(entry["counts"]))
    assert set(entry["perGpu"]) == {"cpu", "memory", "ephemeralStorage"}


def _typed_worker(model, cluster):
    """plan._worker on the typed spec of a hand-written model and cluster."""
    from generator.plan import _worker

    typed = model_from_data({"source": "hf://org/m", **model})
    return _worker(typed, Cluster(name=cluster["name"], mode=cluster["mode"]))


def test_worker_resources_scale_with_gpu_count():
    model = {
        "name": "m",
        "accelerator": {"type": "nvidia-l4", "count": 4},
        "replicas": {"min": 1, "max": 1},
        "resources": {},
        "dranet": False,
    }
    worker, llm = _typed_worker(model, STANDARD)
    assert worker["resources"]["requests"] == {
        "cpu": "24",
        "ephemeral-storage": "96Gi",
        "memory": "96Gi",
        "nvidia.com/gpu": "4",
    }
    assert worker["resources"]["limits"] == {
        "ephemeral-storage": "96Gi",
        "memory": "96Gi",
        "nvidia.com/gpu": "4",
    }
    assert worker["placement"] == {"gkeAccelerator": "nvidia-l4"}
    # Ray Serve LLM places tensor x pipeline GPUs per replica: all 4 in one TP group
    assert llm == {"acceleratorType": "L4", "engineDefaults": {"tensor_parallel_size": 4}}


def test_worker_resource_overrides_win():
    model = {
        "name": "m",
        "accelerator": {"type": "nvidia-h100-80gb", "count": 2},
        "replicas": {"min": 1, "max": 1},
        "resources": {"worker": {"memory": "300Gi"}},
        "dranet": False,
    }
    worker, _ = _typed_worker(model, STANDARD)
    assert worker["resources"]["requests"]["memory"] == "300Gi"
    # 2 x 24 CPUs from the catalog, capped to 90 % of what an a3-highgpu-2g (52 vCPU) has
    # left after GKE's reservations and system pods
    assert worker["resources"]["requests"]["cpu"] == "46"


@pytest.mark.parametrize("tpu_type, entry", TPU_CASES, ids=[f"{t}-{e['topology']}" for t, e in TPU_CASES])
def test_tpu_worker_group_from_the_catalog(tpu_type, entry):
    model = {
        "name": "m",
        "accelerator": {"type": tpu_type, "topology": entry["topology"]},
        "replicas": {"min": 1, "max": 1},
        "resources": {},
        "dranet": True,
    }
    worker, llm = _typed_worker(model, STANDARD)
    chips = entry["hosts"] * entry["chipsPerHost"]
    assert worker["numOfHosts"] == entry["hosts"]
    assert worker["resources"]["requests"]["google.com/tpu"] == str(entry["chipsPerHost"])
    assert worker["resources"]["limits"]["google.com/tpu"] == str(entry["chipsPerHost"])
    assert worker["placement"] == {
        "tpuAccelerator": catalog.tpus()[tpu_type]["nodeSelectorAccelerator"],
        "tpuTopology": entry["topology"],
    }
    assert worker["resourceClaimTemplate"] == "m-netdev"
    assert llm["acceleratorType"] == catalog.tpus()[tpu_type]["rayAcceleratorType"]
    assert llm["acceleratorConfig"] == {"kind": "tpu", "topology": entry["topology"]}
    # one chip needs no tensor parallelism (vLLM's default is 1)
    assert llm["engineDefaults"].get("tensor_parallel_size", 1) == chips
    assert ("distributed_executor_backend" in llm["engineDefaults"]) == (entry["hosts"] > 1)


def test_autopilot_tpu_with_dranet_selects_its_compute_class():
    model = {
        "name": "m",
        "accelerator": {"type": "tpu-v6e", "topology": "4x4"},
        "replicas": {"min": 1, "max": 1},
        "resources": {},
        "dranet": True,
    }
    worker, _ = _typed_worker(model, AUTOPILOT)
    assert worker["placement"]["computeClass"] == "m-dranet"
    worker, _ = _typed_worker({**model, "dranet": False}, AUTOPILOT)
    assert "computeClass" not in worker["placement"]
    assert worker["resourceClaimTemplate"] == ""


def test_api_groups_come_from_the_api_versions():
    assert catalog.api_group("InferencePool") == "inference.networking.k8s.io"
    assert catalog.api_group("Service") == ""
    assert catalog.api_version("RayService") == "ray.io/v1"


def test_the_local_ssd_label_is_one_fact():
    assert catalog.node_labels()["localSsd"] == catalog.nodes()["localSsdLabel"]
