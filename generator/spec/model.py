"""The typed spec: frozen dataclasses mirroring ``schemas/models.schema.json``.

Built once from the defaulted data of a valid spec (``Spec.model``, by build.py); code outside
``generator/spec`` reads the spec only through these classes, never by key.
Each field is its schema property in snake case (``class_``, ``from_``: Python keywords);
tests/test_spec_model.py fails when the schema gains or loses a property the model does
not mirror, or a default differs. Derived values (route path, served model ids,
accelerator family, TPU slice, ...) are ``init=False`` fields computed once when the
object is built: the planner and the spec rules share them.

Objects whose mapping the chart values print as given (a Secret reference, GCS Fuse,
the load-balancing modes) keep the spec's key order, so the values files stay byte
for byte what they were when they were dicts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from .. import catalog, gcs, naming
from ..diagnostics import SpecPath

# ---- derivations shared with the spec rules (which must cope with raw, maybe malformed data)


def route_path(name: str, path: str | None) -> str:
    """The path prefix of a model's route (`path` routing): its `path`, else `/<name>`."""
    return path if path is not None else "/" + name


def header_match(routing: str, model_count: int) -> bool:
    """Whether each route matches its model ids in the model header; otherwise one
    catch-all route (a single RayService behind the gateway, as GKE's samples do)."""
    return routing in ("body", "header") or (routing == "inference-pool" and model_count > 1)


def accelerator_family(accelerator_type: str) -> str:
    return "tpu" if accelerator_type in catalog.tpus() else "gpu"


def gcs_bucket(source: str) -> str | None:
    """The bucket of a `gs://` source; None for Hugging Face."""
    where = gcs.split(source)
    return where[0] if where else None


def ray_version(model_version: str | None, default_version: str | None) -> str:
    """The model's Ray version: its own, the fleet default, else the targeted release."""
    if model_version is not None:
        return model_version
    if default_version is not None:
        return default_version
    return str(catalog.releases()["ray"]["version"])


# ---- small objects


@dataclass(frozen=True, slots=True, kw_only=True)
class SecretRef:
    name: str
    key: str
    key_order: tuple[str, ...] = field(default=("name", "key"), compare=False, repr=False)

    def as_values(self) -> dict[str, str]:
        return {k: self.name if k == "name" else self.key for k in self.key_order}


class Inherit(Enum):
    """A model field left out: the fleet's `defaults` apply."""

    INHERIT = "inherit"


INHERIT = Inherit.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class Cluster:
    name: str
    region: str | None = None
    mode: str = "standard"
    role: str = "workload"


@dataclass(frozen=True, slots=True, kw_only=True)
class Metadata:
    name: str
    namespace: str = "default"
    project: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Defaults:
    image: str | None = None
    ray_version: str | None = None
    hf_token_secret: SecretRef | None = field(
        default_factory=lambda: SecretRef(name="hf-secret", key="hf_api_token")
    )
    inference_objective_profile: str = "gaie"


@dataclass(frozen=True, slots=True, kw_only=True)
class Tls:
    certificate_secret: str


@dataclass(frozen=True, slots=True, kw_only=True)
class GatewayAddress:
    region: str
    address: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GatewayHealthCheck:
    path: str = "/-/healthz"
    check_interval_sec: int = 5
    timeout_sec: int = 5
    healthy_threshold: int = 2
    unhealthy_threshold: int = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class Gateway:
    name: str | None = None
    class_: str = "gke-l7-rilb"
    routing: str = "body"
    model_header: str = "X-Gateway-Model-Name"
    port: int = 80
    tls: Tls | None = None
    addresses: tuple[GatewayAddress, ...] | None = None
    health_check: GatewayHealthCheck = field(default_factory=GatewayHealthCheck)
    timeout_sec: int | None = None
    metrics_reader: bool = False
    # derived: the gateway class's catalog facts
    multi_cluster: bool = field(init=False, compare=False, repr=False)
    internal: bool = field(init=False, compare=False, repr=False)
    pools: bool = field(init=False, compare=False, repr=False)  # routing to InferencePools

    def __post_init__(self) -> None:
        facts = catalog.gateway_classes().get(self.class_, {})
        object.__setattr__(self, "multi_cluster", bool(facts.get("multiCluster")))
        object.__setattr__(self, "internal", bool(facts.get("internal")))
        object.__setattr__(self, "pools", self.routing == "inference-pool")


@dataclass(frozen=True, slots=True, kw_only=True)
class NetworkPolicy:
    enabled: bool = True
    operator_namespace: str
    load_balancer_cidrs: tuple[str, ...] = ()
    metrics_namespaces: tuple[str, ...] = ("gmp-system",)


@dataclass(frozen=True, slots=True, kw_only=True)
class Security:
    network_policy: NetworkPolicy | None = None


# ---- one model


@dataclass(frozen=True, slots=True, kw_only=True)
class Accelerator:
    type: str
    count: int | None = None
    topology: str | None = None
    family: str = field(init=False, compare=False, repr=False)  # "gpu" or "tpu"
    # the catalog entry of a TPU's slice topology (None for GPUs and unknown topologies)
    tpu_slice: dict[str, Any] | None = field(init=False, compare=False, repr=False)
    chips: int = field(
        init=False, compare=False, repr=False
    )  # accelerators of one replica: the pod's GPUs, or the whole slice
    hosts: int = field(
        init=False, compare=False, repr=False
    )  # worker pods of one replica (TPU slice hosts; 1 for GPUs)

    def __post_init__(self) -> None:
        family = accelerator_family(self.type)
        topo = catalog.tpu_topology(self.type, self.topology or "") if family == "tpu" else None
        if family == "gpu":
            chips, hosts = self.gpu_count, 1
        else:
            chips = int(topo["hosts"] * topo["chipsPerHost"]) if topo else 0
            hosts = int(topo["hosts"]) if topo else 0
        object.__setattr__(self, "family", family)
        object.__setattr__(self, "tpu_slice", topo)
        object.__setattr__(self, "chips", chips)
        object.__setattr__(self, "hosts", hosts)

    @property
    def gpu_count(self) -> int:
        """GPUs per worker pod (GPU types; 1 when `count` is left out)."""
        return self.count if self.count is not None else 1

    @property
    def known(self) -> bool:
        """The catalog knows this accelerator shape (GPU count with machine types, or TPU slice)."""
        if self.family == "gpu":
            gpu = catalog.gpus().get(self.type)
            return gpu is not None and self.gpu_count in gpu["machineTypes"]
        return self.tpu_slice is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class Replicas:
    min: int = 1
    max: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class Resources:
    cpu: int | str | None = None
    memory: str | None = None
    ephemeral_storage: str | None = None

    def given(self) -> dict[str, Any]:
        """The quantities set, keyed as the accelerator catalog keys its defaults."""
        out: dict[str, Any] = {}
        if self.cpu is not None:
            out["cpu"] = self.cpu
        if self.memory is not None:
            out["memory"] = self.memory
        if self.ephemeral_storage is not None:
            out["ephemeralStorage"] = self.ephemeral_storage
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelResources:
    head: Resources | None = None
    worker: Resources | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelHealthCheck:
    period_s: int = 600
    timeout_s: int = 300


@dataclass(frozen=True, slots=True, kw_only=True)
class Objective:
    name: str
    priority: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomMetric:
    max_utilization: int = 60
    dry_run: bool = False
    key_order: tuple[str, ...] = field(default=("maxUtilization", "dryRun"), compare=False, repr=False)

    def as_values(self) -> dict[str, Any]:
        given = {"maxUtilization": self.max_utilization, "dryRun": self.dry_run}
        return {k: given[k] for k in self.key_order}


@dataclass(frozen=True, slots=True, kw_only=True)
class InFlight:
    max_requests_per_endpoint: int
    dry_run: bool = False
    key_order: tuple[str, ...] = field(
        default=("maxRequestsPerEndpoint", "dryRun"), compare=False, repr=False
    )

    def as_values(self) -> dict[str, Any]:
        given = {"maxRequestsPerEndpoint": self.max_requests_per_endpoint, "dryRun": self.dry_run}
        return {k: given[k] for k in self.key_order}


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadBalancing:
    custom_metric: CustomMetric | None = None
    in_flight: InFlight | None = None
    timeout_sec: int | None = None
    traffic_duration: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceAccount:
    name: str
    gcp_service_account: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GcsFuse:
    bucket: str
    mount_path: str = "/data"
    mount_options: str = "implicit-dirs"
    read_only: bool = True
    key_order: tuple[str, ...] = field(
        default=("bucket", "mountPath", "mountOptions", "readOnly"), compare=False, repr=False
    )

    def as_values(self) -> dict[str, Any]:
        given = {
            "bucket": self.bucket,
            "mountPath": self.mount_path,
            "mountOptions": self.mount_options,
            "readOnly": self.read_only,
        }
        return {k: given[k] for k in self.key_order}


@dataclass(frozen=True, slots=True, kw_only=True)
class Storage:
    gcs_fuse: GcsFuse | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Lora:
    path: str
    max_adapters_per_replica: int = 16
    max_rank: int = 16


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelFacts:
    """config.json numbers of a model gen's catalog does not know."""

    params: int
    dtype: str
    layers: int
    attention_heads: int
    kv_heads: int | None = None
    head_dim: int | None = None
    hidden_size: int
    vocab_size: int | None = None
    max_position_embeddings: int
    num_experts: int | None = None
    experts_per_token: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MultiplexedModel:
    name: str
    id: str
    source: str
    priority: int = 0
    model_facts: ModelFacts | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Multiplexing:
    models: tuple[MultiplexedModel, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Download:
    enabled: bool = False
    image: str = "python:3.10-slim"
    from_: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatUI:
    enabled: bool = False
    image: str = "us-docker.pkg.dev/google-samples/containers/gke/gradio-app:v1.0.7"


@dataclass(frozen=True, slots=True, kw_only=True)
class RuntimeEnv:
    env_vars: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class ServedModel:
    """One model a RayService serves: the whole model, or one multiplexed entry."""

    path: SpecPath  # relative to the model: () or ("multiplexing", "models", j)
    model_id: str
    source: str
    facts: ModelFacts | None


@dataclass(frozen=True, slots=True)
class ObjectiveEntry:
    """One InferenceObjective of a model's pool: an objective or a multiplexed model."""

    path: SpecPath  # relative to the model
    name: str
    priority: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Model:
    name: str
    model_id: str | None = None
    source: str
    accelerator: Accelerator
    replicas: Replicas = field(default_factory=Replicas)
    engine_args: Mapping[str, Any] = field(default_factory=dict)
    image: str | None = None
    ray_version: str | None = None
    haproxy: bool | None = None
    hf_token_secret: SecretRef | Inherit | None = INHERIT
    resources: ModelResources = field(default_factory=ModelResources)
    health_check: ModelHealthCheck = field(default_factory=ModelHealthCheck)
    log_engine_metrics: bool = True
    path: str | None = None
    clusters: tuple[str, ...] | None = None
    objectives: tuple[Objective, ...] = ()
    load_balancing: LoadBalancing | None = None
    service_account: ServiceAccount | None = None
    storage: Storage | None = None
    lora: Lora | None = None
    multiplexing: Multiplexing | None = None
    dranet: bool = False
    download: Download | None = None
    chat_ui: ChatUI | None = None
    runtime_env: RuntimeEnv | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    model_facts: ModelFacts | None = None
    # derived, once
    names: dict[str, str] = field(
        init=False, compare=False, repr=False
    )  # naming.model_names: every object named after the model
    route_path: str = field(init=False, compare=False, repr=False)
    served: tuple[ServedModel, ...] = field(init=False, compare=False, repr=False)
    model_ids: tuple[str, ...] = field(init=False, compare=False, repr=False)
    pool_objectives: tuple[ObjectiveEntry, ...] = field(init=False, compare=False, repr=False)
    gcs_fuse: GcsFuse | None = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        mux = self.multiplexing
        if mux:
            served = tuple(
                ServedModel(("multiplexing", "models", j), e.id, e.source, e.model_facts)
                for j, e in enumerate(mux.models)
            )
        else:
            own = self.model_id if self.model_id is not None else self.name
            served = (ServedModel((), own, self.source, self.model_facts),)
        entries = [
            ObjectiveEntry(("objectives", j), o.name, o.priority) for j, o in enumerate(self.objectives)
        ]
        if mux:
            entries += [
                ObjectiveEntry(s.path, e.name, e.priority) for s, e in zip(served, mux.models, strict=True)
            ]
        object.__setattr__(self, "names", naming.model_names(self.name))
        object.__setattr__(self, "route_path", route_path(self.name, self.path))
        object.__setattr__(self, "served", served)
        object.__setattr__(self, "model_ids", tuple(s.model_id for s in served))
        object.__setattr__(self, "pool_objectives", tuple(entries))
        object.__setattr__(self, "gcs_fuse", self.storage.gcs_fuse if self.storage else None)

    @property
    def chat_ui_enabled(self) -> bool:
        return bool(self.chat_ui and self.chat_ui.enabled)

    @property
    def download_enabled(self) -> bool:
        return bool(self.download and self.download.enabled)

    @property
    def custom_metric(self) -> CustomMetric | None:
        return self.load_balancing.custom_metric if self.load_balancing else None

    @property
    def worker_resources(self) -> dict[str, Any]:
        """The spec's worker resources (catalog keys), empty when not set."""
        worker = self.resources.worker
        return worker.given() if worker else {}

    @property
    def head_resources(self) -> dict[str, Any]:
        head = self.resources.head
        return head.given() if head else {}

    def placed_on(self, cluster: str, every: tuple[str, ...]) -> bool:
        return cluster in (self.clusters if self.clusters is not None else every)


@dataclass(frozen=True, slots=True, kw_only=True)
class Fleet:
    """The whole spec (schema defaults applied)."""

    api_version: str
    kind: str
    metadata: Metadata
    defaults: Defaults = field(default_factory=Defaults)
    clusters: tuple[Cluster, ...] = field(default_factory=lambda: (Cluster(name="default"),))
    gateway: Gateway = field(default_factory=Gateway)
    models: tuple[Model, ...]
    security: Security = field(default_factory=Security)
    # derived, once
    cluster_names: tuple[str, ...] = field(init=False, compare=False, repr=False)
    gateway_name: str = field(init=False, compare=False, repr=False)
    header_match: bool = field(
        init=False, compare=False, repr=False
    )  # routes match model ids in a header (see header_match())
    objective_profile: dict[str, Any] = field(init=False, compare=False, repr=False)  # catalog: releases.yaml

    def __post_init__(self) -> None:
        object.__setattr__(self, "cluster_names", tuple(c.name for c in self.clusters))
        gateway = self.gateway.name or naming.fleet_names(self.metadata.name)["gateway"]
        object.__setattr__(self, "gateway_name", gateway)
        object.__setattr__(self, "header_match", header_match(self.gateway.routing, len(self.models)))
        profiles = catalog.releases()["inferenceObjectiveProfiles"]
        object.__setattr__(self, "objective_profile", profiles[self.defaults.inference_objective_profile])

    @property
    def network_policy(self) -> NetworkPolicy | None:
        """The network policy when it is on."""
        np = self.security.network_policy
        return np if np is not None and np.enabled else None

    @property
    def ray_version(self) -> str:
        """The fleet's Ray version (defaults, else the targeted release)."""
        return ray_version(None, self.defaults.ray_version)

    def model_ray_version(self, m: Model) -> str:
        return ray_version(m.ray_version, self.defaults.ray_version)

    def model_image(self, m: Model) -> str:
        """The model's image: its own, the fleet default, else the release's image of its Ray."""
        if m.image is not None:
            return m.image
        if self.defaults.image is not None:
            return self.defaults.image
        images: dict[str, str] = catalog.releases()["ray"]["images"]
        return images.get(self.model_ray_version(m), "")

    def hf_token_secret(self, m: Model) -> SecretRef | None:
        own = m.hf_token_secret
        return self.defaults.hf_token_secret if isinstance(own, Inherit) else own

    def placed(self, cluster: str) -> list[tuple[int, Model]]:
        """(index, model) of the models that run on ``cluster``."""
        every = self.cluster_names
        return [(i, m) for i, m in enumerate(self.models) if m.placed_on(cluster, every)]
