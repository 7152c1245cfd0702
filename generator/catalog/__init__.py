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


def accelerator_types() -> list[str]:
    return sorted([*gpus(), *tpus()])


def tpu_topology(tpu_type: str, topology: str) -> dict[str, Any] | None:
    for entry in tpus()[tpu_type]["topologies"]:
        if entry["topology"] == topology:
            return dict(entry)
    return None


def releases() -> dict[str, Any]:
    return _table("releases")


def gateway_classes() -> dict[str, Any]:
    classes: dict[str, Any] = releases()["gatewayClasses"]
    return classes
