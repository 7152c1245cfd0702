"""Operational rules about starting a model server: its weights and its writable paths."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ... import catalog
from ...diagnostics import Problem, format_path
from ...objects import (
    Path,
    as_dict,
    as_list,
    as_str,
    gcs_fuse_buckets,
    mounted_read_only,
    name_of,
    pod_templates,
    read_only_volumes,
)
from ..scope_index import ScopeIndex

if TYPE_CHECKING:
    from . import Context


def _under(path: str, mount: str) -> bool:
    mount = mount.rstrip("/") or "/"
    return mount == "/" or path == mount or path.startswith(mount + "/")


def _containers(spec: dict[str, Any]) -> Iterator[tuple[str, int, dict[str, Any]]]:
    for key in ("initContainers", "containers"):
        for k, c in enumerate(as_list(spec.get(key))):
            yield key, k, as_dict(c)


def cache_dirs_writable(obj: dict[str, Any]) -> list[Problem]:
    """A cache directory (HF_HOME, ...) inside a read-only mount fails the first write."""
    cache_env = set(catalog.operations()["cacheEnv"])
    out = []
    for path, tpl, _, _ in pod_templates(obj):
        spec = as_dict(tpl.get("spec"))
        ro_volumes = read_only_volumes(spec)
        for key, k, c in _containers(spec):
            ro = [
                str(m.get("mountPath"))
                for m in map(as_dict, as_list(c.get("volumeMounts")))
                if isinstance(m.get("mountPath"), str) and mounted_read_only(m, ro_volumes)
            ]
            for j, env in enumerate(map(as_dict, as_list(c.get("env")))):
                value = as_str(env.get("value"))
                if env.get("name") not in cache_env or not value:
                    continue
                mount = next((m for m in ro if _under(value, m)), None)
                if mount:
                    out.append(
                        Problem(
                            str(obj.get("kind")),
                            name_of(obj),
                            format_path((*path, "spec", key, k, "env", j, "value")),
                            f"{env['name']}={value} is inside the read-only mount {mount}: the first "
                            f"write fails; point it at a writable path such as /tmp/{env['name'].lower()}",
                        )
                    )
    return out


def _mounted_buckets(spec: dict[str, Any], key: str, *, writable: bool) -> set[str]:
    buckets, ro_volumes = gcs_fuse_buckets(spec), read_only_volumes(spec)
    return {
        buckets[str(m.get("name"))]
        for c in map(as_dict, as_list(spec.get(key)))
        for m in map(as_dict, as_list(c.get("volumeMounts")))
        if m.get("name") in buckets and not (writable and mounted_read_only(m, ro_volumes))
    }


def weights_ready_before_serving(ix: ScopeIndex, ctx: Context) -> list[tuple[int, Problem]]:
    """A Job that writes to a bucket the model servers read from races them: without an
    init container that waits for the Job's result, vLLM starts on partial weights."""
    writers: dict[str, str] = {}  # bucket -> Job name
    for obj in map(ix.objs.__getitem__, ix.named("Job")):
        for _, tpl, _, _ in pod_templates(obj):
            for bucket in _mounted_buckets(as_dict(tpl.get("spec")), "containers", writable=True):
                writers.setdefault(bucket, name_of(obj))
    out = []
    for i in ix.named("RayService", "RayCluster"):
        obj = ix.objs[i]
        for path, tpl, node, _ in pod_templates(obj):
            spec = as_dict(tpl.get("spec"))
            waits = _mounted_buckets(spec, "initContainers", writable=False)
            for bucket in sorted(_mounted_buckets(spec, "containers", writable=False) - waits):
                if bucket in writers and node == "worker":
                    out.append((i, _race(obj, path, bucket, writers[bucket])))
    return out


def _race(obj: Mapping[str, Any], path: Path, bucket: str, job: str) -> Problem:
    return Problem(
        str(obj.get("kind")),
        name_of(obj),
        format_path((*path, "spec", "initContainers")),
        f'reads gs://{bucket} while Job "{job}" writes to it, and no init container waits for '
        "the Job to finish: vLLM would start on partial weights; add an init container that mounts "
        "the bucket and waits for a completion marker the Job writes last",
    )


def haproxy_needs_binary(obj: dict[str, Any]) -> list[Problem]:
    """RAY_SERVE_ENABLE_HA_PROXY=1 makes every Serve proxy start haproxy: an image
    without the binary fails every proxy, so nothing is served."""
    facts = catalog.operations()["haproxy"]
    asserted = (
        as_dict(as_dict(obj.get("metadata")).get("annotations")).get(facts["assertedAnnotation"]) == "true"
    )
    out = []
    for path, tpl, _, _ in pod_templates(obj):
        for key, k, c in _containers(as_dict(tpl.get("spec"))):
            image = as_str(c.get("image"))
            for j, env in enumerate(map(as_dict, as_list(c.get("env")))):
                if env.get("name") != facts["env"] or str(env.get("value")).lower() not in ("1", "true"):
                    continue
                if image is None or catalog.image_has_haproxy(image) or asserted:
                    continue
                out.append(
                    Problem(
                        str(obj.get("kind")),
                        name_of(obj),
                        format_path((*path, "spec", key, k, "env", j)),
                        f"{facts['env']}=1 needs an haproxy binary on every node running a Serve proxy, "
                        f"and image {image} is not known to carry one (gen knows "
                        f"{', '.join(facts['imagesWithHaproxy'])}): remove the variable (spec: haproxy: "
                        f"false) or, if the image has haproxy, say so (spec: haproxy: true, which "
                        f'annotates the {obj.get("kind")} {facts["assertedAnnotation"]}: "true")',
                    )
                )
    return out
