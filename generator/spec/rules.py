"""Semantic rules the JSON Schema cannot express.

Each rule takes the spec with schema defaults applied and yields
``(path, message)`` pairs; positions are attached by the caller. Every rule is
linear in the number of models (dict lookups, no pairwise comparisons).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Sequence
from typing import Any

from .. import catalog, naming, nodes
from ..capacity import model_capacity
from ..diagnostics import SpecPath, format_path
from ..layout import replica_layout
from .build import accelerator_from_data, model_from_data
from .model import Model, gcs_bucket, header_match, ray_version, route_path

Finding = tuple[SpecPath, str]

RESERVED_NAMESPACES = {
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "gmp-system",
    "gke-managed-system",
    "gke-gmp-system",
}
# Secret values pasted where a reference belongs (never echoed back).
_SECRET_PATTERNS = [
    (re.compile(r"hf_[A-Za-z0-9]{20,}"), "a Hugging Face token"),
    (re.compile(r"ya29\.[A-Za-z0-9_-]{20,}"), "a Google OAuth access token"),
    (re.compile(r"AIza[0-9A-Za-z_-]{35}"), "a Google API key"),
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"), "a private key"),
]


# The typed model of each raw model, built once per validation (several rules need it):
# id(raw) -> (raw, model); holding ``raw`` keeps its id from being reused meanwhile.
_typed: dict[int, tuple[Any, Model]] = {}


def typed_model(m: dict[str, Any]) -> Model:
    """The typed model of one raw model, for the derivations it carries (layout, node shape,
    generated objects). A malformed model raises as its raw reads would: rules run guarded
    when the schema already reported it."""
    hit = _typed.get(id(m))
    if hit is not None and hit[0] is m:
        return hit[1]
    model = model_from_data(m)
    _typed[id(m)] = (m, model)
    return model


def forget_typed_models() -> None:
    """End of a validation: let the raw and typed models go."""
    _typed.clear()


def redact(text: str) -> str:
    """Replace anything that looks like a secret value, so it is never echoed."""
    for pattern, what in _SECRET_PATTERNS:
        text = pattern.sub(f"<redacted: {what}>", text)
    return text


def _dupes(items: Sequence[tuple[SpecPath, Any]], what: str) -> Iterator[Finding]:
    seen: dict[Any, SpecPath] = {}
    for path, value in items:
        if value in seen:
            yield path, f"duplicate {what} {value!r} (also at {format_path(seen[value])})"
        else:
            seen[value] = path


def _strings(value: Any, path: SpecPath) -> Iterator[tuple[SpecPath, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield path + (k,), k  # keys too: env names and engineArgs keys are free text
            yield from _strings(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, path + (i,))


# any of _SECRET_PATTERNS: a fleet's ~100,000 strings are searched once each, and only a
# spec that has a match is walked again for the paths and which secret it is
_ANY_SECRET = re.compile("|".join(f"(?:{p.pattern})" for p, _ in _SECRET_PATTERNS))


def _has_secret(value: Any) -> bool:
    search = _ANY_SECRET.search
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            if search(v):
                return True
        elif isinstance(v, dict):
            stack.extend(v)  # keys too: env names and engineArgs keys are free text
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return False


def check_secrets(spec: dict[str, Any]) -> Iterator[Finding]:
    if not _has_secret(spec):
        return
    for path, text in _strings(spec, ()):
        for pattern, what in _SECRET_PATTERNS:
            if pattern.search(text):
                yield (
                    path,
                    (
                        f"this looks like {what}; never put secret values in the spec: "
                        "create a Kubernetes Secret and reference it (hfTokenSecret: "
                        "{name, key})"
                    ),
                )
                break


def check_metadata(spec: dict[str, Any]) -> Iterator[Finding]:
    ns = spec["metadata"]["namespace"]
    if ns in RESERVED_NAMESPACES or ns.startswith("kube-"):
        yield (
            ("metadata", "namespace"),
            (f"namespace {ns!r} is reserved for the system; use a namespace of your own"),
        )
    fleet = spec["metadata"]["name"]
    gateway_name = spec["gateway"].get("name")
    if len(fleet) > naming.HELM_RELEASE_MAX:
        yield (
            ("metadata", "name"),
            (
                f"the fleet name is the Helm release name, and helm install refuses release names "
                f"longer than {naming.HELM_RELEASE_MAX} characters ({len(fleet):,} here): shorten it"
            ),
        )
    else:  # a fleet name Helm accepts may still derive names that are too long
        for key, derived in naming.fleet_names(fleet).items():
            if key == "gateway" and gateway_name:
                continue
            if len(derived) > naming.DNS_LABEL_MAX:
                yield (
                    ("metadata", "name"),
                    (
                        f"derived name {derived!r} is longer than "
                        f"{naming.DNS_LABEL_MAX} characters; shorten the name"
                    ),
                )
    gw = spec["gateway"]
    if gw["metricsReader"] and gw["routing"] == "inference-pool":
        ns = spec["metadata"]["namespace"]
        for what, value in naming.fleet_labels(fleet, ns).items():
            if len(value) > naming.DNS_LABEL_MAX:
                shorten = (
                    "metadata.name" if what == "metrics reader" else "metadata.name or metadata.namespace"
                )
                yield (
                    ("metadata", "name"),
                    (
                        f"with gateway.metricsReader the {what} gets the label value {value!r} "
                        f"({len(value)} characters; label values have at most {naming.DNS_LABEL_MAX}): "
                        f"shorten {shorten} by {len(value) - naming.DNS_LABEL_MAX}"
                    ),
                )


def check_gateway(spec: dict[str, Any]) -> Iterator[Finding]:
    hc = spec["gateway"]["healthCheck"]
    # GKE HealthCheckPolicy: "timeOutSec cannot exceed checkIntervalSec" (CEL rule of
    # networking.gke.io/v1 HealthCheckPolicy spec.default; schemas/upstream/crds/gke)
    if hc["timeoutSec"] > hc["checkIntervalSec"]:
        yield (
            ("gateway", "healthCheck", "checkIntervalSec"),
            (
                f"checkIntervalSec ({hc['checkIntervalSec']}) is shorter than timeoutSec "
                f"({hc['timeoutSec']}); GKE's HealthCheckPolicy requires timeoutSec <= "
                f"checkIntervalSec: raise checkIntervalSec to {hc['timeoutSec']} or lower timeoutSec"
            ),
        )


def check_clusters(spec: dict[str, Any]) -> Iterator[Finding]:
    clusters = spec["clusters"]
    yield from _dupes([(("clusters", i, "name"), c["name"]) for i, c in enumerate(clusters)], "cluster name")
    configs = [i for i, c in enumerate(clusters) if c["role"] == "config"]
    multi = catalog.gateway_classes()[spec["gateway"]["class"]]["multiCluster"]
    if len(clusters) > 1:
        if not configs:
            yield (
                ("clusters",),
                (
                    "several clusters need exactly one with `role: config` "
                    "(it holds the multi-cluster Gateway); none has it"
                ),
            )
        if not multi:
            yield (
                ("clusters",),
                (
                    f"the fleet has several clusters but gateway.class "
                    f"{spec['gateway']['class']!r} is single-cluster; set a "
                    "multi-cluster class such as "
                    "gke-l7-cross-regional-internal-managed-mc"
                ),
            )
    for extra in configs[1:]:
        yield (
            ("clusters", extra, "role"),
            (f"only one cluster may be the config cluster; clusters[{configs[0]}] already is"),
        )
    if multi:
        if spec["gateway"]["routing"] != "inference-pool":
            yield (
                ("gateway", "routing"),
                (
                    f"multi-cluster gateways route to imported "
                    "InferencePools: set `routing: inference-pool` "
                    f"(got {spec['gateway']['routing']!r})"
                ),
            )
        if len(clusters) < 2:
            yield (
                ("gateway", "class"),
                (
                    f"{spec['gateway']['class']!r} is a multi-cluster "
                    "class; list at least two clusters, or use "
                    "gke-l7-rilb for one cluster"
                ),
            )
        for i, c in enumerate(clusters if len(clusters) > 1 else []):
            if "region" not in c:
                yield (
                    ("clusters", i),
                    (f"cluster {c['name']!r} needs a `region` for the multi-cluster gateway addresses"),
                )
        addresses = spec["gateway"].get("addresses")
        if addresses is not None:
            regions = {c["region"] for c in clusters if "region" in c}
            given = [(("gateway", "addresses", i, "region"), a["region"]) for i, a in enumerate(addresses)]
            yield from _dupes(given, "address region")
            named = {r for _, r in given}
            for p, r in given:
                if r not in regions:
                    yield p, f"no cluster is in region {r!r}; regions: {', '.join(sorted(regions))}"
            for r in sorted(regions - named):
                yield (
                    ("gateway", "addresses"),
                    (f"region {r!r} has clusters but no gateway address; add `- region: " + r + "`"),
                )
    if spec["gateway"]["metricsReader"] and spec["gateway"]["routing"] != "inference-pool":
        yield (
            ("gateway", "metricsReader"),
            (
                "the metrics reader is for the endpoint pickers of "
                "`routing: inference-pool`; remove it or switch routing"
            ),
        )
    if spec["gateway"].get("addresses") and not multi:
        yield ("gateway", "addresses"), ("addresses are only used by multi-cluster gateway classes (*-mc)")


def check_security(spec: dict[str, Any]) -> Iterator[Finding]:
    np = spec["security"].get("networkPolicy")
    for i, cidr in enumerate(np["loadBalancerCIDRs"] if np else []):
        # the schema's pattern only shapes it; the API server parses it (NetworkPolicy ipBlock)
        try:
            net = ipaddress.IPv4Network(cidr, strict=False)
        except ValueError as exc:
            yield (
                ("security", "networkPolicy", "loadBalancerCIDRs", i),
                f"{cidr!r} is not an IPv4 CIDR ({exc}); write it like 10.129.0.0/23",
            )
            continue
        if str(net) != cidr:
            yield (
                ("security", "networkPolicy", "loadBalancerCIDRs", i),
                f"{cidr!r} has host bits set; write the network address: {net}",
            )
    cls = catalog.gateway_classes()[spec["gateway"]["class"]]
    # internal and regional classes run Envoy proxies in proxy-only subnets; only the
    # global external ones reach pods from Google's front-end ranges (always admitted)
    if np and np["enabled"] and not np["loadBalancerCIDRs"] and (cls["regional"] or cls["internal"]):
        yield (
            ("security", "networkPolicy"),
            (
                f"gateway class {spec['gateway']['class']!r} sends traffic from its proxy-only "
                "subnet: list that range in loadBalancerCIDRs, or the policy blocks every request"
            ),
        )


def check_accelerator(acc: dict[str, Any], path: SpecPath) -> Iterator[Finding]:
    kind = acc["type"]
    if kind in catalog.gpus():
        if "topology" in acc:
            yield path + ("topology",), f"{kind} is a GPU; `topology` is for TPU types only"
        counts = catalog.gpus()[kind]["counts"]
        count = acc.get("count", 1)
        if count not in counts:
            default = "" if "count" in acc else " (the default when `count` is omitted)"
            yield (
                path + ("count",),
                (f"{count}{default} is not a valid {kind} count (valid: {', '.join(map(str, counts))})"),
            )
    elif kind in catalog.tpus():
        if "count" in acc:
            yield (
                path + ("count",),
                (f"{kind} is a TPU; set `topology` instead of `count` (chips follow from the topology)"),
            )
        valid = [t["topology"] for t in catalog.tpus()[kind]["topologies"]]
        if "topology" not in acc:
            yield path, f"{kind} needs a `topology` (valid: {', '.join(valid)})"
        elif catalog.tpu_topology(kind, acc["topology"]) is None:
            yield (
                path + ("topology",),
                (f"{acc['topology']!r} is not a valid {kind} topology (valid: {', '.join(valid)})"),
            )


def check_model(spec: dict[str, Any], i: int, m: dict[str, Any]) -> Iterator[Finding]:
    p: SpecPath = ("models", i)
    if len(m["name"]) > naming.RAYSERVICE_NAME_MAX:
        yield (
            p + ("name",),
            (
                f"{m['name']!r} is {len(m['name'])} characters; KubeRay accepts "
                f"RayService names of at most {naming.RAYSERVICE_NAME_MAX}"
            ),
        )
    else:
        too_long = [(k, d) for k, d in naming.model_names(m["name"]).items() if len(d) > naming.DNS_LABEL_MAX]
        for key, derived in too_long[:1]:
            limit = naming.DNS_LABEL_MAX - len(naming.longest(naming.MODEL_SUFFIXES))
            yield (
                p + ("name",),
                (
                    f"derived name {derived!r} ({key}) is longer than "
                    f"{naming.DNS_LABEL_MAX} characters; use at most "
                    f"{limit} characters"
                ),
            )
    yield from check_accelerator(m["accelerator"], p + ("accelerator",))
    r = m["replicas"]
    if r["min"] > r["max"]:
        yield p + ("replicas", "min"), f"min ({r['min']}) is greater than max ({r['max']})"
    known = {c["name"] for c in spec["clusters"]}
    for j, name in enumerate(m.get("clusters", [])):
        if name not in known:
            yield p + ("clusters", j), (f"unknown cluster {name!r} (clusters: {', '.join(sorted(known))})")
    lb = m.get("loadBalancing", {})
    if "customMetric" in lb and "inFlight" in lb:
        yield (
            p + ("loadBalancing",),
            (
                "customMetric and inFlight are mutually exclusive "
                f"({format_path(p + ('loadBalancing', 'customMetric'))} "
                f"and {format_path(p + ('loadBalancing', 'inFlight'))}); "
                "keep one"
            ),
        )
    if m["accelerator"]["type"] in catalog.tpus() and "image" not in m and "image" not in spec["defaults"]:
        yield (
            p,
            (
                "TPU models need an `image` with vLLM for TPU (the default ray-llm images "
                "are CUDA builds); build one as in the GKE multi-host TPU sample"
            ),
        )
    elif "image" not in m and "image" not in spec["defaults"]:
        ray = catalog.releases()["ray"]
        version = ray_version(m.get("rayVersion"), spec["defaults"].get("rayVersion"))
        if isinstance(version, str) and version not in ray["images"]:
            where = p + ("rayVersion",) if "rayVersion" in m else ("defaults", "rayVersion")
            yield (
                where,
                (
                    f"gen knows no default image for Ray {version} (it has images for "
                    f"{', '.join(sorted(ray['images']))}); set `image` to a ray-llm image "
                    f"of Ray {version}, e.g. rayproject/ray-llm:{version}-py312-cu130"
                ),
            )
    reserved = set(catalog.accelerators()["hfTokenEnv"].values()) | {
        "RAY_SERVE_THROUGHPUT_OPTIMIZED",
        "RAY_SERVE_ENABLE_HA_PROXY",
    }
    for key in sorted(set(m.get("env", {})) & reserved):
        yield (
            p + ("env", key),
            (
                f"{key} is set by gen (the token comes from hfTokenSecret, HAProxy from "
                "`haproxy`, the Ray Serve tuning from the chart); remove it here"
            ),
        )
    if spec["gateway"]["routing"] == "inference-pool" and r["min"] == 0:
        # The pool selects worker pods only (the endpoint picker routes to vLLM replicas);
        # at zero workers it has no endpoint, so the request that would scale up is refused.
        yield (
            p + ("replicas", "min"),
            (
                "0 leaves the InferencePool without endpoints: with `routing: inference-pool` no "
                "request reaches Ray to scale it up again; set replicas.min to 1 or more, or use "
                "routing body/header/path (the Serve proxy on the head takes the first request)"
            ),
        )
    if m.get("dranet") and m["accelerator"]["type"] not in catalog.tpus():
        yield p + ("dranet",), "DRANET is for multi-host TPU slices; remove it or use a TPU"
    if "path" in m and spec["gateway"]["routing"] != "path":
        yield (
            p + ("path",),
            (f"`path` is only used with `gateway.routing: path` (routing is {spec['gateway']['routing']!r})"),
        )
    yield from _check_storage(m, p)
    yield from _check_lora(spec, m, p)
    yield from _check_worker_fits(m, p)


def _check_worker_fits(m: dict[str, Any], p: SpecPath) -> Iterator[Finding]:
    """resources.worker must fit a node with the model's accelerators: otherwise the
    worker pods stay Pending (gen check reports the same on the output)."""
    override = m.get("resources", {}).get("worker", {})
    if not override or not accelerator_from_data(m["accelerator"]).known:
        return
    shape = nodes.worker_shape(typed_model(m))
    keys = {"cpu": "cpu", "memory": "memory", "ephemeral-storage": "ephemeralStorage"}
    for resource, why in shape.misfits().items():
        key = keys[resource]
        where = p + (("resources", "worker", key) if key in override else ("accelerator",))
        yield (
            where,
            f"the worker pod does not fit its node: {resource} {why} on a {shape.machine_type} "
            f"(the largest machine type gen's catalog has for this accelerator, after GKE's "
            f"reservations and system pods); lower resources.worker.{key} or use more accelerators "
            "per worker",
        )


def _check_lora(spec: dict[str, Any], m: dict[str, Any], p: SpecPath) -> Iterator[Finding]:
    if "lora" not in m:
        return
    ranks = catalog.releases()["vllm"]["loraRanks"]
    if m["lora"].get("maxRank", 16) not in ranks:
        yield (
            p + ("lora", "maxRank"),
            f"vLLM accepts a max_lora_rank of {', '.join(map(str, ranks))}; use the smallest that is at "
            "least your adapters' largest rank",
        )
    if m.get("multiplexing"):
        yield (
            p + ("lora",),
            "LoRA adapters share one base model; with `multiplexing` several base models share the "
            "RayService: use one of the two",
        )
    routing = spec["gateway"]["routing"]
    if header_match(routing, len(spec["models"])):
        # requests for an adapter name `<model id>:<adapter>`; the route matches exact ids only
        yield (
            p + ("lora",),
            f"requests for an adapter send `model: <model id>:<adapter>`, which the exact model-name "
            f"match of `routing: {routing}` never matches; use `routing: path`, or "
            "`routing: inference-pool` with this model alone in the fleet",
        )


def _check_storage(m: dict[str, Any], p: SpecPath) -> Iterator[Finding]:
    sources = [(p + ("source",), m["source"])]
    mux = m.get("multiplexing")
    if mux:
        sources += [
            (p + ("multiplexing", "models", j, "source"), e["source"]) for j, e in enumerate(mux["models"])
        ]
    fuse = m.get("storage", {}).get("gcsFuse")
    for path, source in sources:
        bucket = gcs_bucket(source)
        if bucket is None:
            continue
        if fuse is None:
            yield (
                path,
                (
                    f"{source!r} is in GCS: add storage.gcsFuse.bucket: {bucket} and a "
                    "serviceAccount with access to it"
                ),
            )
        elif fuse["bucket"] != bucket:
            yield (
                path,
                (
                    f"bucket {bucket!r} differs from storage.gcsFuse.bucket "
                    f"{fuse['bucket']!r}; one model mounts one bucket"
                ),
            )
    if fuse is not None and "serviceAccount" not in m:
        yield (
            p + ("storage", "gcsFuse"),
            ("GCS Fuse needs a Workload Identity service account: add serviceAccount: {name: ...}"),
        )
    dl = m.get("download", {})
    if dl.get("enabled"):
        if fuse is None:
            yield p + ("download",), "the download Job writes to the bucket: add storage.gcsFuse"
        if "from" not in dl:
            yield p + ("download",), "the download Job needs `from: hf://<org>/<model>`"


def check_models(spec: dict[str, Any]) -> Iterator[Finding]:
    models = spec["models"]
    name_dupes = list(
        _dupes([(("models", i, "name"), m["name"]) for i, m in enumerate(models)], "model name")
    )
    yield from name_dupes
    # a duplicate name already implies a duplicate default id: report it once
    repeated = {f[0][1] for f in name_dupes}
    ids: list[tuple[SpecPath, str]] = []
    for i, m in enumerate(models):
        mux = m.get("multiplexing")
        if mux:
            ids += [
                (("models", i, "multiplexing", "models", j, "id"), e["id"])
                for j, e in enumerate(mux["models"])
            ]
        elif "modelId" in m:
            ids.append((("models", i, "modelId"), m["modelId"]))
        elif i not in repeated:
            ids.append((("models", i, "name"), m["name"]))
    yield from _dupes(ids, "model id")
    if spec["gateway"]["routing"] == "path":
        yield from _dupes(
            [(("models", i, "path"), route_path(m["name"], m.get("path"))) for i, m in enumerate(models)],
            "path prefix",
        )
    # objectives and multiplexed models both become InferenceObjectives in one namespace
    objectives: list[tuple[SpecPath, Any]] = [
        (("models", i, "objectives", j, "name"), o["name"])
        for i, m in enumerate(models)
        for j, o in enumerate(m.get("objectives", []))
    ]
    objectives += [
        (("models", i, "multiplexing", "models", j, "name"), e["name"])
        for i, m in enumerate(models)
        for j, e in enumerate(m.get("multiplexing", {}).get("models", []))
    ]
    yield from _dupes(objectives, "objective name")
    for i, m in enumerate(models):
        yield from check_model(spec, i, m)


# Gateway API HTTPRoute: a rule has at most 64 matches (standard CRD
# gateway.networking.k8s.io_httproutes.yaml, rules[].matches maxItems: 64); gen's route of
# a model has one rule with one header match per model id it serves.
ROUTE_MATCHES_MAX = 64


def check_routes(spec: dict[str, Any]) -> Iterator[Finding]:
    models = spec["models"]
    matches_ids = header_match(spec["gateway"]["routing"], len(models))
    for i, m in enumerate(models):
        mux = m.get("multiplexing", {}).get("models", [])
        if matches_ids and len(mux) > ROUTE_MATCHES_MAX:
            yield (
                ("models", i, "multiplexing", "models"),
                (
                    f"{len(mux)} multiplexed models, but the model's HTTPRoute rule matches one "
                    f"header value per model id and Gateway API allows at most {ROUTE_MATCHES_MAX} "
                    f"matches per rule; split them into models of at most {ROUTE_MATCHES_MAX}"
                ),
            )


def _placed(spec: dict[str, Any], cluster: str) -> list[tuple[int, dict[str, Any]]]:
    every = [c["name"] for c in spec["clusters"]]
    return [(i, m) for i, m in enumerate(spec["models"]) if cluster in m.get("clusters", every)]


def check_generated_objects(spec: dict[str, Any]) -> Iterator[Finding]:
    """Two generated objects of one kind with one name in one cluster: the second would
    silently replace the first. Models that name the same serviceAccount share one object
    (created once), so they must agree on its Workload Identity binding."""
    gw = spec["gateway"]
    pools = gw["routing"] == "inference-pool"
    np = spec["security"].get("networkPolicy")
    network_policy = bool(np and np["enabled"])
    fleet = naming.fleet_objects(spec["metadata"]["name"], metrics_reader=pools and gw["metricsReader"])
    sas: dict[str, tuple[int, str]] = {}
    for i, m in enumerate(spec["models"]):
        sa = m.get("serviceAccount")
        if sa is None:
            continue
        gcp = sa.get("gcpServiceAccount", "")
        first = sas.setdefault(sa["name"], (i, gcp))
        if first[1] != gcp:
            yield (
                ("models", i, "serviceAccount", "gcpServiceAccount"),
                (
                    f"models[{first[0]}] uses ServiceAccount {sa['name']!r} too, "
                    + (f"bound to {first[1]!r}" if first[1] else "without gcpServiceAccount")
                    + "; models that share a ServiceAccount "
                    "share its Workload Identity binding: give both the same gcpServiceAccount, "
                    "or another serviceAccount.name"
                ),
            )
    reported: set[tuple[str, str]] = set()
    for c in spec["clusters"]:
        autopilot = c["mode"] == "autopilot"
        seen: dict[tuple[str, str], tuple[str, SpecPath]] = {
            (kind, name): (what, field) for kind, name, what, field in fleet
        }
        owner: dict[tuple[str, str], str] = {}
        for i, m in _placed(spec, c["name"]):
            objects = naming.model_objects(
                typed_model(m), pools=pools, network_policy=network_policy, autopilot=autopilot
            )
            for kind, name, what, field in objects:
                path = ("models", i) + field
                key = (kind, name)
                if key not in seen:
                    seen[key] = (what, path)
                    owner[key] = m["name"]
                    continue
                other_what, other = seen[key]
                shared_sa = kind == "ServiceAccount" and other[-2:] == ("serviceAccount", "name") == field
                # two models of one name: reported once, as a duplicate model name
                same_name = owner.get(key) == m["name"]
                if shared_sa or same_name or other[:2] == path[:2] or key in reported:
                    continue
                reported.add(key)
                yield (
                    path,
                    (
                        f"{kind} {name!r} ({what} of models[{i}]) would also be {other_what} "
                        f"({format_path(other)}): one object would replace the other; rename "
                        f"{format_path(path)} or {format_path(other)}"
                    ),
                )


def _check_model_facts(m: dict[str, Any], p: SpecPath) -> Iterator[Finding]:
    """modelFacts the capacity arithmetic can use (a head dimension of at least 1)."""
    given = [(p + ("modelFacts",), m.get("modelFacts"))]
    given += [
        (p + ("multiplexing", "models", j, "modelFacts"), e.get("modelFacts"))
        for j, e in enumerate(m.get("multiplexing", {}).get("models", []))
    ]
    for path, facts in given:
        if facts and "headDim" not in facts and facts["hiddenSize"] < facts["attentionHeads"]:
            yield (
                path + ("hiddenSize",),
                (
                    f"hiddenSize ({facts['hiddenSize']}) is smaller than attentionHeads "
                    f"({facts['attentionHeads']}), so the head dimension hiddenSize / attentionHeads "
                    "is 0; copy hidden_size and num_attention_heads from config.json, or set headDim"
                ),
            )


def check_capacity(spec: dict[str, Any]) -> Iterator[Finding]:
    """Each replica uses exactly its chips, and each model fits them (weights + KV cache)."""
    for i, m in enumerate(spec["models"]):
        if next(check_accelerator(m["accelerator"], ()), None):
            continue  # reported by check_model
        bad_facts = list(_check_model_facts(m, ("models", i)))
        if bad_facts:
            yield from bad_facts
            continue
        model = typed_model(m)
        layout = replica_layout(model)
        used = layout.tensor_parallel * layout.pipeline_parallel
        args = m.get("engineArgs", {})
        if layout.explicit and layout.chips and used != layout.chips:
            key = "tensor_parallel_size" if "tensor_parallel_size" in args else "pipeline_parallel_size"
            effect = (
                f"{layout.chips - used} would stay idle"
                if used < layout.chips
                else "the replica could never be placed"
            )
            yield (
                ("models", i, "engineArgs", key),
                f"tensor_parallel_size x pipeline_parallel_size is {used}, but one replica has "
                f"{layout.chips} {layout.accelerator} chips, so {effect}; make the product "
                f"{layout.chips}, or remove both and gen derives tensor_parallel_size",
            )
            continue
        for c in model_capacity(model, i):
            if c.result is None or c.result.fits:
                continue
            at = ("models", i, "engineArgs", "max_model_len") if "max_model_len" in args else c.path
            yield (
                at,
                f"{c.facts.repo_id if c.facts else c.model_id} does not fit one replica of "
                f"{layout.chips}x {layout.accelerator}: "
                f"{c.result.reason}; {c.fix or 'no accelerator in the catalog holds it'}",
            )


RULES = [
    check_secrets,
    check_metadata,
    check_gateway,
    check_clusters,
    check_models,
    check_routes,
    check_generated_objects,
    check_security,
    check_capacity,
]


def findings(spec: dict[str, Any]) -> list[Finding]:
    return [f for rule in RULES for f in rule(spec)]
