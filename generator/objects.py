"""Reading Kubernetes objects as parsed YAML, rendered by gen or written by hand.

Shared by check/ (its rules) and render/ (the README's prerequisites are derived from the
rendered resources), so neither imports the other. Objects may be malformed (the schema
checks report that): every accessor tolerates wrong types.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from typing import Any

import yaml

from . import blockread, fastyaml

Path = tuple[Any, ...]
# the import paths of Ray Serve LLM's OpenAI app builder
LLM_BUILDERS = {"ray.serve.llm:build_openai_app", "ray.serve.llm.build_openai_app"}
GCS_FUSE_DRIVER = "gcsfuse.csi.storage.gke.io"  # the CSI driver of GKE's Cloud Storage FUSE add-on


def as_dict(x: Any) -> dict[str, Any]:
    return x if isinstance(x, dict) else {}


def as_list(x: Any) -> list[Any]:
    return x if isinstance(x, list) else []


def as_str(x: Any) -> str | None:
    return x if isinstance(x, str) and x else None


def as_port(x: Any) -> int | None:
    return x if isinstance(x, int) and not isinstance(x, bool) else None


def group_of(obj: Mapping[str, Any]) -> str:
    api_version = obj.get("apiVersion")
    return api_version.rpartition("/")[0] if isinstance(api_version, str) else ""


def name_of(obj: Mapping[str, Any]) -> str:
    return as_str(as_dict(obj.get("metadata")).get("name")) or "?"


# The kinds pod_templates finds pod templates in: any other kind has none, which a caller
# holding the kind can tell without reading the object.
POD_TEMPLATE_KINDS = frozenset(
    {
        "RayService",
        "RayCluster",
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "ReplicaSet",
        "Job",
        "CronJob",
        "Pod",
    }
)


def pod_templates(obj: Mapping[str, Any]) -> Iterator[tuple[Path, dict[str, Any], str | None, str]]:
    """(path, template, ray node type, ray group name) of every pod template in ``obj``."""
    kind = obj.get("kind")
    if kind not in POD_TEMPLATE_KINDS:
        return
    spec = as_dict(obj.get("spec"))
    if kind in ("RayService", "RayCluster"):
        base: Path = ("spec", "rayClusterConfig") if kind == "RayService" else ("spec",)
        cluster = as_dict(spec.get("rayClusterConfig")) if kind == "RayService" else spec
        head = as_dict(cluster.get("headGroupSpec"))
        if "template" in head:
            yield (*base, "headGroupSpec", "template"), as_dict(head["template"]), "head", "headgroup"
        for i, group in enumerate(as_list(cluster.get("workerGroupSpecs"))):
            group = as_dict(group)
            if "template" in group:
                yield (
                    (*base, "workerGroupSpecs", i, "template"),
                    as_dict(group["template"]),
                    "worker",
                    as_str(group.get("groupName")) or "",
                )
    elif kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
        if "template" in spec:
            yield ("spec", "template"), as_dict(spec["template"]), None, ""
    elif kind == "CronJob":
        tpl = as_dict(as_dict(as_dict(spec.get("jobTemplate")).get("spec")).get("template"))
        if tpl:
            yield ("spec", "jobTemplate", "spec", "template"), tpl, None, ""
    elif kind == "Pod":
        yield (), dict(obj), None, ""


def read_only_volumes(spec: dict[str, Any]) -> set[str]:
    return {
        str(v.get("name"))
        for v in map(as_dict, as_list(spec.get("volumes")))
        if as_dict(v.get("csi")).get("readOnly") is True
    }


def mounted_read_only(mount: dict[str, Any], ro_volumes: set[str]) -> bool:
    return mount.get("readOnly") is True or mount.get("name") in ro_volumes


def gcs_fuse_buckets(spec: dict[str, Any]) -> dict[str, str]:
    """volume name -> bucket of the pod's GCS Fuse CSI volumes."""
    out = {}
    for v in map(as_dict, as_list(spec.get("volumes"))):
        csi = as_dict(v.get("csi"))
        bucket = as_str(as_dict(csi.get("volumeAttributes")).get("bucketName"))
        if csi.get("driver") == GCS_FUSE_DRIVER and bucket and isinstance(v.get("name"), str):
            out[v["name"]] = bucket
    return out


def gcs_fuse_volumes(spec: dict[str, Any]) -> list[tuple[str, bool]]:
    """(bucket, written) of each GCS Fuse CSI volume of a pod spec: written when the volume
    is not read-only and a container mounts it read-write."""
    ro_volumes = read_only_volumes(spec)
    mounts = [
        as_dict(m) for c in as_list(spec.get("containers")) for m in as_list(as_dict(c).get("volumeMounts"))
    ]
    return [
        (
            bucket,
            name not in ro_volumes
            and any(m.get("name") == name and m.get("readOnly") is not True for m in mounts),
        )
        for name, bucket in gcs_fuse_buckets(spec).items()
    ]


@functools.lru_cache(maxsize=16384)
def load_serve_config(text: str) -> Any:
    """A serveConfigV2 string parsed (libyaml when available), shared by every reader of
    the same text: the operational checks, the README's prerequisites and the Ray
    validation each read a RayService's serve config, and parsing it once for all of them
    is what keeps those checks cheap. Raises yaml.YAMLError. The result is shared:
    callers must not modify it."""
    try:
        return blockread.load(text)  # gen's own configs: the block YAML it reads fastest
    except blockread.Unsupported:
        pass
    if getattr(yaml, "CSafeLoader", None) is not None:
        try:
            return fastyaml.load(text)  # libyaml, plain configs built directly
        except yaml.YAMLError:
            pass  # the pure-Python parser's message (what this always reported)
    return yaml.safe_load(text)


def llm_configs(service: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The LLM configs of a RayService's serve config (shared with other readers of the
    same text: read them, never modify them)."""
    text = as_dict(service.get("spec")).get("serveConfigV2")
    try:
        config = load_serve_config(text) if isinstance(text, str) else None
    except yaml.YAMLError:
        return []  # reported by the serve-config check
    out = []
    for app in as_list(as_dict(config).get("applications")):
        app = as_dict(app)
        if app.get("import_path") in LLM_BUILDERS:
            out += [as_dict(c) for c in as_list(as_dict(app.get("args")).get("llm_configs"))]
    return out
