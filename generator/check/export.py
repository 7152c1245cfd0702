"""`gen schemas export DIR`: the pinned strict schemas in kubeconform's file layout.

    kubeconform -strict \\
        -schema-location 'DIR/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json' ...

kubeconform fills ``.Group`` with the part of apiVersion before the slash ("v1" for
core kinds), ``.ResourceKind`` with the lower-cased kind, so every pinned kind has one
file: custom resources from ``schemas/upstream/compiled/``, built-in kinds from
kubernetes-validate for the chosen Kubernetes version (strict, like ours).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import core_kinds
from .paths import upstream_dir
from .schema_index import load_index

SCHEMA_LOCATION = "{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json"
_DRAFT = "https://json-schema.org/draft/2020-12/schema"


def layout_path(api_version: str, kind: str) -> str:
    """Where kubeconform looks for (apiVersion, kind) under the exported directory."""
    group, _, version = api_version.rpartition("/")
    return f"{group or version}/{kind.lower()}_{version}.json"


def exported_schemas(kube_version: str) -> dict[str, dict[str, Any]]:
    """layout path -> schema for every pinned kind the Kubernetes version has."""
    kube_minor = core_kinds.minor(kube_version)
    out: dict[str, dict[str, Any]] = {}
    for (api_version, kind), entry in sorted(load_index().entries.items()):
        if entry.format == "kubernetes-validate":
            schema = core_kinds.bundled_schema(api_version, kind, kube_minor)
            if schema is None:  # e.g. resource.k8s.io/v1 before Kubernetes 1.34
                continue
            schema = {"$schema": _DRAFT, **schema}
        else:
            with open(upstream_dir() / "compiled" / entry.compiled_name, encoding="utf-8") as f:
                schema = json.load(f)["schema"]
        out[layout_path(api_version, kind)] = schema
    return out


def export_schemas(out_dir: Path, kube_version: str) -> list[str]:
    """Write the schemas under ``out_dir``; returns the relative paths written.
    Other files in ``out_dir`` are left alone."""
    written = []
    for rel, schema in exported_schemas(kube_version).items():
        target = out_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(schema, sort_keys=True, indent=1) + "\n", encoding="utf-8")
        written.append(rel)
    return written
