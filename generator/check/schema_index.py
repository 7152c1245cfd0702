"""Read schemas/upstream/index.yaml: the table of apiVersion/kind -> pinned schema."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .metadata import NAME_RULES
from .paths import upstream_dir

FORMATS = ("crd", "jsonschema", "kubernetes-validate")


@dataclass(frozen=True)
class Entry:
    api_version: str
    kind: str
    format: str
    source: str | None = None
    overlays: tuple[str, ...] = ()
    name_rule: str = "dns1123-subdomain"
    name_max_length: int | None = None

    @property
    def compiled_name(self) -> str:
        """File under compiled/, e.g. ``gateway.networking.k8s.io_v1_HTTPRoute.json``."""
        return f"{self.api_version.replace('/', '_')}_{self.kind}.json"

    @property
    def version(self) -> str:
        return self.api_version.rpartition("/")[2]


@dataclass(frozen=True)
class Index:
    entries: dict[tuple[str, str], Entry]


def _parse(raw: dict[str, Any]) -> Index:
    entries: dict[tuple[str, str], Entry] = {}
    for item in raw["resources"]:
        entry = Entry(
            api_version=item["apiVersion"],
            kind=item["kind"],
            format=item["format"],
            source=item.get("source"),
            overlays=tuple(item.get("overlays", ())),
            name_rule=item.get("name_rule", "dns1123-subdomain"),
            name_max_length=item.get("name_max_length"),
        )
        if entry.format not in FORMATS:
            raise ValueError(f"index.yaml: {entry.api_version} {entry.kind}: unknown format {entry.format!r}")
        if entry.name_rule not in NAME_RULES:
            raise ValueError(
                f"index.yaml: {entry.api_version} {entry.kind}: unknown name_rule {entry.name_rule!r}"
            )
        if (entry.format == "kubernetes-validate") != (entry.source is None):
            raise ValueError(
                f"index.yaml: {entry.api_version} {entry.kind}: `source` is required "
                "exactly for crd/jsonschema entries"
            )
        key = (entry.api_version, entry.kind)
        if key in entries:
            raise ValueError(f"index.yaml: {entry.api_version} {entry.kind} listed twice")
        entries[key] = entry
    return Index(entries=entries)


def load_index(root: Path | None = None) -> Index:
    if root is None:
        return _default_index()
    with open(root / "index.yaml", encoding="utf-8") as f:
        return _parse(yaml.safe_load(f))


@functools.lru_cache(maxsize=1)
def _default_index() -> Index:
    return load_index(upstream_dir())
