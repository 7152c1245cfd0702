"""Turn a CRD's openAPIV3Schema (or a datree/hand-written JSON schema) into a STRICT
draft 2020-12 JSON schema plus the rules JSON schema cannot express.

Strict means what the API server does with ``fieldValidation=Strict``: a field the
schema does not declare is an error unless its object has
``x-kubernetes-preserve-unknown-fields: true``. Also mirrored from the server:
required fields that have a ``default`` are never missing (defaulting runs first);
``nullable`` allows null; int-or-string accepts both; ``format: int32/int64`` bound the
value. ``x-kubernetes-validations`` (CEL) and ``x-kubernetes-list-type: map`` key
uniqueness are returned separately; ``cel_rules.py`` evaluates them.

Rule paths use ``[*]`` for "every list item" and ``{*}`` for "every map value";
neither can be a Kubernetes field name.
"""

from __future__ import annotations

import copy
from typing import Any

from .metadata import OBJECT_META

ITEMS = "[*]"
VALUES = "{*}"

# Keywords kept as-is (value validations JSON schema understands like OpenAPI does).
_KEEP = (
    "enum",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "multipleOf",
    "default",
)
# Formats both the API server and jsonschema_rs check the same way; others are dropped
# (int32/int64 become bounds) because their JSON-schema meaning differs or is unknown.
_FORMATS = {"date-time", "date", "ipv4", "ipv6", "uuid"}
_INT_BOUNDS = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
_JUNCTORS = ("anyOf", "allOf", "oneOf")


class _Collector:
    def __init__(self) -> None:
        self.rules: list[dict[str, Any]] = []
        self.list_maps: list[dict[str, Any]] = []


def _convert(node: dict[str, Any], path: list[str], out: _Collector, *, junctor: bool) -> dict[str, Any]:
    """Convert one schema node. Inside anyOf/allOf/oneOf/not (``junctor``) nodes only
    add value checks, so they must not get ``type`` or ``additionalProperties: false``."""
    res: dict[str, Any] = {}
    preserve = node.get("x-kubernetes-preserve-unknown-fields") is True
    int_or_string = node.get("x-kubernetes-int-or-string") is True

    typ = node.get("type")
    if int_or_string:
        res["anyOf"] = [{"type": "integer"}, {"type": "string"}]
        res["x-kubernetes-int-or-string"] = True  # kept only to word the error message
    elif typ is not None:
        res["type"] = [typ, "null"] if node.get("nullable") is True and isinstance(typ, str) else typ
    for key in _KEEP:
        if key in node:
            res[key] = copy.deepcopy(node[key])
    if node.get("nullable") is True and "enum" in res and None not in res["enum"]:
        res["enum"].append(None)

    # OpenAPI 3.0 booleans -> JSON schema 2020-12 numbers.
    for flag, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if node.get(flag) is True and bound in res:
            res[flag] = res.pop(bound)
        elif isinstance(node.get(flag), (int, float)) and not isinstance(node.get(flag), bool):
            res[flag] = node[flag]

    fmt = node.get("format")
    if fmt in _INT_BOUNDS and (typ == "integer" or junctor):
        lo, hi = _INT_BOUNDS[fmt]
        res["minimum"] = max(res.get("minimum", lo), lo)
        res["maximum"] = min(res.get("maximum", hi), hi)
    elif fmt in _FORMATS:
        res["format"] = fmt

    props = node.get("properties")
    if props is not None:
        res["properties"] = {k: _convert(v, path + [k], out, junctor=junctor) for k, v in props.items()}
    if node.get("x-kubernetes-embedded-resource") is True and not junctor:
        res.setdefault("properties", {})
        res["properties"].setdefault("apiVersion", {"type": "string"})
        res["properties"].setdefault("kind", {"type": "string"})
        res["properties"].setdefault("metadata", {"$ref": "#/$defs/ObjectMeta"})
    if "required" in node:
        # The server defaults before it validates, so a defaulted field is never missing.
        required = [r for r in node["required"] if not (props and "default" in props.get(r, {}))]
        if required:
            res["required"] = required

    addl = node.get("additionalProperties")
    if isinstance(addl, dict):
        res["additionalProperties"] = _convert(addl, path + [VALUES], out, junctor=junctor)
    elif isinstance(addl, bool):
        res["additionalProperties"] = addl
    elif not junctor and not preserve and (typ == "object" or props is not None):
        res["additionalProperties"] = False

    if "items" in node and isinstance(node["items"], dict):
        res["items"] = _convert(node["items"], path + [ITEMS], out, junctor=junctor)

    for key in _JUNCTORS:
        if key in node:
            res[key] = res.get(key, []) + [_convert(b, path, out, junctor=True) for b in node[key]]
    if "not" in node:
        res["not"] = _convert(node["not"], path, out, junctor=True)

    if not junctor:
        for rule in node.get("x-kubernetes-validations", []):
            out.rules.append({"path": path, **{k: rule[k] for k in sorted(rule)}})
        if node.get("x-kubernetes-list-type") == "map" and node.get("x-kubernetes-list-map-keys"):
            out.list_maps.append({"path": path, "keys": list(node["x-kubernetes-list-map-keys"])})
        elif node.get("x-kubernetes-list-type") == "set":
            res["uniqueItems"] = True
    return res


def compile_schema(schema: dict[str, Any], api_version: str, kind: str) -> dict[str, Any]:
    """Return ``{"schema", "rules", "list_maps"}`` for one resource version's root schema."""
    out = _Collector()
    root = _convert(schema, [], out, junctor=False)
    props = root.setdefault("properties", {})
    props["apiVersion"] = {"type": "string", "const": api_version}
    props["kind"] = {"type": "string", "const": kind}
    props["metadata"] = {"$ref": "#/$defs/ObjectMeta"}
    root["type"] = "object"
    root["additionalProperties"] = False
    root["required"] = ["apiVersion", "kind", "metadata"] + [
        r for r in root.get("required", []) if r not in ("apiVersion", "kind", "metadata")
    ]
    root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    root["$defs"] = {"ObjectMeta": copy.deepcopy(OBJECT_META)}
    # metadata rules in a CRD see the real ObjectMeta; the compiled schema owns it now.
    rules = [r for r in out.rules if r["path"][:1] != ["metadata"]]
    return {"schema": root, "rules": rules, "list_maps": out.list_maps}


def crd_version_schema(crd: dict[str, Any], version: str) -> dict[str, Any]:
    for v in crd["spec"]["versions"]:
        if v["name"] == version:
            if not v.get("served", False):
                raise ValueError(f"{crd['metadata']['name']} version {version} is not served")
            schema: dict[str, Any] = v["schema"]["openAPIV3Schema"]
            return schema
    raise ValueError(f"{crd['metadata']['name']} has no version {version}")


def apply_overlay(schema: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """Add ``overlay["add"]`` properties at JSON pointer ``overlay["target"]`` (a
    ``properties`` map). Refuses to replace an existing property, so an upstream
    schema that gains the field makes the overlay fail loudly instead of masking it."""
    result = copy.deepcopy(schema)
    node: Any = result
    for token in overlay["target"].strip("/").split("/"):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    for key, value in overlay.get("add", {}).items():
        if key in node:
            raise ValueError(
                f"overlay adds {key!r} at {overlay['target']}, which upstream already has; drop the overlay"
            )
        node[key] = copy.deepcopy(value)
    # "extendEnum": {property: [values]} appends enum values upstream lacks (same rule:
    # a value upstream already has fails loudly).
    for key, values in overlay.get("extendEnum", {}).items():
        enum = node[key]["enum"]
        for value in values:
            if value in enum:
                raise ValueError(
                    f"overlay adds {value!r} to {key}.enum, which upstream already has; "
                    "drop it from the overlay"
                )
            enum.append(value)
    return result
