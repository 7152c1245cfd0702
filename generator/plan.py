"""Spec -> per-cluster values of the umbrella chart.

Every derived value (names, resources from the accelerator catalog, serve-config
fields, which resources go to which cluster) is computed here, once; the charts
only shape manifests from these values.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import __version__, catalog, naming, nodes
from .diagnostics import format_path
from .layout import chips_per_replica, engine_defaults
from .spec import Spec

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


def _worker(m: dict[str, Any], cluster: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(worker group values, llm accelerator fields) from the accelerator catalog. The
    node labels the workers select go by their catalog name (`placement`); the chart
    turns them into a nodeSelector."""
    acc = m["accelerator"]
    names = naming.model_names(m["name"])
    shape = nodes.worker_shape(m)
    name_of_label = {key: name for name, key in catalog.node_labels().items()}
    storage = {name_of_label[key]: value for key, value in shape.node_labels().items()}
    if acc["type"] in catalog.gpus():
        gpu = catalog.gpus()[acc["type"]]
        count = acc.get("count", 1)
        worker = {
            "groupName": "gpu-group",
            "numOfHosts": 1,
            "resources": _container_resources(
                shape.requests, {catalog.accelerator_resource("gpu"): str(count)}
            ),
            "placement": {"gkeAccelerator": acc["type"], **storage},
            "podAnnotations": shape.pod_annotations(),
            "env": [],
            "resourceClaimTemplate": "",
        }
        return worker, {"acceleratorType": gpu["rayAcceleratorType"], "engineDefaults": engine_defaults(m)}
    tpu = catalog.tpus()[acc["type"]]
    topo = catalog.tpu_topology(acc["type"], acc["topology"])
    assert topo is not None  # validated
    placement = {"tpuAccelerator": tpu["nodeSelectorAccelerator"], "tpuTopology": acc["topology"]}
    if cluster["mode"] == "autopilot" and m["dranet"]:
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
        "resourceClaimTemplate": names["resourceClaimTemplate"] if m["dranet"] else "",
    }
    engine: dict[str, Any] = {**engine_defaults(m)}
    if topo["hosts"] > 1:
        engine["distributed_executor_backend"] = "ray"  # one engine across the slice's hosts
    llm = {
        "acceleratorType": tpu["rayAcceleratorType"],
        "acceleratorConfig": {"kind": "tpu", "topology": acc["topology"]},
        "engineDefaults": engine,
    }
    return worker, llm


def _tpu_slice(m: dict[str, Any]) -> dict[str, Any]:
    """The catalog entry of a TPU model's topology (validated to exist)."""
    topo = catalog.tpu_topology(m["accelerator"]["type"], m["accelerator"]["topology"])
    assert topo is not None, "validated by spec.rules.check_accelerator"
    return topo


def _family(m: dict[str, Any]) -> str:
    return "tpu" if m["accelerator"]["type"] in catalog.tpus() else "gpu"


def _model_source(source: str, m: dict[str, Any]) -> str:
    """What Ray Serve LLM loads: a HF repo id, or a path on the GCS Fuse mount."""
    if source.startswith("hf://"):
        return source[len("hf://") :]
    mount = m["storage"]["gcsFuse"]["mountPath"].rstrip("/")
    path = source[len("gs://") :].split("/", 1)
    return f"{mount}/{path[1]}" if len(path) > 1 and path[1] else mount


def served_models(m: dict[str, Any]) -> list[tuple[str, str]]:
    """(model id, source) of every model one RayService serves."""
    mux = m.get("multiplexing")
    if mux:
        return [(e["id"], e["source"]) for e in mux["models"]]
    return [(m.get("modelId", m["name"]), m["source"])]


def _model_values(spec: dict[str, Any], i: int, m: dict[str, Any], cluster: dict[str, Any]) -> dict[str, Any]:
    d = spec["defaults"]
    rel = catalog.releases()["ray"]
    accel = catalog.accelerators()
    family = _family(m)
    names = naming.model_names(m["name"])
    worker, accel_llm = _worker(m, cluster)
    engine = {**accel_llm.pop("engineDefaults"), **_lora_engine_args(m), **m.get("engineArgs", {})}
    r = m["replicas"]
    served = served_models(m)
    # the spec's env wins over the catalog's for the same name
    user_env = m.get("env", {})
    worker["env"] = [e for e in worker["env"] if e["name"] not in user_env] + [
        {"name": k, "value": v} for k, v in sorted(user_env.items())
    ]
    worker.update(
        {
            "replicas": r["min"] * len(served),
            "minReplicas": r["min"] * len(served),
            "maxReplicas": r["max"] * len(served),
        }
    )
    hf = m["hfTokenSecret"] if "hfTokenSecret" in m else d["hfTokenSecret"]
    sa = m.get("serviceAccount")
    fuse = m.get("storage", {}).get("gcsFuse")
    runtime_env = {}
    if m.get("runtimeEnv", {}).get("envVars"):
        runtime_env["env_vars"] = dict(sorted(m["runtimeEnv"]["envVars"].items()))
    llm_common = {
        **accel_llm,
        "engineKwargs": _exact_yaml(engine),
        "logEngineMetrics": m["logEngineMetrics"],
        "minReplicas": r["min"],
        "maxReplicas": r["max"],
        "healthCheckPeriodS": m["healthCheck"]["periodS"],
        "healthCheckTimeoutS": m["healthCheck"]["timeoutS"],
        "lora": _lora(m),
    }
    head = {**accel["headResources"][family], **m["resources"].get("head", {})}
    ray_version = m.get("rayVersion", d.get("rayVersion", rel["version"]))
    dl = m.get("download", {})
    chat = m.get("chatUI", {})
    image = m.get("image", d.get("image", rel["images"].get(ray_version, "")))
    haproxy = m.get("haproxy", catalog.image_has_haproxy(image))
    return {
        "name": m["name"],
        "source": format_path(("models", i)),
        "image": image,
        "haproxyEnv": _haproxy_env(haproxy),
        "upgradeStrategy": (
            catalog.operations()["pooledUpgradeStrategy"]
            if spec["gateway"]["routing"] == "inference-pool"
            else None
        ),
        "annotations": (
            {catalog.operations()["haproxy"]["assertedAnnotation"]: "true"}
            if haproxy and not catalog.image_has_haproxy(image)
            else {}
        ),
        "rayVersion": ray_version,
        "hfTokenSecret": hf,
        "family": family,
        "hfTokenEnv": accel["hfTokenEnv"][family],
        "serviceAccount": (
            {"name": sa["name"], "create": True, "gcpServiceAccount": sa.get("gcpServiceAccount", "")}
            if sa
            else None
        ),
        "autoscaling": r["min"] != r["max"],
        # vLLM on TPU needs a large /dev/shm; the sample mounts a memory-backed one
        "sharedMemory": family == "tpu",
        "runtimeEnv": runtime_env,
        "llmConfigs": [
            {"modelId": mid, "modelSource": _model_source(src, m), **llm_common} for mid, src in served
        ],
        "head": {"resources": _container_resources(head, {})},
        "worker": worker,
        "gcsFuse": fuse,
        "computeClass": (
            {
                "name": names["computeClass"],
                "machineType": _tpu_slice(m)["machineType"],
            }
            if worker["placement"].get("computeClass")
            else None
        ),
        "download": _download(m, names) if dl.get("enabled") else None,
        "chatUI": (
            {
                "name": names["chatUI"],
                "image": chat["image"],
                "modelId": served[0][0],
                "service": names["serveService"],
            }
            if chat.get("enabled")
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
    text: str = yaml.dump(data, Dumper=_Dumper, default_flow_style=False, sort_keys=True, allow_unicode=True)
    return text.rstrip("\n")


def _lora(m: dict[str, Any]) -> dict[str, Any] | None:
    """Where a model's LoRA adapters are and how many a replica keeps (chart and README)."""
    lora = m.get("lora")
    return {"path": lora["path"].rstrip("/"), "maxAdapters": lora["maxAdaptersPerReplica"]} if lora else None


def _lora_engine_args(m: dict[str, Any]) -> dict[str, Any]:
    """vLLM serves LoRA adapters only with enable_lora and a rank limit; Ray Serve LLM
    (2.60) does not set them itself."""
    lora = m.get("lora")
    return {"enable_lora": True, "max_lora_rank": lora["maxRank"]} if lora else {}


def _download(m: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """The download Job's values. Jobs are immutable: its name carries a hash of what it
    does, so changing the download makes a new Job instead of a failing upgrade."""
    dl = m["download"]
    local_dir = _model_source(m["source"], m)
    inputs = {"image": dl["image"], "repoId": dl["from"][len("hf://") :], "localDir": local_dir}
    digest = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()
    return {
        "name": f"{names['downloadJob']}-{digest[:6]}",
        "serviceAccount": names["downloadJob"],
        **inputs,
        "marker": f"{local_dir.rstrip('/')}/{catalog.operations()['download']['marker']}",
    }


def _backend_policy(m: dict[str, Any], gw: dict[str, Any], name: str) -> dict[str, Any]:
    lb = m.get("loadBalancing", {})
    policy = {
        "name": name,
        # GKE's 30 s default cuts long generations: every LLM backend gets a timeout
        "timeoutSec": lb.get(
            "timeoutSec", gw.get("timeoutSec", catalog.operations()["backendTimeout"]["llmDefaultSec"])
        ),
        "trafficDuration": lb.get("trafficDuration"),
        "customMetric": (
            {"exportName": KV_CACHE_EXPORT, **lb["customMetric"]} if "customMetric" in lb else None
        ),
        "inFlight": lb.get("inFlight"),
    }
    return policy


def _backend(m: dict[str, Any], i: int, gw: dict[str, Any], routing: str, match: bool) -> dict[str, Any]:
    names = naming.model_names(m["name"])
    # what the route targets; the chart's inference-gateway.backendRef names its kind
    if routing == "inference-pool":
        target = {"type": "poolImport" if gw["multiCluster"] else "pool", "name": names["inferencePool"]}
    else:
        target = {"type": "service", "name": names["serveService"]}
    return {
        "name": m["name"],
        "source": format_path(("models", i)),
        "modelIds": [mid for mid, _ in served_models(m)] if match else [],
        "routeName": names["route"],
        "path": m.get("path", "/" + m["name"]),
        "target": target,
        "healthCheckPolicyName": names["healthCheckPolicy"],
        "backendPolicy": _backend_policy(m, gw, names["backendPolicy"]),
    }


def _pool(m: dict[str, Any], i: int, export: bool) -> dict[str, Any]:
    names = naming.model_names(m["name"])
    src = format_path(("models", i))
    objectives = [
        {"name": o["name"], "priority": o["priority"], "source": format_path(("models", i, "objectives", j))}
        for j, o in enumerate(m.get("objectives", []))
    ]
    objectives += [
        {
            "name": e["name"],
            "priority": e["priority"],
            "source": format_path(("models", i, "multiplexing", "models", j)),
        }
        for j, e in enumerate(m.get("multiplexing", {}).get("models", []))
    ]
    metric = None
    if "customMetric" in m.get("loadBalancing", {}):
        ep = catalog.releases()["endpointPicker"]
        metric = {
            "name": names["autoscalingMetric"],
            "port": ep["modelServerMetricsPort"],
            "path": "/metrics",
            "metrics": [{"name": ep["engine"]["kvUsageSpec"], "exportName": KV_CACHE_EXPORT}],
        }
    return {
        "name": names["inferencePool"],
        "model": m["name"],
        "source": src,
        "eppName": names["endpointPicker"],
        "export": export,
        "objectives": objectives,
        "autoscalingMetric": metric,
    }


def build_plan(spec: Spec) -> Plan:
    data = spec.data
    fleet = data["metadata"]["name"]
    gw = dict(data["gateway"])
    gw_class = catalog.gateway_classes()[gw["class"]]
    gw["multiCluster"] = gw_class["multiCluster"]
    gateway_name = gw.get("name", naming.fleet_names(fleet)["gateway"])
    rel = catalog.releases()
    routing = gw["routing"]
    profile = rel["inferenceObjectiveProfiles"][data["defaults"]["inferenceObjectiveProfile"]]
    models = data["models"]
    # one catch-all route when a single RayService sits behind the gateway (seeds
    # 002/003); otherwise each route matches its model names in the model header
    match = routing in ("body", "header") or (routing == "inference-pool" and len(models) > 1)
    global_values = {
        "fleet": fleet,
        "generator": GENERATOR,
        "spec": Path(spec.file).name,
        "servePort": rel["ray"]["servePort"],
    }
    hc = gw["healthCheck"]
    all_clusters = [c["name"] for c in data["clusters"]]

    clusters = []
    for c in data["clusters"]:
        placed = [(i, m) for i, m in enumerate(models) if c["name"] in m.get("clusters", all_clusters)]
        hosts_gateway = not gw["multiCluster"] or c["role"] == "config"
        values = {
            "global": global_values,
            "ray-llm": {
                "enabled": bool(placed),
                "networkPolicy": _network_policy(data, rel),
                "models": _share_service_accounts([_model_values(data, i, m, c) for i, m in placed]),
            },
            "inference-pool": {
                "enabled": routing == "inference-pool" and bool(placed),
                "objectiveApiVersion": profile["apiVersion"],
                "metricsReader": {"enabled": gw["metricsReader"]},
                "networkPolicy": {
                    k: v
                    for k, v in _network_policy(data, rel).items()
                    if k in ("enabled", "sourceCIDRs", "metricsNamespaces")
                },
                "pools": (
                    [_pool(m, i, gw["multiCluster"]) for i, m in placed]
                    if routing == "inference-pool"
                    else []
                ),
            },
            "inference-gateway": {
                "enabled": hosts_gateway,
                "gateway": {
                    "create": True,
                    "name": gateway_name,
                    "className": gw["class"],
                    "source": "gateway",
                    "httpPort": gw["port"],
                    "tls": {"certificateSecret": gw.get("tls", {}).get("certificateSecret", "")},
                    "addresses": _addresses(data) if gw["multiCluster"] else [],
                },
                "routing": {
                    "mode": "path" if routing == "path" else "header",
                    "headerName": gw["modelHeader"],
                },
                "healthCheck": {
                    "requestPath": hc["path"],
                    "checkIntervalSec": hc["checkIntervalSec"],
                    "timeoutSec": hc["timeoutSec"],
                    "healthyThreshold": hc["healthyThreshold"],
                    "unhealthyThreshold": hc["unhealthyThreshold"],
                },
                # a multi-cluster gateway routes to every model, wherever it runs
                "backends": (
                    [
                        _backend(m, i, gw, routing, match)
                        for i, m in (enumerate(models) if gw["multiCluster"] else placed)
                    ]
                    if hosts_gateway
                    else []
                ),
            },
        }
        clusters.append(ClusterPlan(c["name"], c.get("region"), c["role"], values, c["mode"]))

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
                            "json": {"field_name": "model", "header_name": gw["modelHeader"]},
                        }
                    ]
                },
            },
        }
    return Plan(
        fleet=fleet,
        namespace=data["metadata"]["namespace"],
        spec_name=global_values["spec"],
        gateway={"name": gateway_name, "class": gw["class"], "port": gw["port"], "tls": "tls" in gw},
        routing=routing,
        model_header=gw["modelHeader"],
        clusters=clusters,
        models=[_model_info(m, all_clusters, data["clusters"]) for m in models],
        addons=addons,
        project=data["metadata"].get("project"),
        ray_version=data["defaults"].get("rayVersion", rel["ray"]["version"]),
        internal=gw_class["internal"],
        multi_cluster=gw["multiCluster"],
        hf_secrets=_hf_secrets(data),
        tls_secret=gw.get("tls", {}).get("certificateSecret", ""),
        objective_profile=profile,
        pools=routing == "inference-pool",
        metrics_reader=gw["metricsReader"],
    )


def _network_policy(data: dict[str, Any], rel: dict[str, Any]) -> dict[str, Any]:
    np = data["security"].get("networkPolicy")
    if not np or not np["enabled"]:
        return {"enabled": False}
    return {
        "enabled": True,
        "operatorNamespace": np["operatorNamespace"],
        "sourceCIDRs": [*rel["googleLoadBalancerCIDRs"], *np["loadBalancerCIDRs"]],
        "metricsNamespaces": np["metricsNamespaces"],
        "metricsPort": rel["endpointPicker"]["modelServerMetricsPort"],
    }


def _addresses(data: dict[str, Any]) -> list[dict[str, str]]:
    """One gateway address per cluster region: the reserved address named for it, or ""
    for an ephemeral one (the chart's inference-gateway.addresses gives their types)."""
    given = {a["region"]: a.get("address") or "" for a in data["gateway"].get("addresses", [])}
    return [
        {"region": region, "address": given.get(region, "")}
        for region in sorted({c["region"] for c in data["clusters"]})
    ]


def _tpu_info(m: dict[str, Any], clusters: list[dict[str, Any]]) -> dict[str, Any] | None:
    acc = m["accelerator"]
    if acc["type"] not in catalog.tpus():
        return None
    topo = catalog.tpu_topology(acc["type"], acc["topology"])
    assert topo is not None  # validated
    placed = [c for c in clusters if c["name"] in m.get("clusters", [c["name"]])]
    return {
        **topo,
        "count": topo["hosts"] * topo["chipsPerHost"],
        "dranet": m["dranet"],
        "autopilot": any(c["mode"] == "autopilot" for c in placed),
    }


def _model_info(m: dict[str, Any], all_clusters: list[str], clusters: list[dict[str, Any]]) -> ModelInfo:
    sa = m.get("serviceAccount") or {}
    fuse = m.get("storage", {}).get("gcsFuse") or {}
    entries = [*m.get("objectives", []), *m.get("multiplexing", {}).get("models", [])]
    objectives = [o["name"] for o in entries]
    return ModelInfo(
        name=m["name"],
        model_ids=[mid for mid, _ in served_models(m)],
        path=m.get("path", "/" + m["name"]),
        source=m["source"],
        accelerator=m["accelerator"]["type"],
        clusters=m.get("clusters", all_clusters),
        objectives=objectives,
        objective_by_id={e["id"]: e["name"] for e in m.get("multiplexing", {}).get("models", [])},
        objective_priorities=[(o["name"], o.get("priority", 0)) for o in entries],
        bucket=fuse.get("bucket"),
        service_account=sa.get("name"),
        gcp_service_account=sa.get("gcpServiceAccount"),
        tpu=_tpu_info(m, clusters),
        multiplexing=_multiplexing_info(m),
        lora=_lora(m),
    )


def _multiplexing_info(m: dict[str, Any]) -> dict[str, int] | None:
    mux = m.get("multiplexing")
    if not mux:
        return None
    n, chips, r = len(mux["models"]), chips_per_replica(m["accelerator"]), m["replicas"]
    return {
        "models": n,
        "chips": chips,
        "min": r["min"],
        "max": r["max"],
        "chipsMin": n * r["min"] * chips,
        "chipsMax": n * r["max"] * chips,
    }


def _hf_secrets(data: dict[str, Any]) -> list[dict[str, str]]:
    refs = {}
    for m in data["models"]:
        ref = m["hfTokenSecret"] if "hfTokenSecret" in m else data["defaults"]["hfTokenSecret"]
        if ref:
            refs[(ref["name"], ref["key"])] = ref
    return [refs[k] for k in sorted(refs)]
