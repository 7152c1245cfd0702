"""Node shapes (generator/nodes.py, catalog/nodes.yaml): what GKE nodes give to pods,
and every worker gen sizes fits the node pool the README creates for it."""

from __future__ import annotations

import pytest

from generator import catalog, nodes
from generator.spec.build import model_from_data

GIB = 2**30


def test_default_boot_disk_matches_gkes_own_example():
    # GKE "Plan for node sizes": a node with the default 100 GB boot disk reports
    # allocatable ephemeral-storage 47060071478 bytes.
    eph = nodes.allocatable("g2-standard-8")["ephemeral-storage"]
    assert eph == pytest.approx(47060071478, rel=0.005)


def test_cpu_and_memory_reservations():
    free = nodes.allocatable("g2-standard-8")
    # 6 % of the first core, 1 % of the second, 0.5 % of the next two, 0.25 % above: 90m on 8 cores
    assert free["cpu"] == pytest.approx(7.91)
    # 25 % of 4 GiB + 20 % of 4 + 10 % of 8 + 6 % of 16 = 3.56 GiB, plus the 100 MiB eviction threshold
    assert free["memory"] / GIB == pytest.approx(32 - 3.56 - 100 / 1024)


def test_local_ssd_and_larger_disks():
    assert nodes.allocatable("a3-highgpu-2g", nodes.Storage(local_ssds=4))["ephemeral-storage"] / GIB == 1250
    small, large = (
        nodes.allocatable("g2-standard-24", nodes.Storage(d))["ephemeral-storage"] for d in (100, 200)
    )
    assert large > 2 * small


def test_storage_is_the_smallest_disk_that_holds_the_request():
    assert nodes.storage_for("g2-standard-24", 48 * GIB, gcs_fuse=True) == nodes.Storage(disk_gb=200)
    assert nodes.storage_for("g2-standard-8", 24 * GIB, gcs_fuse=False) == nodes.Storage(disk_gb=100)
    assert nodes.storage_for("a3-highgpu-2g", 900 * GIB, gcs_fuse=False) == nodes.Storage(local_ssds=4)


def _every_accelerator_shape():
    for gpu, entry in catalog.gpus().items():
        for count in entry["counts"]:
            yield {"type": gpu, "count": count}
    for tpu, entry in catalog.tpus().items():
        for topo in entry["topologies"]:
            yield {"type": tpu, "topology": topo["topology"]}


@pytest.mark.parametrize(
    "accelerator", list(_every_accelerator_shape()), ids=lambda a: "-".join(map(str, a.values()))
)
@pytest.mark.parametrize("fuse", [False, True], ids=["hf", "gcsfuse"])
def test_every_catalog_worker_fits_its_node(accelerator, fuse):
    storage = {"storage": {"gcsFuse": _FUSE}} if fuse else {}
    shape = nodes.worker_shape(_model({"accelerator": accelerator, **storage}))
    assert shape.machine_type == nodes.machines_for(_selector(accelerator), _chips(accelerator))[0]
    assert shape.misfits() == {}


def _selector(accelerator):
    if accelerator["type"] in catalog.gpus():
        return {nodes.GPU_SELECTOR: accelerator["type"]}
    tpu = catalog.tpus()[accelerator["type"]]
    return {
        nodes.TPU_SELECTOR: tpu["nodeSelectorAccelerator"],
        nodes.TPU_TOPOLOGY_SELECTOR: accelerator["topology"],
    }


def _chips(accelerator):
    if accelerator["type"] in catalog.gpus():
        return accelerator["count"]
    return catalog.tpu_topology(accelerator["type"], accelerator["topology"])["chipsPerHost"]


_FUSE = {"bucket": "b", "mountPath": "/data", "mountOptions": "implicit-dirs", "readOnly": True}


def _model(fields):
    """A typed model with the given fields (what the planner and the spec rules pass)."""
    return model_from_data({"name": "m", "source": "hf://org/m", **fields})


def test_a_larger_request_picks_a_larger_machine_with_the_same_gpus():
    model = _model({"accelerator": {"type": "nvidia-l4", "count": 1}, "resources": {"worker": {"cpu": 14}}})
    assert nodes.worker_shape(model).machine_type == "g2-standard-16"
    too_big = _model({"accelerator": {"type": "nvidia-l4", "count": 1}, "resources": {"worker": {"cpu": 40}}})
    shape = nodes.worker_shape(too_big)
    assert shape.machine_type == "g2-standard-32" and "cpu" in shape.misfits()


def test_every_gpu_count_names_a_machine_the_catalog_knows():
    machines = catalog.nodes()["machines"]
    for gpu, entry in catalog.gpus().items():
        assert sorted(entry["machineTypes"]) == sorted(entry["counts"]), gpu
        for types in entry["machineTypes"].values():
            assert all(t in machines for t in types), gpu
    for entry in catalog.tpus().values():
        assert all(t["machineType"] in machines for t in entry["topologies"])


def test_quantities():
    assert nodes.quantity("500m") == 0.5
    assert nodes.quantity("24Gi") == 24 * GIB
    assert nodes.quantity(6) == 6
    assert nodes.quantity("lots") is None


def test_a_worker_shape_is_the_callers_own_and_keeps_cpu_2_apart_from_2_0():
    """worker_shape is memoized per accelerator and override: each caller still gets its
    own requests, and overrides that print differently are not mixed up."""
    acc = {"accelerator": {"type": "nvidia-l4", "count": 1}}
    first = nodes.worker_shape(_model({**acc, "resources": {"worker": {"cpu": 2}}}))
    first.requests["cpu"] = "changed by the caller"
    again = nodes.worker_shape(_model({**acc, "resources": {"worker": {"cpu": 2}}}))
    assert again.requests["cpu"] == 2
    as_float = nodes.worker_shape(_model({**acc, "resources": {"worker": {"cpu": 2.0}}}))
    assert type(as_float.requests["cpu"]) is float
