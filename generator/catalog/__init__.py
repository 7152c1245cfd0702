"""Accelerator and upstream-release facts, loaded from the YAML tables beside this file."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

_HERE = Path(__file__).parent
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def _table(name: str) -> dict[str, Any]:
    with open(_HERE / f"{name}.yaml", encoding="utf-8") as fh:
        data: dict[str, Any] = yaml.load(fh, Loader=_Loader)
    return data


def gpus() -> dict[str, Any]:
    table: dict[str, Any] = _table("accelerators")["gpus"]
    return table


def tpus() -> dict[str, Any]:
    table: dict[str, Any] = _table("accelerators")["tpus"]
    return table


def accelerators() -> dict[str, Any]:
    """The whole accelerator table (GPU/TPU entries and shared TPU settings)."""
    return _table("accelerators")


def accelerator_resource(family: str) -> str:
    """The extended resource name a container requests a family's accelerators by."""
    name: str = accelerators()["resourceNames"][family]
    return name


def accelerator_types() -> list[str]:
    return sorted([*gpus(), *tpus()])


def tpu_topology(tpu_type: str, topology: str) -> dict[str, Any] | None:
    for entry in tpus()[tpu_type]["topologies"]:
        if entry["topology"] == topology:
            return dict(entry)
    return None


def releases() -> dict[str, Any]:
    return _table("releases")


def api_versions() -> dict[str, str]:
    """Kind -> apiVersion of every kind gen emits (releases.yaml `apiVersions`)."""
    table: dict[str, str] = releases()["apiVersions"]
    return table


def api_version(kind: str) -> str:
    return api_versions()[kind]


def api_group(kind: str) -> str:
    """The API group of a kind gen emits ("" for the core group)."""
    version = api_version(kind)
    return version.rsplit("/", 1)[0] if "/" in version else ""


def node_labels() -> dict[str, str]:
    """Name -> node label key of the labels a worker selects (nodes.yaml `nodeLabels`)."""
    table: dict[str, str] = nodes()["nodeLabels"]
    return table


def keys() -> dict[str, Any]:
    """Annotation keys and driver names the charts write and the checks read (keys.yaml)."""
    return _table("keys")


def gateway_classes() -> dict[str, Any]:
    classes: dict[str, Any] = releases()["gatewayClasses"]
    return classes


def operations() -> dict[str, Any]:
    """Operational facts: backend timeouts, node shapes, image capabilities, prerequisites."""
    return _table("operations")


def nodes() -> dict[str, Any]:
    """GKE machine types and node reservations (nodes.yaml)."""
    return _table("nodes")


def prerequisites() -> dict[str, Any]:
    """Cluster prerequisites per feature the output uses (prerequisites.yaml)."""
    return _table("prerequisites")


def image_repository(image: str) -> str:
    """An image reference without its tag or digest."""
    repository = image.split("@", 1)[0]
    if ":" in repository.rsplit("/", 1)[-1]:
        repository = repository.rsplit(":", 1)[0]
    return repository


def image_has_haproxy(image: str) -> bool:
    """Whether the catalog knows the image's repository to carry an haproxy binary."""
    return image_repository(image) in operations()["haproxy"]["imagesWithHaproxy"]
