"""Operational rules about starting a model server: its weights and its writable paths."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ... import catalog, gcs
from ...diagnostics import Problem, format_path
from ...objects import (
    Path,
    as_dict,
    as_list,
    as_str,
    gcs_fuse_buckets,
    llm_configs,
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
    return {bucket for bucket, _, _, _ in _bucket_mounts(spec, key, writable=writable)}


def _bucket_mounts(
    spec: dict[str, Any], key: str, *, writable: bool
) -> Iterator[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """(bucket, the object prefix its mount root shows, container, volumeMount) of each GCS
    Fuse mount of the containers under ``key`` (read-write ones only when ``writable``)."""
    buckets, ro_volumes = gcs_fuse_buckets(spec), read_only_volumes(spec)
    roots = _mount_roots(spec)
    for c in map(as_dict, as_list(spec.get(key))):
        for m in map(as_dict, as_list(c.get("volumeMounts"))):
            name = str(m.get("name"))
            if name in buckets and not (writable and mounted_read_only(m, ro_volumes)):
                yield buckets[name], roots.get(name, ""), c, m


def _mount_roots(spec: dict[str, Any]) -> dict[str, str]:
    """volume name -> the bucket prefix its mount shows: GCS Fuse's only-dir mount option
    (Cloud Storage FUSE CLI options, --only-dir), else the whole bucket ("")."""
    out = {}
    for v in map(as_dict, as_list(spec.get("volumes"))):
        options = as_str(as_dict(as_dict(v.get("csi")).get("volumeAttributes")).get("mountOptions")) or ""
        for option in options.split(","):
            key, _, value = option.strip().partition("=")
            if key == "only-dir" and value.strip("/"):
                out[str(v.get("name"))] = value.strip("/")
    return out


def _prefixes(paths: list[str], root: str, mount: dict[str, Any]) -> list[str]:
    """The bucket prefixes of the ``paths`` inside ``mount`` (whose root shows ``root``);
    [root] when none is: then all the mount shows counts."""
    where = mount.get("mountPath")
    inside = [p for p in paths if isinstance(where, str) and _under(p, where)]
    if not inside:
        return [root]
    cut = len(str(where).rstrip("/"))
    return ["/".join(part for part in (root, p[cut:].strip("/")) if part) for p in inside]


def _writes(spec: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(bucket, prefix) a Job's pod writes: the directory a container names in a
    destination variable (catalog download.destinationEnv), else all its mount shows."""
    names = set(catalog.operations()["download"]["destinationEnv"])
    for bucket, root, c, m in _bucket_mounts(spec, "containers", writable=True):
        named = [
            value
            for env in map(as_dict, as_list(c.get("env")))
            if env.get("name") in names and (value := as_str(env.get("value")))
        ]
        yield from ((bucket, p) for p in _prefixes(named, root, m))


def _reads(obj: Mapping[str, Any], spec: dict[str, Any]) -> dict[str, list[str]]:
    """bucket -> prefixes a Ray pod reads weights from: the Ray Serve LLM model sources
    inside its mounts, else all a mount shows."""
    sources = [
        source
        for llm in llm_configs(obj)
        if (source := as_str(as_dict(llm.get("model_loading_config")).get("model_source")))
    ]
    out: dict[str, list[str]] = {}
    for bucket, root, _, m in _bucket_mounts(spec, "containers", writable=False):
        out.setdefault(bucket, []).extend(_prefixes(sources, root, m))
    return out


def weights_ready_before_serving(ix: ScopeIndex, ctx: Context) -> list[tuple[int, Problem]]:
    """A Job that writes where in a bucket the model servers read from races them:
    without an init container that waits for the Job's result, vLLM starts on partial
    weights. Two prefixes of one bucket (one model's download beside another model's
    weights) do not race."""
    writers: dict[str, list[tuple[str, str]]] = {}  # bucket -> (prefix, Job name)
    for obj in map(ix.objs.__getitem__, ix.named("Job")):
        for _, tpl, _, _ in pod_templates(obj):
            for bucket, prefix in _writes(as_dict(tpl.get("spec"))):
                writers.setdefault(bucket, []).append((prefix, name_of(obj)))
    out = []
    for i in ix.named("RayService", "RayCluster"):
        obj = ix.objs[i]
        for path, tpl, node, _ in pod_templates(obj):
            if node != "worker":
                continue
            spec = as_dict(tpl.get("spec"))
            waits = _mounted_buckets(spec, "initContainers", writable=False)
            for bucket, prefixes in sorted(_reads(obj, spec).items()):
                if bucket in waits:
                    continue
                job = next(
                    (j for w, j in writers.get(bucket, []) for p in prefixes if gcs.prefixes_overlap(w, p)),
                    None,
                )
                if job is not None:
                    out.append((i, _race(obj, path, bucket, job)))
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
