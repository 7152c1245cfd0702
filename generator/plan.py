"""Spec -> per-cluster values of the umbrella chart.

Every derived value (names, resources from the accelerator catalog, serve-config
fields, which resources go to which cluster) is computed here, once; the charts
only shape manifests from these values.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import __version__, catalog, gcs, nodes
from .diagnostics import format_path
from .layout import engine_defaults
from .spec import Spec
from .spec.model import Cluster, Fleet, Gateway, Model

GENERATOR = f"gen {__version__}"
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
SUBCHARTS = ("ray-llm", "inference-pool", "inference-gateway")
KV_CACHE_EXPORT = "kv-cache"  # the GKE named metric the load balancer balances on


@dataclass
class ClusterPlan:
    name: str
    region: str | None
    role: str
    values: dict[str, Any]
    mode: str = "standard"  # or "autopilot"


@dataclass
class ModelInfo:
    """What the emitted README and NOTES say about one model."""

    name: str
    model_ids: list[str]
    path: str
    source: str
    accelerator: str
    clusters: list[str]
    objectives: list[str]
    # model id -> the InferenceObjective its requests name (multiplexed models)
    objective_by_id: dict[str, str] = field(default_factory=dict)
    # (objective, priority) of every InferenceObjective of the model's pool
    objective_priorities: list[tuple[str, int]] = field(default_factory=list)
    bucket: str | None = None
    service_account: str | None = None
    gcp_service_account: str | None = None
    tpu: dict[str, Any] | None = None
    # several models in one RayService: how many, and the accelerators they hold
    multiplexing: dict[str, int] | None = None
    # LoRA adapters loaded on demand: {"path", "maxAdapters"}
    lora: dict[str, Any] | None = None


@dataclass
class Plan:
    fleet: str
    namespace: str
    spec_name: str
    gateway: dict[str, Any]
    routing: str
    model_header: str
    clusters: list[ClusterPlan]
    models: list[ModelInfo] = field(default_factory=list)
    addons: dict[str, Any] = field(default_factory=dict)
    project: str | None = None
    ray_version: str = ""
    internal: bool = False
    multi_cluster: bool = False
    hf_secrets: list[dict[str, str]] = field(default_factory=list)
    tls_secret: str = ""
    objective_profile: dict[str, Any] = field(default_factory=dict)
    pools: bool = False
    metrics_reader: bool = False


def _container_resources(req: dict[str, Any], accel: dict[str, str]) -> dict[str, Any]:
    """Requests as given; memory and ephemeral storage also limited (no CPU limit, so
    vLLM's tokenizer threads are not throttled); accelerators equal in both."""
    requests: dict[str, str] = {}
    limits: dict[str, str] = {}
    if "cpu" in req:
        requests["cpu"] = str(req["cpu"])
    for key, k8s in (("memory", "memory"), ("ephemeralStorage", "ephemeral-storage")):
        if key in req:
            requests[k8s] = limits[k8s] = str(req[key])
    for k, v in accel.items():
        requests[k] = limits[k] = v
    return {"limits": dict(sorted(limits.items())), "requests": dict(sorted(requests.items()))}


def _env(entries: list[dict[str, str]]) -> list[dict[str, str]]:
    """Catalog env entries as data, {name, value} or {name, fieldRef}: the chart's
    gen-common.envVars turns them into EnvVars."""
    return [dict(e) for e in entries]


def _worker(m: Model, cluster: Cluster) -> tuple[dict[str, Any], dict[str, Any]]:
    """(worker group values, llm accelerator fields) from the accelerator catalog. The
    node labels the workers select go by their catalog name (`placement`); the chart
    turns them into a nodeSelector."""
    acc = m.accelerator
    names = m.names
    shape = nodes.worker_shape(m)
    name_of_label = {key: name for name, key in catalog.node_labels().items()}
    storage = {name_of_label[key]: value for key, value in shape.node_labels().items()}
    if acc.family == "gpu":
        gpu = catalog.gpus()[acc.type]
        count = acc.gpu_count
        worker = {
            "groupName": "gpu-group",
            "numOfHosts": 1,
            "resources": _container_resources(
                shape.requests, {catalog.accelerator_resource("gpu"): str(count)}
            ),
            "placement": {"gkeAccelerator": acc.type, **storage},
            "podAnnotations": shape.pod_annotations(),
            "env": [],
            "resourceClaimTemplate": "",
        }
        return worker, {"acceleratorType": gpu["rayAcceleratorType"], "engineDefaults": engine_defaults(m)}
    tpu = catalog.tpus()[acc.type]
    topo = acc.tpu_slice
    assert topo is not None and acc.topology is not None  # validated
    placement = {"tpuAccelerator": tpu["nodeSelectorAccelerator"], "tpuTopology": acc.topology}
    if cluster.mode == "autopilot" and m.dranet:
        placement["computeClass"] = names["computeClass"]
    worker = {
        "groupName": "tpu-group",
        "numOfHosts": topo["hosts"],
        "resources": _container_resources(
            shape.requests, {catalog.accelerator_resource("tpu"): str(topo["chipsPerHost"])}
        ),
        "placement": {**placement, **storage},
        "podAnnotations": shape.pod_annotations(),
        "env": _env(catalog.accelerators()["tpuWorkerEnv"]),
        "resourceClaimTemplate": names["resourceClaimTemplate"] if m.dranet else "",
    }
    engine: dict[str, Any] = {**engine_defaults(m)}
    if topo["hosts"] > 1:
        engine["distributed_executor_backend"] = "ray"  # one engine across the slice's hosts
    llm = {
        "acceleratorType": tpu["rayAcceleratorType"],
        "acceleratorConfig": {"kind": "tpu", "topology": acc.topology},
        "engineDefaults": engine,
    }
    return worker, llm


def _tpu_slice(m: Model) -> dict[str, Any]:
    """The catalog entry of a TPU model's topology (validated to exist)."""
    topo = m.accelerator.tpu_slice
    assert topo is not None, "validated by spec.rules.check_accelerator"
    return topo


def _model_source(source: str, m: Model) -> str:
    """What Ray Serve LLM loads: a HF repo id, or a path on the GCS Fuse mount."""
    if source.startswith("hf://"):
        return source[len("hf://") :]
    assert m.gcs_fuse is not None, "validated by spec.rules._check_storage"
    mount = m.gcs_fuse.mount_path.rstrip("/")
    path = source[len("gs://") :].split("/", 1)
    return f"{mount}/{path[1]}" if len(path) > 1 and path[1] else mount


class _Downloads:
    """Where each download Job of the fleet writes (its model's source), by bucket and
    prefix: which Jobs write where a model reads is asked once per model, so a fleet of
    thousands sharing a few buckets must not compare every pair."""

    def __init__(self, fleet: Fleet) -> None:
        self._at: dict[tuple[str, str], list[Model]] = {}
        for m in fleet.models:
            where = gcs.split(m.source) if m.download_enabled else None
            if where is not None:
                self._at.setdefault(where, []).append(m)
        self._jobs: dict[int, dict[str, Any]] = {}
        self._prefixes: dict[str, list[str]] = {}  # bucket -> its written prefixes, sorted
        for bucket, prefix in sorted(self._at):
            self._prefixes.setdefault(bucket, []).append(prefix)

    def job(self, m: Model) -> dict[str, Any]:
        """The download Job values of a model that downloads (asked by each model waiting)."""
        found = self._jobs.get(id(m))
        if found is None:
            found = self._jobs[id(m)] = _download(m, m.names)
        return found

    def writing(self, bucket: str, prefix: str) -> list[Model]:
        """The models whose Job writes objects under ``prefix`` (gcs.prefixes_overlap): at
        ``prefix`` or a directory above it, or anywhere below it."""
        prefixes = self._prefixes.get(bucket, [])
        if not prefix:  # the whole bucket
            return [m for p in prefixes for m in self._at[(bucket, p)]]
        parts = prefix.split("/")
        found = [p for n in range(len(parts) + 1) if (bucket, p := "/".join(parts[:n])) in self._at]
        below = itertools.islice(prefixes, bisect.bisect_left(prefixes, prefix + "/"), None)
        found += itertools.takewhile(lambda p: p.startswith(prefix + "/"), below)
        return [m for p in sorted(set(found)) for m in self._at[(bucket, p)]]


def _awaited(m: Model, downloads: _Downloads, order: dict[int, int]) -> list[dict[str, Any]]:
    """The download Jobs a model's pods wait for before vLLM starts: its own, and any other
    model's that writes where it reads in its bucket (two models serving one copy of the
    weights; without the wait the second starts on partial weights), in spec order. The
    marker path is the one inside this model's mount."""
    if m.gcs_fuse is None:
        return []
    bucket = m.gcs_fuse.bucket
    jobs = {id(m): m} if m.download_enabled else {}
    for s in m.served:
        where = gcs.split(s.source)
        if where is not None and where[0] == bucket:
            jobs.update((id(d), d) for d in downloads.writing(bucket, where[1]))
    marker = catalog.operations()["download"]["marker"]
    # its own first, then the others in spec order
    ranked = sorted(jobs.values(), key=lambda d: (d is not m, order[id(d)]))
    out = []
    for d in ranked:
        job = downloads.job(d)
        marker_path = f"{_model_source(d.source, m).rstrip('/')}/{marker}"
        out.append({"name": job["name"], "marker": marker_path, "repoId": job["repoId"]})
    return out


def _model_values(
    fleet: Fleet, i: int, m: Model, cluster: Cluster, downloads: _Downloads, order: dict[int, int]
) -> dict[str, Any]:
    accel = catalog.accelerators()
    family = m.accelerator.family
    names = m.names
    worker, accel_llm = _worker(m, cluster)
    engine = {**accel_llm.pop("engineDefaults"), **_lora_engine_args(m), **m.engine_args}
    r = m.replicas
    served = m.served
    # the spec's env wins over the catalog's for the same name
    user_env = m.env
    worker["env"] = [e for e in worker["env"] if e["name"] not in user_env] + [
        {"name": k, "value": v} for k, v in sorted(user_env.items())
    ]
    worker.update(
        {
            "replicas": r.min * len(served),
            "minReplicas": r.min * len(served),
            "maxReplicas": r.max * len(served),
        }
    )
    hf = fleet.hf_token_secret(m)
    sa = m.service_account
    fuse = m.gcs_fuse
    env_vars = m.runtime_env.env_vars if m.runtime_env else None
    runtime_env = {"env_vars": dict(sorted(env_vars.items()))} if env_vars else {}
    llm_common = {
        **accel_llm,
        "engineKwargs": _exact_yaml(engine),
        "logEngineMetrics": m.log_engine_metrics,
        "minReplicas": r.min,
        "maxReplicas": r.max,
        "healthCheckPeriodS": m.health_check.period_s,
        "healthCheckTimeoutS": m.health_check.timeout_s,
        "lora": _lora(m),
    }
    head = {**accel["headResources"][family], **m.head_resources}
    ray_version = fleet.model_ray_version(m)
    image = fleet.model_image(m)
    haproxy = m.haproxy if m.haproxy is not None else catalog.image_has_haproxy(image)
    return {
        "name": m.name,
        "source": format_path(("models", i)),
        "image": image,
        "haproxyEnv": _haproxy_env(haproxy),
        "upgradeStrategy": catalog.operations()["pooledUpgradeStrategy"] if fleet.gateway.pools else None,
        "annotations": (
            {catalog.operations()["haproxy"]["assertedAnnotation"]: "true"}
            if haproxy and not catalog.image_has_haproxy(image)
            else {}
        ),
        "rayVersion": ray_version,
        "hfTokenSecret": hf.as_values() if hf else None,
        "family": family,
        "hfTokenEnv": accel["hfTokenEnv"][family],
        "serviceAccount": (
            {
                "name": sa.name,
                "create": True,
                "gcpServiceAccount": sa.gcp_service_account if sa.gcp_service_account is not None else "",
            }
            if sa
            else None
        ),
        "autoscaling": r.min != r.max,
        # vLLM on TPU needs a large /dev/shm; the sample mounts a memory-backed one
        "sharedMemory": family == "tpu",
        "runtimeEnv": runtime_env,
        "llmConfigs": [
            {"modelId": sm.model_id, "modelSource": _model_source(sm.source, m), **llm_common}
            for sm in served
        ],
        "head": {"resources": _container_resources(head, {})},
        "worker": worker,
        "gcsFuse": fuse.as_values() if fuse else None,
        "computeClass": (
            {
                "name": names["computeClass"],
                "machineType": _tpu_slice(m)["machineType"],
            }
            if worker["placement"].get("computeClass")
            else None
        ),
        "download": downloads.job(m) if m.download_enabled else None,
        "waitFor": _awaited(m, downloads, order),
        "chatUI": (
            {
                "name": names["chatUI"],
                "image": m.chat_ui.image,
                "modelId": served[0].model_id,
                "service": names["serveService"],
            }
            if m.chat_ui and m.chat_ui.enabled
            else None
        ),
    }


def _share_service_accounts(models: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Models naming the same serviceAccount share one object: the first creates it (the
    spec rules make them agree on its gcpServiceAccount)."""
    created: set[str] = set()
    for mv in models:
        sa = mv["serviceAccount"]
        if sa is not None:
            sa["create"] = sa["name"] not in created
            created.add(sa["name"])
    return models


def _haproxy_env(enabled: bool) -> list[dict[str, str]]:
    facts = catalog.operations()["haproxy"]
    return [{"name": facts["env"], "value": "1"}, facts["hostEnv"]] if enabled else []


def _exact_yaml(data: dict[str, Any]) -> str:
    """User data the chart prints as given, as YAML text: the Helm engine holds numbers
    as float64, so 2**53 + 1 would lose its last digit and 1e22 would print as 1e+22
    (a string to Ray's YAML 1.1 parser); a text value reaches the manifest byte for byte."""
    if not data:
        return ""
    return _exact_yaml_of(json.dumps(data, sort_keys=True))  # a fleet repeats a few engine configs


@functools.lru_cache(maxsize=1024)
def _exact_yaml_of(data_json: str) -> str:
    data = json.loads(data_json)
    text: str = yaml.dump(data, Dumper=_Dumper, default_flow_style=False, sort_keys=True, allow_unicode=True)
    return text.rstrip("\n")


def _lora(m: Model) -> dict[str, Any] | None:
    """Where a model's LoRA adapters are and how many a replica keeps (chart and README)."""
    lora = m.lora
    return {"path": lora.path.rstrip("/"), "maxAdapters": lora.max_adapters_per_replica} if lora else None


def _lora_engine_args(m: Model) -> dict[str, Any]:
    """vLLM serves LoRA adapters only with enable_lora and a rank limit; Ray Serve LLM
    (2.60) does not set them itself."""
    lora = m.lora
    return {"enable_lora": True, "max_lora_rank": lora.max_rank} if lora else {}


def _download(m: Model, names: dict[str, str]) -> dict[str, Any]:
    """The download Job's values. Jobs are immutable: its name carries a hash of what it
    does, so changing the download makes a new Job instead of a failing upgrade."""
    dl = m.download
    assert dl is not None and dl.from_ is not None, "validated by spec.rules._check_storage"
    local_dir = _model_source(m.source, m)
    inputs = {"image": dl.image, "repoId": dl.from_[len("hf://") :], "localDir": local_dir}
    digest = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()
    return {
        "name": f"{names['downloadJob']}-{digest[:6]}",
        "serviceAccount": names["downloadJob"],
        **inputs,
        "marker": f"{local_dir.rstrip('/')}/{catalog.operations()['download']['marker']}",
    }


def _backend_policy(m: Model, gw: Gateway, name: str) -> dict[str, Any]:
    lb = m.load_balancing
    timeout = lb.timeout_sec if lb else None
    if timeout is None:
        timeout = gw.timeout_sec
    cm = lb.custom_metric if lb else None
    policy = {
        "name": name,
        # GKE's 30 s default cuts long generations: every LLM backend gets a timeout
        "timeoutSec": (
            timeout if timeout is not None else catalog.operations()["backendTimeout"]["llmDefaultSec"]
        ),
        "trafficDuration": lb.traffic_duration if lb else None,
        "customMetric": {"exportName": KV_CACHE_EXPORT, **cm.as_values()} if cm else None,
        "inFlight": lb.in_flight.as_values() if lb and lb.in_flight else None,
    }
    return policy


def _backend(m: Model, i: int, gw: Gateway, routing: str, match: bool) -> dict[str, Any]:
    names = m.names
    # what the route targets; the chart's inference-gateway.backendRef names its kind
    if routing == "inference-pool":
        target = {"type": "poolImport" if gw.multi_cluster else "pool", "name": names["inferencePool"]}
    else:
        target = {"type": "service", "name": names["serveService"]}
    return {
        "name": m.name,
        "source": format_path(("models", i)),
        "modelIds": list(m.model_ids) if match else [],
        "routeName": names["route"],
        "path": m.route_path,
        "target": target,
        "healthCheckPolicyName": names["healthCheckPolicy"],
        "backendPolicy": _backend_policy(m, gw, names["backendPolicy"]),
    }


def _pool(m: Model, i: int, export: bool) -> dict[str, Any]:
    names = m.names
    src = format_path(("models", i))
    objectives = [
        {"name": o.name, "priority": o.priority, "source": format_path(("models", i, *o.path))}
        for o in m.pool_objectives
    ]
    metric = None
    if m.custom_metric is not None:
        ep = catalog.releases()["endpointPicker"]
        metric = {
            "name": names["autoscalingMetric"],
            "port": ep["modelServerMetricsPort"],
            "path": "/metrics",
            "metrics": [{"name": ep["engine"]["kvUsageSpec"], "exportName": KV_CACHE_EXPORT}],
        }
    return {
        "name": names["inferencePool"],
        "model": m.name,
        "source": src,
        "eppName": names["endpointPicker"],
        "export": export,
        "objectives": objectives,
        "autoscalingMetric": metric,
    }


def build_plan(spec: Spec) -> Plan:
    fleet = spec.model
    fleet_name = fleet.metadata.name
    gw = fleet.gateway
    gateway_name = fleet.gateway_name
    rel = catalog.releases()
    routing = gw.routing
    profile = fleet.objective_profile
    models = fleet.models
    # one catch-all route when a single RayService sits behind the gateway (seeds
    # 002/003); otherwise each route matches its model names in the model header
    match = fleet.header_match
    global_values = {
        "fleet": fleet_name,
        "generator": GENERATOR,
        "spec": Path(spec.file).name,
        "servePort": rel["ray"]["servePort"],
    }
    hc = gw.health_check
    all_clusters = list(fleet.cluster_names)
    downloads = _Downloads(fleet)
    order = {id(m): n for n, m in enumerate(models)}

    clusters = []
    for c in fleet.clusters:
        placed = fleet.placed(c.name)
        hosts_gateway = not gw.multi_cluster or c.role == "config"
        values = {
            "global": global_values,
            "ray-llm": {
                "enabled": bool(placed),
                "networkPolicy": _network_policy(fleet, rel),
                "models": _share_service_accounts(
                    [_model_values(fleet, i, m, c, downloads, order) for i, m in placed]
                ),
            },
            "inference-pool": {
                "enabled": gw.pools and bool(placed),
                "objectiveApiVersion": profile["apiVersion"],
                "metricsReader": {"enabled": gw.metrics_reader},
                "networkPolicy": {
                    k: v
                    for k, v in _network_policy(fleet, rel).items()
                    if k in ("enabled", "sourceCIDRs", "metricsNamespaces")
                },
                "pools": [_pool(m, i, gw.multi_cluster) for i, m in placed] if gw.pools else [],
            },
            "inference-gateway": {
                "enabled": hosts_gateway,
                "gateway": {
                    "create": True,
                    "name": gateway_name,
                    "className": gw.class_,
                    "source": "gateway",
                    "httpPort": gw.port,
                    "tls": {"certificateSecret": gw.tls.certificate_secret if gw.tls else ""},
                    "addresses": _addresses(fleet) if gw.multi_cluster else [],
                },
                "routing": {
                    "mode": "path" if routing == "path" else "header",
                    "headerName": gw.model_header,
                },
                "healthCheck": {
                    "requestPath": hc.path,
                    "checkIntervalSec": hc.check_interval_sec,
                    "timeoutSec": hc.timeout_sec,
                    "healthyThreshold": hc.healthy_threshold,
                    "unhealthyThreshold": hc.unhealthy_threshold,
                },
                # a multi-cluster gateway routes to every model, wherever it runs
                "backends": (
                    [
                        _backend(m, i, gw, routing, match)
                        for i, m in (enumerate(models) if gw.multi_cluster else placed)
                    ]
                    if hosts_gateway
                    else []
                ),
            },
        }
        clusters.append(ClusterPlan(c.name, c.region, c.role, values, c.mode))

    addons: dict[str, Any] = {}
    if match and routing != "header":
        bbr = rel["addons"]["bodyBasedRouting"]
        addons["bodyBasedRouting"] = {
            **bbr,
            "values": {
                "provider": {"name": "gke"},
                "inferenceGateway": {"name": gateway_name},
                "bbr": {
                    "plugins": [
                        {
                            "type": "body-field-to-header",
                            "name": "openai-model-extractor",
                            "json": {"field_name": "model", "header_name": gw.model_header},
                        }
                    ]
                },
            },
        }
    tls_secret = gw.tls.certificate_secret if gw.tls else ""
    return Plan(
        fleet=fleet_name,
        namespace=fleet.metadata.namespace,
        spec_name=global_values["spec"],
        gateway={"name": gateway_name, "class": gw.class_, "port": gw.port, "tls": gw.tls is not None},
        routing=routing,
        model_header=gw.model_header,
        clusters=clusters,
        models=[_model_info(fleet, m, all_clusters) for m in models],
        addons=addons,
        project=fleet.metadata.project,
        ray_version=fleet.ray_version,
        internal=gw.internal,
        multi_cluster=gw.multi_cluster,
        hf_secrets=_hf_secrets(fleet),
        tls_secret=tls_secret,
        objective_profile=profile,
        pools=gw.pools,
        metrics_reader=gw.metrics_reader,
    )


def _network_policy(fleet: Fleet, rel: dict[str, Any]) -> dict[str, Any]:
    np = fleet.network_policy
    if np is None:
        return {"enabled": False}
    return {
        "enabled": True,
        "operatorNamespace": np.operator_namespace,
        "sourceCIDRs": [*rel["googleLoadBalancerCIDRs"], *np.load_balancer_cidrs],
        "metricsNamespaces": list(np.metrics_namespaces),
        "metricsPort": rel["endpointPicker"]["modelServerMetricsPort"],
    }


def _addresses(fleet: Fleet) -> list[dict[str, str]]:
    """One gateway address per cluster region: the reserved address named for it, or ""
    for an ephemeral one (the chart's inference-gateway.addresses gives their types)."""
    given = {a.region: a.address or "" for a in fleet.gateway.addresses or ()}
    regions = sorted({c.region for c in fleet.clusters if c.region is not None})
    return [{"region": region, "address": given.get(region, "")} for region in regions]


def _tpu_info(m: Model, fleet: Fleet) -> dict[str, Any] | None:
    acc = m.accelerator
    if acc.family != "tpu":
        return None
    topo = acc.tpu_slice
    assert topo is not None  # validated
    placed = [c for c in fleet.clusters if m.placed_on(c.name, fleet.cluster_names)]
    return {
        **topo,
        "count": topo["hosts"] * topo["chipsPerHost"],
        "dranet": m.dranet,
        "autopilot": any(c.mode == "autopilot" for c in placed),
    }


def _model_info(fleet: Fleet, m: Model, all_clusters: list[str]) -> ModelInfo:
    sa = m.service_account
    fuse = m.gcs_fuse
    return ModelInfo(
        name=m.name,
        model_ids=list(m.model_ids),
        path=m.route_path,
        source=m.source,
        accelerator=m.accelerator.type,
        clusters=list(m.clusters) if m.clusters is not None else all_clusters,
        objectives=[o.name for o in m.pool_objectives],
        objective_by_id={e.id: e.name for e in m.multiplexing.models} if m.multiplexing else {},
        objective_priorities=[(o.name, o.priority) for o in m.pool_objectives],
        bucket=fuse.bucket if fuse else None,
        service_account=sa.name if sa else None,
        gcp_service_account=sa.gcp_service_account if sa else None,
        tpu=_tpu_info(m, fleet),
        multiplexing=_multiplexing_info(m),
        lora=_lora(m),
    )


def _multiplexing_info(m: Model) -> dict[str, int] | None:
    mux = m.multiplexing
    if not mux:
        return None
    n, chips, r = len(mux.models), m.accelerator.chips, m.replicas
    return {
        "models": n,
        "chips": chips,
        "min": r.min,
        "max": r.max,
        "chipsMin": n * r.min * chips,
        "chipsMax": n * r.max * chips,
    }


def _hf_secrets(fleet: Fleet) -> list[dict[str, str]]:
    refs = {}
    for m in fleet.models:
        ref = fleet.hf_token_secret(m)
        if ref:
            refs[(ref.name, ref.key)] = ref.as_values()
    return [refs[k] for k in sorted(refs)]
