"""What the clusters must have before the rendered output runs, derived from it.

Each detector looks at the rendered resources (not at the spec), so a feature the
output uses cannot be left out of the emitted README: if a pod mounts a GCS Fuse
volume, the CSI driver row is there. Facts (feature names, commands, what Autopilot
does instead) live in ``catalog/prerequisites.yaml`` and ``catalog/nodes.yaml``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import catalog, nodes
from ..objects import (
    POD_TEMPLATE_KINDS,
    as_dict,
    as_list,
    as_str,
    gcs_fuse_volumes,
    llm_configs,
    pod_templates,
)

if TYPE_CHECKING:
    from ..plan import Plan
    from .manifests import Resource

GSA_ANNOTATION = "iam.gke.io/gcp-service-account"


@dataclass
class Prerequisite:
    """One row of the README's prerequisites table."""

    key: str
    feature: str
    needed_by: list[str]  # "Kind/name" of the resources that need it
    clusters: list[str]
    commands: list[str]
    autopilot: str | None = None  # what Autopilot needs instead; None: the same commands
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Output:
    plan: Plan
    by_cluster: dict[str, list[Resource]]
    _pod_specs: dict[int, list[dict[str, Any]]] = field(default_factory=dict, init=False, repr=False)
    # (cluster, kind) -> its resources in order: each detector asks for a kind or two,
    # and a scan of every resource per question was a tenth of this at 10000 models
    _kinds: dict[tuple[str, str], list[Resource]] = field(default_factory=dict, init=False, repr=False)
    _fuse: dict[int, bool] = field(default_factory=dict, init=False, repr=False)  # asked by three rows
    # cluster -> its resources of a kind with pod templates (objects.POD_TEMPLATE_KINDS):
    # the rows about pods read only those, not a large fleet's tens of thousands of routes
    # and policies (each read of a cold object costs a cache miss or several)
    _workloads: dict[str, list[Resource]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        for cluster, resources in self.by_cluster.items():
            workloads = self._workloads[cluster] = []
            for r in resources:
                self._kinds.setdefault((cluster, r.kind), []).append(r)
                if r.kind in POD_TEMPLATE_KINDS:
                    workloads.append(r)

    def workloads(self, cluster: str | None = None) -> list[Resource]:
        """The resources with pod templates, of one cluster or of all, in order."""
        if cluster is not None:
            return self._workloads.get(cluster, [])
        return [r for rs in self._workloads.values() for r in rs]

    def of_kind(self, kind: str) -> Iterator[Resource]:
        for cluster in self.by_cluster:
            yield from self.in_cluster(cluster, kind)

    def in_cluster(self, cluster: str, kind: str) -> list[Resource]:
        return self._kinds.get((cluster, kind), [])

    def clusters_of_kind(self, *kinds: str) -> list[str]:
        return [c for c in self.by_cluster if any((c, k) in self._kinds for k in kinds)]

    def pods(self) -> Iterator[tuple[Resource, dict[str, Any]]]:
        for resources in self._workloads.values():
            for r in resources:
                for spec in self.pod_specs(r):
                    yield r, spec

    def pod_specs(self, r: Resource) -> list[dict[str, Any]]:
        """The pod specs of a resource, found once (several rows read them)."""
        found = self._pod_specs.get(id(r))
        if found is None:
            found = self._pod_specs[id(r)] = [
                as_dict(tpl.get("spec")) for _, tpl, _, _ in pod_templates(r.obj)
            ]
        return found

    def uses_gcs_fuse(self, r: Resource) -> bool:
        found = self._fuse.get(id(r))
        if found is None:
            found = self._fuse[id(r)] = any(gcs_fuse_volumes(spec) for spec in self.pod_specs(r))
        return found


def _ref(r: Resource) -> str:
    return f"{r.kind}/{r.name}"


def _fill(row: str, needed_by: list[str], clusters: list[str], **fmt: Any) -> Prerequisite:
    fact = catalog.prerequisites()[row]
    return Prerequisite(
        row,
        fact["feature"].format(**fmt),
        sorted(set(needed_by)),
        clusters,
        [" ".join(c.format(**fmt).split()) for c in fact["commands"]],
        fact.get("autopilot"),
    )


Detector = Callable[[_Output, dict[str, str]], list[Prerequisite]]


def _gateway_api(out: _Output, fmt: dict[str, str]) -> list[Prerequisite]:
    gws = list(out.of_kind("Gateway"))
    clusters = out.clusters_of_kind("Gateway", "HTTPRoute")
    return [_fill("gateway-api", [_ref(r) for r in gws], clusters, **fmt)] if gws else []


def _ray_operator(out: _Output, fmt: dict[str, str]) -> list[Prerequisite]:
    rs = list(out.of_kind("RayService"))
    clusters = out.clusters_of_kind("RayService")
    return [_fill("ray-operator", [_ref(r) for r in rs], clusters, **fmt)] if rs else []


def _gcs_fuse(out: _Output, fmt: dict[str, str]) -> list[Prerequisite]:
    users = [r for r in out.workloads() if out.uses_gcs_fuse(r)]
    if not users:
        return []
    clusters = [c for c in out.by_cluster if any(out.uses_gcs_fuse(r) for r in out.workloads(c))]
    return [_fill("gcs-fuse", [_ref(r) for r in users], clusters, **fmt)]


def _workload_identity(out: _Output, fmt: dict[str, str]) -> list[Prerequisite]:
    # Cloud Storage from a pod (GCS Fuse) or an annotated KSA both need the GKE metadata server
    users = [r for r in out.workloads() if out.uses_gcs_fuse(r)]
    users += [
        r
        for r in out.of_kind("ServiceAccount")
        if GSA_ANNOTATION in as_dict(as_dict(r.obj.get("metadata")).get("annotations"))
    ]
    users += [
        r
        for r in out.of_kind("RayService")
        if any(as_dict(c.get("lora_config")).get("dynamic_lora_loading_path") for c in llm_configs(r.obj))
    ]
    if not users:
        return []
    present = {u.cluster for u in users}
    clusters = [c for c in out.by_cluster if c in present]
    return [_fill("workload-identity", [_ref(r) for r in users], clusters, **fmt)]


def _dataplane_v2(out: _Output, fmt: dict[str, str]) -> list[Prerequisite]:
    device_class = catalog.operations()["dranet"]["deviceClassName"]

    def dranet(r: Resource) -> bool:
        devices = as_dict(as_dict(as_dict(r.obj.get("spec")).get("spec")).get("devices"))
        return r.kind == "ResourceClaimTemplate" and any(
            as_str(as_dict(as_dict(q).get("exactly")).get("deviceClassName")) == device_class
            for q in as_list(devices.get("requests"))
        )

    users = [r for r in out.of_kind("ResourceClaimTemplate") if dranet(r)]
    if not users:
        return []
    clusters = [c for c in out.by_cluster if any(r.cluster == c for r in users)]
    return [_fill("dataplane-v2", [_ref(r) for r in users], clusters, **fmt)]


def _worker_pools(out: _Output, fmt: dict[str, str]) -> list[Prerequisite]:
    """One node pool per model and accelerator shape, exactly the shape its pods were sized for."""
    rows = []
    for cluster in out.by_cluster:
        for r in out.in_cluster(cluster, "RayService"):
            groups = as_list(
                as_dict(as_dict(r.obj.get("spec")).get("rayClusterConfig")).get("workerGroupSpecs")
            )
            for group in map(as_dict, groups):
                tpl = as_dict(group.get("template"))
                spec = as_dict(tpl.get("spec"))
                selector = as_dict(spec.get("nodeSelector"))
                limits = {
                    k: v
                    for c in map(as_dict, as_list(spec.get("containers")))
                    for k, v in as_dict(as_dict(c.get("resources")).get("limits")).items()
                }
                count = int(str(limits.get("nvidia.com/gpu", limits.get("google.com/tpu", 0))))
                machine = nodes.machine_for(selector, count) if count else None
                if machine is None:
                    continue
                storage, _ = nodes.stated_storage(tpl, machine)
                hosts = int(str(group.get("numOfHosts", 1)))
                pool = f"{r.name[:35]}-{'tpu' if nodes.TPU_SELECTOR in selector else 'gpu'}"
                common = {
                    **fmt,
                    "pool": pool,
                    "machine": machine,
                    "storage": nodes.storage_flags(storage),
                }
                if nodes.TPU_SELECTOR in selector:
                    dranet = bool(as_list(spec.get("resourceClaims")))
                    row = _fill(
                        "tpu-nodes",
                        [_ref(r)],
                        [cluster],
                        **common,
                        topology=selector.get(nodes.TPU_TOPOLOGY_SELECTOR, ""),
                        hosts=hosts * int(str(group.get("maxReplicas", 1))),
                        dranet=(
                            " --enable-gvnic --accelerator-network-profile=auto "
                            "--node-labels=cloud.google.com/gke-networking-dra-driver=true"
                            if dranet
                            else ""
                        ),
                    )
                else:
                    row = _fill(
                        "gpu-nodes",
                        [_ref(r)],
                        [cluster],
                        **common,
                        accelerator=selector.get(nodes.GPU_SELECTOR, ""),
                        count=count,
                        min=int(str(group.get("minReplicas", 0))) * hosts,
                        max=int(str(group.get("maxReplicas", 0))) * hosts,
                    )
                total = hosts * int(str(group.get("maxReplicas", 1)))
                chips = total * count
                unit = "TPU chip" if pool.endswith("-tpu") else "GPU"
                quota = f" ({chips} {unit}{'s' * (chips != 1)} of quota at most)"
                row.feature = (
                    f"{row.feature}: {machine}"
                    + (f", {nodes.storage_flags(storage)}" if nodes.storage_flags(storage) else "")
                    + quota
                )
                rows.append(row)
    return rows


def _fleet(out: _Output, fmt: dict[str, str]) -> list[Prerequisite]:
    gateway = out.plan.gateway
    if not catalog.gateway_classes()[gateway["class"]]["multiCluster"]:
        return []
    config = next((c.name for c in out.plan.clusters if c.role == "config"), out.plan.clusters[0].name)
    fact = catalog.prerequisites()["fleet"]
    register, enable = fact["commands"]
    row = _fill(
        "fleet", [f"Gateway/{gateway['name']}"], list(out.by_cluster), **fmt, config=config, member=""
    )
    row.commands = [
        " ".join(register.format(**fmt, config=config, member=c).split()) for c in out.by_cluster
    ] + [enable.format(**fmt, config=config)]
    return [row]


def _proxy_subnet(out: _Output, fmt: dict[str, str]) -> list[Prerequisite]:
    gateway = out.plan.gateway
    facts = catalog.gateway_classes()[gateway["class"]]
    if not facts["internal"]:
        return []
    regional = facts["regional"]
    purpose = "REGIONAL_MANAGED_PROXY" if regional else "GLOBAL_MANAGED_PROXY"
    regions = sorted({c.region for c in out.plan.clusters if c.region}) or ["REGION"]
    if regional:
        regions = regions[:1]
    fact = catalog.prerequisites()["proxy-subnet"]
    row = _fill(
        "proxy-subnet",
        [f"Gateway/{gateway['name']}"],
        list(out.by_cluster),
        **fmt,
        purpose=purpose,
        gateway_class=gateway["class"],
        subnet="",
        region="",
        range="",
    )
    row.commands = [
        fact["commands"][0].format(
            **fmt,
            purpose=purpose,
            subnet=f"{region}-proxy-only" if region != "REGION" else "proxy-only-subnet",
            region=region,
            range=f"RANGE_{n}",
        )
        for n, region in enumerate(regions, 1)
    ]
    return [row]


def _custom_metrics(out: _Output, fmt: dict[str, str]) -> list[Prerequisite]:
    metrics = list(out.of_kind("AutoscalingMetric"))
    clusters = out.clusters_of_kind("AutoscalingMetric")
    return [_fill("custom-metrics", [_ref(r) for r in metrics], clusters, **fmt)] if metrics else []


def _objective_crd(out: _Output, fmt: dict[str, str]) -> list[Prerequisite]:
    objectives = list(out.of_kind("InferenceObjective"))
    if not objectives:
        return []
    profile = out.plan.objective_profile
    clusters = out.clusters_of_kind("InferenceObjective")
    return [
        _fill(
            "objective-crd",
            [_ref(r) for r in objectives],
            clusters,
            **fmt,
            release=profile["release"],
            crd=profile["crd"],
        )
    ]


def _secrets(out: _Output, fmt: dict[str, str]) -> list[Prerequisite]:
    """Every Secret a pod references that the output does not create."""
    hf_keys = set(catalog.accelerators()["hfTokenEnv"].values())
    refs: dict[tuple[str, str], tuple[list[str], list[str], str]] = {}
    for cluster in out.by_cluster:
        made = {r.name for r in out.in_cluster(cluster, "Secret")}
        for r in out.workloads(cluster):
            for spec in out.pod_specs(r):
                containers = [*as_list(spec.get("initContainers")), *as_list(spec.get("containers"))]
                for c in map(as_dict, containers):
                    for env in map(as_dict, as_list(c.get("env"))):
                        ref = as_dict(as_dict(env.get("valueFrom")).get("secretKeyRef"))
                        name, key = as_str(ref.get("name")), as_str(ref.get("key"))
                        if not name or not key or name in made:
                            continue
                        users, clusters, _ = refs.setdefault((name, key), ([], [], str(env.get("name"))))
                        users.append(_ref(r))
                        if cluster not in clusters:
                            clusters.append(cluster)
    rows = []
    for (name, key), (users, clusters, env_name) in sorted(refs.items()):
        variable = "HF_TOKEN" if env_name in hf_keys else "SECRET_VALUE"
        rows.append(
            _fill(
                "secret",
                users,
                clusters,
                **fmt,
                name=name,
                key=key,
                namespace=out.plan.namespace,
                variable=variable,
            )
        )
    return rows


def _tls(out: _Output, fmt: dict[str, str]) -> list[Prerequisite]:
    rows = []
    for cluster in out.by_cluster:
        for r in out.in_cluster(cluster, "Gateway"):
            for listener in map(as_dict, as_list(as_dict(r.obj.get("spec")).get("listeners"))):
                for cert in map(as_dict, as_list(as_dict(listener.get("tls")).get("certificateRefs"))):
                    name = as_str(cert.get("name"))
                    if name:
                        ns = out.plan.namespace
                        rows.append(_fill("tls-secret", [_ref(r)], [cluster], **fmt, name=name, namespace=ns))
    return rows


def _buckets(out: _Output, fmt: dict[str, str]) -> list[Prerequisite]:
    """Each GCS Fuse bucket: created (when gen's Job fills it) or filled by you, and the
    least access each identity needs: read for model servers, write for the download Job."""
    access: dict[tuple[str, str, str], list[str]] = {}  # (bucket, ksa, role) -> users
    writers: set[str] = set()
    lora_buckets: set[str] = set()
    accounts = {r.name: r for r in out.of_kind("ServiceAccount")}
    for r, spec in out.pods():
        for bucket, writes in gcs_fuse_volumes(spec):
            role = "roles/storage.objectUser" if writes else "roles/storage.objectViewer"
            if writes:
                writers.add(bucket)
            ksa = as_str(spec.get("serviceAccountName")) or "default"
            access.setdefault((bucket, ksa, role), []).append(_ref(r))
    # LoRA adapters Ray Serve LLM downloads from a bucket, as the worker pods' ServiceAccount
    for r in out.of_kind("RayService"):
        for llm in llm_configs(r.obj):
            path = as_str(as_dict(llm.get("lora_config")).get("dynamic_lora_loading_path"))
            if path and path.startswith("gs://"):
                cluster_spec = as_dict(as_dict(r.obj.get("spec")).get("rayClusterConfig"))
                for group in map(as_dict, as_list(cluster_spec.get("workerGroupSpecs"))):
                    spec = as_dict(as_dict(group.get("template")).get("spec"))
                    ksa = as_str(spec.get("serviceAccountName")) or "default"
                    bucket = path[len("gs://") :].split("/", 1)[0]
                    users = access.setdefault((bucket, ksa, "roles/storage.objectViewer"), [])
                    users.append(_ref(r))
                    lora_buckets.add(bucket)
    rows = []
    region = next((c.region for c in out.plan.clusters if c.region), None) or "REGION"
    for bucket in sorted({b for b, _, _ in access}):
        users = [u for (b, _, _), us in access.items() if b == bucket for u in us]
        if bucket in writers:
            rows.append(_fill("bucket", users, list(out.by_cluster), **fmt, bucket=bucket, region=region))
        elif bucket in lora_buckets:
            rows.append(_fill("adapters", users, list(out.by_cluster), **fmt, bucket=bucket))
        else:
            for m in out.plan.models:
                if m.source.startswith(f"gs://{bucket}"):
                    rows.append(_fill("weights", [f"RayService/{m.name}"], m.clusters, **fmt, path=m.source))
    for (bucket, ksa, role), users in sorted(access.items()):
        sa = accounts.get(ksa)
        gsa = (
            as_str(as_dict(as_dict(sa.obj.get("metadata")).get("annotations")).get(GSA_ANNOTATION))
            if sa
            else None
        )
        common = {**fmt, "bucket": bucket, "ksa": ksa, "role": role, "namespace": out.plan.namespace}
        if gsa:
            rows.append(
                _fill(
                    "bucket-read-gsa",
                    users,
                    list(out.by_cluster),
                    **common,
                    gsa=gsa,
                    gsa_name=gsa.split("@")[0],
                )
            )
        else:
            rows.append(_fill("bucket-read", users, list(out.by_cluster), **common))
        if role.endswith("objectUser"):
            rows[-1].feature = rows[-1].feature.replace("Read access", "Write access", 1)
    return rows


def _images(out: _Output, fmt: dict[str, str]) -> list[Prerequisite]:
    """Images in a project's own registry (Artifact Registry, Container Registry): built by you."""
    facts = catalog.operations()["images"]
    users: dict[str, list[str]] = {}
    for r, spec in out.pods():
        for c in map(as_dict, [*as_list(spec.get("initContainers")), *as_list(spec.get("containers"))]):
            image = as_str(c.get("image"))
            if (
                image
                and any(marker in image for marker in facts["privateRegistryMarkers"])
                and not image.startswith(tuple(facts["publicPrefixes"]))
            ):
                users.setdefault(image, []).append(_ref(r))
    return [
        _fill("image", us, list(out.by_cluster), **fmt, image=image) for image, us in sorted(users.items())
    ]


DETECTORS: list[Detector] = [
    _gateway_api,
    _ray_operator,
    _workload_identity,
    _gcs_fuse,
    _dataplane_v2,
    _worker_pools,
    _fleet,
    _proxy_subnet,
    _custom_metrics,
    _objective_crd,
    _secrets,
    _tls,
    _buckets,
    _images,
]


def _merged(rows: list[Prerequisite]) -> list[Prerequisite]:
    """One row for the same prerequisite on several clusters (same commands)."""
    out: dict[tuple[str, str, tuple[str, ...]], Prerequisite] = {}
    for row in rows:
        key = (row.key, row.feature, tuple(row.commands))
        if key not in out:
            out[key] = row
            continue
        first = out[key]
        first.needed_by = sorted({*first.needed_by, *row.needed_by})
        first.clusters += [c for c in row.clusters if c not in first.clusters]
    return list(out.values())


def prerequisites(plan: Plan, resources: list[Resource]) -> list[Prerequisite]:
    """Every prerequisite the rendered resources need, in a fixed order."""
    by_cluster: dict[str, list[Resource]] = {c.name: [] for c in plan.clusters}
    for r in resources:
        by_cluster.setdefault(r.cluster, []).append(r)
    fmt = {"cluster": "CLUSTER", "location": "LOCATION", "project": plan.project or "${PROJECT_ID}"}
    out = _Output(plan, by_cluster)
    # detectors in a fixed order, each one's rows sorted: the list (and its numbering)
    # does not depend on the order of the models in the spec
    rows = _merged(
        [
            row
            for detect in DETECTORS
            for row in sorted(detect(out, fmt), key=lambda r: (r.feature, r.commands))
        ]
    )
    modes = {c.name: c.mode for c in plan.clusters}
    for row in rows:
        if row.autopilot and all(modes.get(c) == "autopilot" for c in row.clusters):
            row.commands = []  # nothing to run: say what Autopilot does instead
    return rows
