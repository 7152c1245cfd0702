"""metadata checks the API server applies to every object, whatever its schema.

CRD schemas only say ``metadata: {type: object}``; the server validates ObjectMeta
itself. ``OBJECT_META`` is that structure (strict), embedded by the compiler into every
compiled custom-resource schema; ``check_metadata`` adds the name/label/annotation
syntax rules (k8s.io/apimachinery/pkg/util/validation) that no JSON schema carries.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

_STR = {"type": "string"}
_STR_MAP = {"type": "object", "additionalProperties": {"type": "string"}}

OBJECT_META: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "name": _STR,
        "generateName": _STR,
        "namespace": _STR,
        "labels": _STR_MAP,
        "annotations": _STR_MAP,
        "finalizers": {"type": "array", "items": _STR},
        "ownerReferences": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["apiVersion", "kind", "name", "uid"],
                "properties": {
                    "apiVersion": _STR,
                    "kind": _STR,
                    "name": _STR,
                    "uid": _STR,
                    "controller": {"type": "boolean"},
                    "blockOwnerDeletion": {"type": "boolean"},
                },
            },
        },
        # Server-populated; tolerated because `kubectl get -o yaml` output carries them.
        "uid": _STR,
        "resourceVersion": _STR,
        "generation": {"type": "integer"},
        "creationTimestamp": {"type": ["string", "null"]},
        "deletionTimestamp": {"type": ["string", "null"]},
        "deletionGracePeriodSeconds": {"type": "integer"},
        "selfLink": _STR,
        "managedFields": {"type": "array", "items": {"type": "object"}},
    },
}

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_ANNOTATIONS_MAX_BYTES = 256 * 1024


def _dns1123_subdomain(v: str) -> str | None:
    if len(v) > 253:
        return "must be no more than 253 characters"
    if not _DNS1123_SUBDOMAIN.match(v):
        return (
            "must be a lowercase RFC 1123 subdomain (lowercase alphanumerics, '-' or '.', "
            "starting and ending with an alphanumeric)"
        )
    return None


def _dns1123_label(v: str) -> str | None:
    if len(v) > 63:
        return "must be no more than 63 characters"
    if not _DNS1123_LABEL.match(v):
        return (
            "must be a lowercase RFC 1123 label (lowercase alphanumerics or '-', "
            "starting and ending with an alphanumeric)"
        )
    return None


def _dns1035_label(v: str) -> str | None:
    if len(v) > 63:
        return "must be no more than 63 characters"
    if not _DNS1035_LABEL.match(v):
        return (
            "must be a lowercase RFC 1035 label (lowercase alphanumerics or '-', "
            "starting with a letter and ending with an alphanumeric)"
        )
    return None


def _path_segment(v: str) -> str | None:
    if v in (".", ".."):
        return f"may not be '{v}'"
    if "/" in v or "%" in v:
        return "may not contain '/' or '%'"
    return None


NAME_RULES = {
    "dns1123-subdomain": _dns1123_subdomain,
    "dns1123-label": _dns1123_label,
    "dns1035-label": _dns1035_label,
    "path-segment": _path_segment,
}


@functools.lru_cache(maxsize=4096)  # label and annotation keys repeat on every resource of a fleet
def _qualified_name(key: str) -> str | None:
    prefix, _, name = key.rpartition("/")
    if "/" in key and not prefix:
        return "prefix part must be non-empty"
    if prefix:
        err = _dns1123_subdomain(prefix)
        if err:
            return f"prefix part {err}"
    if len(name) > 63:
        return "name part must be no more than 63 characters"
    if not _QUALIFIED_NAME.match(name):
        return (
            "name part must consist of alphanumerics, '-', '_' or '.', starting and "
            "ending with an alphanumeric"
        )
    return None


def check_metadata(
    meta: Any, name_rule: str, name_max_length: int | None
) -> Iterator[tuple[list[str | int], str]]:
    """Yield (path, message) for syntax the API server (or the operator) would reject."""
    if not isinstance(meta, dict):
        return  # the schema reports the wrong type
    name = meta.get("name")
    generate = meta.get("generateName")
    if (not isinstance(name, str) or not name) and isinstance(generate, str) and generate:
        # The server appends five random characters to generateName and checks the result.
        err = NAME_RULES[name_rule](generate + "x0x0x")
        if err:
            yield ["metadata", "generateName"], f"invalid generateName {generate!r}: {err}"
    elif not isinstance(name, str) or not name:
        yield ["metadata", "name"], "required field is missing"
    else:
        err = NAME_RULES[name_rule](name)
        if not err and name_max_length is not None and len(name) > name_max_length:
            err = f"must be no more than {name_max_length} characters"
        if err:
            yield ["metadata", "name"], f"invalid name {name!r}: {err}"
    ns = meta.get("namespace")
    if isinstance(ns, str):
        err = _dns1123_label(ns)
        if err:
            yield ["metadata", "namespace"], f"invalid namespace {ns!r}: {err}"
    labels = meta.get("labels")
    if isinstance(labels, dict):
        for key, value in labels.items():
            err = _qualified_name(key)
            if err:
                yield ["metadata", "labels", key], f"invalid label key: {err}"
            if isinstance(value, str) and (len(value) > 63 or not _LABEL_VALUE.match(value)):
                yield (
                    ["metadata", "labels", key],
                    f"invalid label value {value!r}: must be no more than 63 characters of "
                    "alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric",
                )
    annotations = meta.get("annotations")
    if isinstance(annotations, dict):
        size = 0
        for key, value in annotations.items():
            err = _qualified_name(key)
            if err:
                yield ["metadata", "annotations", key], f"invalid annotation key: {err}"
            size += len(key.encode()) + (len(value.encode()) if isinstance(value, str) else 0)
        if size > _ANNOTATIONS_MAX_BYTES:
            yield (
                ["metadata", "annotations"],
                f"annotations total {size} bytes, more than the limit of {_ANNOTATIONS_MAX_BYTES}",
            )
