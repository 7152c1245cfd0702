"""Node shapes: what a GKE node of the catalog's machine type gives to pods.

One place for three consumers: the plan sizes each worker pod to fit its node and
picks the node pool's boot disk or local SSD; the emitted README creates node pools of
exactly that shape; ``gen check`` verifies that every accelerator pod fits the node
the catalog names for its accelerator. Facts: ``catalog/nodes.yaml``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from . import catalog
from .memo import by_items

if TYPE_CHECKING:  # the spec rules import this module: types only, no import cycle
    from .spec.model import Accelerator, Model

GPU_SELECTOR = "cloud.google.com/gke-accelerator"
TPU_SELECTOR = "cloud.google.com/gke-tpu-accelerator"
TPU_TOPOLOGY_SELECTOR = "cloud.google.com/gke-tpu-topology"
RESOURCES = ("cpu", "memory", "ephemeral-storage")

_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
_FACTORS = {
    None: 1,
    "m": 0.001,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
}
GIB = 2**30


def quantity(value: Any) -> float | None:
    """A Kubernetes quantity ("500m", "24Gi", 6) as a number (cores or bytes); None if not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    match = _QUANTITY.match(str(value).strip())
    return float(match.group(1)) * _FACTORS[match.group(2)] if match else None


def _tiered(amount: float, tiers: list[list[Any]]) -> float:
    reserved, left = 0.0, amount
    for size, fraction in tiers:
        step = left if size is None else min(left, size)
        reserved += step * fraction
        left -= step
        if left <= 0:
            break
    return reserved


@dataclass(frozen=True)
class Storage:
    """Where a node keeps pods' ephemeral storage: a boot disk of ``disk_gb`` or local SSDs."""

    disk_gb: int = 100
    local_ssds: int = 0


def allocatable(machine_type: str, storage: Storage = Storage()) -> dict[str, float]:
    """cpu (cores), memory and ephemeral-storage (bytes) the kubelet offers to pods."""
    facts = catalog.nodes()
    machine = facts["machines"][machine_type]
    res = facts["reservations"]
    cpu = machine["vcpu"] - _tiered(machine["vcpu"], res["cpu"])
    mem_gib = machine["memoryGiB"] - _tiered(machine["memoryGiB"], res["memory"])
    mem_gib -= res["memoryEvictionMiB"] / 1024
    if storage.local_ssds:
        ssd = res["localSsd"]
        capacity = storage.local_ssds * ssd["sizeGiB"]
        system = ssd["systemGiB"][min(storage.local_ssds, len(ssd["systemGiB"])) - 1]
        eph_gib = capacity - system - capacity * ssd["evictionFraction"]
    else:
        disk = res["bootDisk"]
        size = storage.disk_gb
        capacity = size * disk["capacityPerGb"]
        system = min(size * disk["systemMaxFraction"], disk["systemBaseGiB"] + size * disk["systemFraction"])
        eph_gib = capacity - min(system, disk["systemCapGiB"]) - capacity * disk["evictionFraction"]
    return {"cpu": cpu, "memory": mem_gib * GIB, "ephemeral-storage": eph_gib * GIB}


def overhead(gcs_fuse: bool) -> dict[str, float]:
    """Requests of what shares an accelerator node with the worker pod."""
    facts = catalog.nodes()
    parts = [facts["systemPods"], *([facts["gcsFuseSidecar"]] if gcs_fuse else [])]
    return {k: sum(quantity(p[_key(k)]) or 0.0 for p in parts) for k in RESOURCES}


def _key(resource: str) -> str:
    return "ephemeralStorage" if resource == "ephemeral-storage" else resource


def machines_for(node_selector: dict[str, Any], accelerators: int) -> list[str]:
    """The machine types the catalog names for a pod's accelerator node selector, gen's
    choice first (several GPU machine types carry the same GPU count)."""
    gpu = node_selector.get(GPU_SELECTOR)
    if isinstance(gpu, str) and gpu in catalog.gpus():
        return [str(m) for m in catalog.gpus()[gpu].get("machineTypes", {}).get(accelerators, [])]
    tpu, topology = node_selector.get(TPU_SELECTOR), node_selector.get(TPU_TOPOLOGY_SELECTOR)
    for name, entry in catalog.tpus().items():
        if entry["nodeSelectorAccelerator"] == tpu and isinstance(topology, str):
            topo = catalog.tpu_topology(name, topology)
            return [str(topo["machineType"])] if topo else []
    return []


def machine_for(node_selector: dict[str, Any], accelerators: int) -> str | None:
    """gen's machine type for a pod's accelerator node selector."""
    machines = machines_for(node_selector, accelerators)
    return machines[0] if machines else None


def storage_for(machine_type: str, ephemeral: float, gcs_fuse: bool) -> Storage:
    """Bundled local SSDs when the machine has them, else the smallest boot disk that
    holds ``ephemeral`` bytes beside the node's other pods (the largest if none does)."""
    facts = catalog.nodes()
    ssds = facts["machines"][machine_type].get("localSsd", 0)
    if ssds:
        return Storage(local_ssds=ssds)
    need = ephemeral + overhead(gcs_fuse)["ephemeral-storage"]
    sizes = facts["bootDiskSizesGb"]
    for size in sizes:
        if allocatable(machine_type, Storage(disk_gb=size))["ephemeral-storage"] >= need:
            return Storage(disk_gb=size)
    return Storage(disk_gb=sizes[-1])


def worker_budget(machine_type: str, storage: Storage, gcs_fuse: bool) -> dict[str, float]:
    """The most a worker pod should request on this node: the configured share of what
    is left after the system pods (and the GCS Fuse sidecar)."""
    share = catalog.nodes()["workerShare"]
    free = allocatable(machine_type, storage)
    used = overhead(gcs_fuse)
    return {k: (free[k] - used[k]) * share for k in RESOURCES}


def fits(requests: dict[str, Any], machine_type: str, storage: Storage, gcs_fuse: bool) -> dict[str, str]:
    """resource -> why it does not fit (empty when every request fits beside the overhead)."""
    free = allocatable(machine_type, storage)
    used = overhead(gcs_fuse)
    out = {}
    for k in RESOURCES:
        want = quantity(requests.get(k, 0)) or 0.0
        room = free[k] - used[k]
        if want > room:
            out[k] = f"{format_quantity(k, want)} requested, {format_quantity(k, room)} free"
    return out


def format_quantity(resource: str, amount: float) -> str:
    if resource == "cpu":
        return f"{amount:g}" if amount == int(amount) else f"{math.floor(amount * 1000)}m"
    return f"{amount / GIB:.1f}Gi"


def cap(resource: str, amount: float, budget: float) -> str:
    """A request no larger than ``budget``, as a quantity string (whole cores / GiB)."""
    value = min(amount, budget)
    if resource == "cpu":
        return str(max(1, math.floor(value)))
    return f"{max(1, math.floor(value / GIB))}Gi"


def _dict(x: Any) -> dict[str, Any]:
    return x if isinstance(x, dict) else {}


def stated_storage(template: dict[str, Any], machine_type: str) -> tuple[Storage, str]:
    """The node storage a pod template states it was sized for (catalog/nodes.yaml:
    the local-SSD node label, or the boot-disk annotation; GKE's default disk
    otherwise), and how to say it."""
    facts = catalog.nodes()
    selector = _dict(_dict(template.get("spec")).get("nodeSelector"))
    if selector.get(facts["localSsdLabel"]) == "true":
        ssds = facts["machines"].get(machine_type, {}).get("localSsd", 0) or 1
        return Storage(local_ssds=ssds), f"{ssds} local SSD{'s' * (ssds > 1)}"
    annotations = _dict(_dict(template.get("metadata")).get("annotations"))
    disk = str(annotations.get(facts["bootDiskAnnotation"], facts["defaultBootDiskGb"]))
    size = int(disk) if disk.isdigit() else int(facts["defaultBootDiskGb"])
    return Storage(disk_gb=size), f"a {size} GB boot disk"


def storage_flags(storage: Storage) -> str:
    """gcloud node-pool flags that give a node this storage."""
    if storage.local_ssds:
        return f"--ephemeral-storage-local-ssd count={storage.local_ssds}"
    if storage.disk_gb != catalog.nodes()["defaultBootDiskGb"]:
        return f"--disk-size {storage.disk_gb}"
    return ""


def _scale(amount: Any, factor: int) -> str:
    """Multiply a catalog quantity such as 24Gi or 6 by an integer factor."""
    text = str(amount)
    digits = text.rstrip("KMGTPEik")
    return f"{int(digits) * factor}{text[len(digits) :]}"


@dataclass(frozen=True)
class NodeShape:
    """The node a worker pod runs on and what the pod asks of it (spec keys: cpu,
    memory, ephemeralStorage)."""

    machine_type: str
    storage: Storage
    requests: dict[str, Any]
    gcs_fuse: bool = False

    def node_labels(self) -> dict[str, str]:
        """Select nodes whose ephemeral storage is on local SSD, when sized for them."""
        return {catalog.nodes()["localSsdLabel"]: "true"} if self.storage.local_ssds else {}

    def pod_annotations(self) -> dict[str, str]:
        """State a boot disk larger than GKE's default: gen check sizes the node by it."""
        facts = catalog.nodes()
        if self.storage.local_ssds or self.storage.disk_gb == facts["defaultBootDiskGb"]:
            return {}
        return {facts["bootDiskAnnotation"]: str(self.storage.disk_gb)}

    def misfits(self) -> dict[str, str]:
        """resource -> why the requests do not fit this node (empty when they do)."""
        k8s = {_k8s(k): v for k, v in self.requests.items()}
        return fits(k8s, self.machine_type, self.storage, self.gcs_fuse)


def _k8s(key: str) -> str:
    return "ephemeral-storage" if key == "ephemeralStorage" else key


def _sized(machine: str, base: dict[str, Any], override: dict[str, Any], fuse: bool) -> NodeShape:
    """The catalog's requests capped to what the machine gives beside its system pods,
    the spec's overrides as given; the boot disk (or local SSD) chosen to hold the
    ephemeral storage."""
    return _own(_size_once(machine, base, override, fuse))  # a fleet has a few dozen: each sized once


def _own(shape: NodeShape) -> NodeShape:
    return replace(shape, requests=dict(shape.requests))  # the caller's own dict


def _size(machine: str, base: dict[str, Any], override: dict[str, Any], fuse: bool) -> NodeShape:
    wanted = {**base, **override}
    storage = storage_for(machine, quantity(wanted.get("ephemeralStorage", 0)) or 0.0, fuse)
    budget = worker_budget(machine, storage, fuse)
    requests = dict(wanted)
    for key in ("cpu", "memory", "ephemeralStorage"):
        amount = quantity(base.get(key))
        if key in base and key not in override and amount is not None and amount > budget[_k8s(key)]:
            requests[key] = cap(_k8s(key), amount, budget[_k8s(key)])
    return NodeShape(machine, storage, requests, fuse)


_size_once = by_items(_size)


def worker_shape(model: Model) -> NodeShape:
    """The node of a model's worker pods: the first machine type the catalog lists for its
    accelerator that holds the worker's requests (the last one if none does: the spec
    rules report that), sized storage, and the requests."""
    # a fleet's models share a few dozen accelerators and overrides: each worked out once
    return _own(_worker_shape_once(model.accelerator, model.worker_resources, model.gcs_fuse is not None))


def _worker_shape(acc: Accelerator, override: dict[str, Any], fuse: bool) -> NodeShape:
    if acc.family == "gpu":
        gpu = catalog.gpus()[acc.type]
        count = acc.gpu_count
        base = {k: _scale(v, count) for k, v in gpu["perGpu"].items()}
        machines = [str(t) for t in gpu["machineTypes"][count]]
    else:
        topo = acc.tpu_slice
        assert topo is not None, "validated by spec.rules.check_accelerator"
        base = dict(catalog.tpus()[acc.type]["perHost"])
        machines = [str(topo["machineType"])]
    shapes = [_sized(m, base, override, fuse) for m in machines]
    return next((shape for shape in shapes if not shape.misfits()), shapes[-1])


_worker_shape_once = by_items(_worker_shape)
