"""Spec -> per-cluster values of the umbrella chart.

Every derived value (names, labels' inputs, resources from the accelerator
catalog, serve-config fields, TPU hosts) is computed here, once; the charts
only shape manifests from these values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__, catalog, naming
from .diagnostics import Diagnostic, SpecError, format_path
from .spec import Spec

GENERATOR = f"gen {__version__}"

# Spec features whose rendering is not built yet: rejected with a clear error
# instead of being silently dropped from the output.
_UNRENDERED = {
    ("gateway", "routing", "inference-pool"): "routing through InferencePools",
}
_UNRENDERED_MODEL_KEYS = {
    "storage": "GCS Fuse weights",
    "serviceAccount": "Workload Identity service accounts",
    "multiplexing": "model multiplexing",
    "objectives": "InferenceObjectives",
    "loadBalancing": "multi-cluster load balancing",
}


@dataclass
class ClusterPlan:
    name: str
    values: dict[str, Any]


@dataclass
class ModelInfo:
    """What the emitted README and NOTES say about one model."""

    name: str
    model_id: str
    service: str
    path: str
    source: str
    accelerator: str


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
    hf_secrets: list[dict[str, str]] = field(default_factory=list)
    tls_secret: str = ""


def _quantity(value: Any) -> str:
    return str(value)


def _scale(quantity: Any, factor: int) -> str:
    """Multiply a catalog quantity such as 24Gi or 6 by an integer factor."""
    text = str(quantity)
    digits = text.rstrip("KMGTPEik")
    return f"{int(digits) * factor}{text[len(digits):]}"


def _container_resources(req: dict[str, Any], accel: dict[str, str]) -> dict[str, Any]:
    """Requests as given; memory and ephemeral storage also limited (no CPU limit, so
    vLLM's tokenizer threads are not throttled); accelerators equal in both."""
    requests: dict[str, str] = {}
    limits: dict[str, str] = {}
    if "cpu" in req:
        requests["cpu"] = _quantity(req["cpu"])
    for key, k8s in (("memory", "memory"), ("ephemeralStorage", "ephemeral-storage")):
        if key in req:
            requests[k8s] = limits[k8s] = _quantity(req[key])
    for k, v in accel.items():
        requests[k] = limits[k] = v
    return {"limits": dict(sorted(limits.items())), "requests": dict(sorted(requests.items()))}


def _worker(m: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(worker group values, llm accelerator fields) from the accelerator catalog."""
    acc = m["accelerator"]
    replicas = m["replicas"]
    override = m["resources"].get("worker", {})
    if acc["type"] in catalog.gpus():
        gpu = catalog.gpus()[acc["type"]]
        count = acc.get("count", 1)
        base = {k: _scale(v, count) for k, v in gpu["perGpu"].items()}
        worker = {
            "groupName": "gpu-group",
            "numOfHosts": 1,
            "resources": _container_resources({**base, **override},
                                              {"nvidia.com/gpu": str(count)}),
            "nodeSelector": {"cloud.google.com/gke-accelerator": acc["type"]},
        }
        llm = {"acceleratorType": gpu["rayAcceleratorType"]}
        return worker, llm
    tpu = catalog.tpus()[acc["type"]]
    topo = catalog.tpu_topology(acc["type"], acc["topology"])
    assert topo is not None  # validated
    worker = {
        "groupName": "tpu-group",
        "numOfHosts": topo["hosts"],
        "resources": _container_resources({**tpu["perHost"], **override},
                                          {"google.com/tpu": str(topo["chipsPerHost"])}),
        "nodeSelector": {
            "cloud.google.com/gke-tpu-accelerator": tpu["nodeSelectorAccelerator"],
            "cloud.google.com/gke-tpu-topology": acc["topology"],
        },
    }
    llm = {"acceleratorType": tpu["rayAcceleratorType"],
           "acceleratorConfig": {"kind": "tpu", "topology": acc["topology"]}}
    return worker, llm


def _model_source(source: str, m: dict[str, Any]) -> str:
    """What Ray Serve LLM loads: a HF repo id, or the GCS Fuse mount path."""
    if source.startswith("hf://"):
        return source[len("hf://"):]
    mount = m["storage"]["gcsFuse"]["mountPath"].rstrip("/")
    path = source[len("gs://"):].split("/", 1)
    return f"{mount}/{path[1]}" if len(path) > 1 and path[1] else mount


def _model_values(spec: dict[str, Any], i: int, m: dict[str, Any]) -> dict[str, Any]:
    d = spec["defaults"]
    rel = catalog.releases()["ray"]
    worker, accel_llm = _worker(m)
    r = m["replicas"]
    worker.update({"replicas": r["min"], "minReplicas": r["min"], "maxReplicas": r["max"],
                   "env": dict(sorted(m.get("env", {}).items())),
                   "resourceClaimTemplate": (naming.model_names(m["name"])["resourceClaimTemplate"]
                                             if m["dranet"] else "")})
    hf = m["hfTokenSecret"] if "hfTokenSecret" in m else d["hfTokenSecret"]
    sa = m.get("serviceAccount")
    runtime_env = {}
    if m.get("runtimeEnv", {}).get("envVars"):
        runtime_env["env_vars"] = dict(sorted(m["runtimeEnv"]["envVars"].items()))
    return {
        "name": m["name"],
        "source": format_path(("models", i)),
        "image": m.get("image", d.get("image", rel["image"])),
        "rayVersion": m.get("rayVersion", d.get("rayVersion", rel["version"])),
        "hfTokenSecret": hf,
        "serviceAccount": ({"name": sa["name"], "create": True,
                            "gcpServiceAccount": sa.get("gcpServiceAccount", "")}
                           if sa else None),
        "autoscaling": r["min"] != r["max"],
        "llm": {
            "modelId": m.get("modelId", m["name"]),
            "modelSource": _model_source(m["source"], m),
            **accel_llm,
            "engineKwargs": m.get("engineArgs", {}),
            "logEngineMetrics": m["logEngineMetrics"],
            "minReplicas": r["min"],
            "maxReplicas": r["max"],
            "healthCheckPeriodS": m["healthCheck"]["periodS"],
            "healthCheckTimeoutS": m["healthCheck"]["timeoutS"],
            "runtimeEnv": runtime_env,
        },
        "head": {"resources": _container_resources(m["resources"]["head"], {})},
        "worker": worker,
        "gcsFuse": m.get("storage", {}).get("gcsFuse"),
    }


def _unrendered(spec: Spec) -> list[Diagnostic]:
    data = spec.data
    out = []
    for (section, key, value), what in _UNRENDERED.items():
        if data[section][key] == value:
            out.append(spec.doc.diag((section, key),
                                     f"{what} is valid but not rendered by gen {__version__} yet"))
    if len(data["clusters"]) > 1:
        out.append(spec.doc.diag(("clusters",), "multi-cluster fleets are valid but not "
                                 f"rendered by gen {__version__} yet"))
    for i, m in enumerate(data["models"]):
        if m["accelerator"]["type"] in catalog.tpus():
            # Ray 2.54's LLMConfig has no accelerator_config: TPU slices need a
            # placement_group_config, built with the multi-host TPU work.
            out.append(spec.doc.diag(("models", i, "accelerator"), "TPU serving is valid but "
                                     f"not rendered by gen {__version__} yet"))
        for key, what in _UNRENDERED_MODEL_KEYS.items():
            if key in m:
                out.append(spec.doc.diag(("models", i, key),
                                         f"{what} is valid but not rendered by gen "
                                         f"{__version__} yet"))
        for key in ("dranet", "download", "chatUI"):
            value = m.get(key)
            if value is True or (isinstance(value, dict) and value.get("enabled")):
                out.append(spec.doc.diag(("models", i, key), f"`{key}` is valid but not "
                                         f"rendered by gen {__version__} yet"))
    return out


def build_plan(spec: Spec) -> Plan:
    problems = _unrendered(spec)
    if problems:
        raise SpecError(problems)
    data = spec.data
    fleet = data["metadata"]["name"]
    gw = data["gateway"]
    gateway_name = gw.get("name", naming.fleet_names(fleet)["gateway"])
    rel = catalog.releases()
    serve_port = rel["ray"]["servePort"]
    spec_name = Path(spec.file).name
    routing = gw["routing"]

    models = []
    backends = []
    for i, m in enumerate(data["models"]):
        names = naming.model_names(m["name"])
        path = m.get("path", "/" + m["name"])
        timeout = m.get("loadBalancing", {}).get("timeoutSec", gw.get("timeoutSec"))
        backends.append({
            "name": m["name"],
            "source": format_path(("models", i)),
            "modelId": m.get("modelId", m["name"]),
            "service": names["serveService"],
            "routeName": names["route"],
            "path": path,
            "healthCheckPolicyName": names["healthCheckPolicy"],
            "backendPolicy": ({"name": names["backendPolicy"], "timeoutSec": timeout}
                              if timeout else None),
        })
        models.append(ModelInfo(m["name"], m.get("modelId", m["name"]), names["serveService"],
                                path, m["source"], m["accelerator"]["type"]))

    hc = gw["healthCheck"]
    global_values = {"fleet": fleet, "generator": GENERATOR, "spec": spec_name,
                     "servePort": serve_port}
    clusters = []
    for c in data["clusters"]:
        placed = [(i, m) for i, m in enumerate(data["models"])
                  if c["name"] in m.get("clusters", [c["name"]])]
        values = {
            "global": global_values,
            "ray-llm": {
                "enabled": True,
                "models": [_model_values(data, i, m) for i, m in placed],
            },
            "inference-gateway": {
                "enabled": True,
                "gateway": {
                    "create": True,
                    "name": gateway_name,
                    "className": gw["class"],
                    "source": "gateway",
                    "httpPort": gw["port"],
                    "tls": {"certificateSecret": gw.get("tls", {}).get("certificateSecret", "")},
                    "addresses": [],
                },
                "routing": {"mode": "path" if routing == "path" else "header",
                            "headerName": gw["modelHeader"]},
                "healthCheck": {"requestPath": hc["path"],
                                "checkIntervalSec": hc["checkIntervalSec"],
                                "timeoutSec": hc["timeoutSec"],
                                "healthyThreshold": hc["healthyThreshold"],
                                "unhealthyThreshold": hc["unhealthyThreshold"]},
                "backends": [backends[i] for i, _ in placed],
            },
        }
        clusters.append(ClusterPlan(c["name"], values))

    addons: dict[str, Any] = {}
    if routing == "body":
        bbr = rel["addons"]["bodyBasedRouting"]
        addons["bodyBasedRouting"] = {
            **bbr,
            "values": {
                "provider": {"name": "gke"},
                "inferenceGateway": {"name": gateway_name},
                "bbr": {"plugins": [{
                    "type": "body-field-to-header",
                    "name": "openai-model-extractor",
                    "json": {"field_name": "model", "header_name": gw["modelHeader"]},
                }]},
            },
        }
    return Plan(fleet=fleet, namespace=data["metadata"]["namespace"], spec_name=spec_name,
                gateway={"name": gateway_name, "class": gw["class"], "port": gw["port"],
                         "tls": "tls" in gw},
                routing=routing, model_header=gw["modelHeader"], clusters=clusters,
                models=models, addons=addons, project=data["metadata"].get("project"),
                ray_version=data["defaults"].get("rayVersion", rel["ray"]["version"]),
                internal=catalog.gateway_classes()[gw["class"]]["internal"],
                hf_secrets=_hf_secrets(data),
                tls_secret=gw.get("tls", {}).get("certificateSecret", ""))


def _hf_secrets(data: dict[str, Any]) -> list[dict[str, str]]:
    refs = {}
    for m in data["models"]:
        ref = m["hfTokenSecret"] if "hfTokenSecret" in m else data["defaults"]["hfTokenSecret"]
        if ref:
            refs[(ref["name"], ref["key"])] = ref
    return [refs[k] for k in sorted(refs)]
