"""JSON Schema validation of a loaded spec, with errors mapped to file positions."""

from __future__ import annotations

import copy
import difflib
import json
from functools import lru_cache
from typing import Any

from ..diagnostics import Diagnostic, SpecPath
from ..resources import spec_schema_path
from .loader import Document

_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "object": "a mapping",
    "array": "a list",
    "null": "null",
}


@lru_cache(maxsize=1)
def spec_schema() -> dict[str, Any]:
    with open(spec_schema_path(), encoding="utf-8") as fh:
        schema: dict[str, Any] = json.load(fh)
    return schema


@lru_cache(maxsize=1)
def _validator() -> Any:
    import jsonschema_rs  # imported lazily: validate must start fast

    return jsonschema_rs.validator_for(spec_schema())


def _resolve(schema: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = schema
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _subschema(schema_path: list[Any]) -> Any:
    """Follow an error's schema path (through $refs) to the failing subschema."""
    root = spec_schema()
    node: Any = root
    for part in schema_path:
        node = _resolve(root, node)
        node = node[part] if isinstance(node, dict) else node[int(part)]
    return _resolve(root, node)


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if value is None:
        return "null"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "a string"


def _yaml_hint(doc: Document, path: SpecPath, value: Any) -> str:
    pos = doc.positions.get(path)
    raw = pos.raw if pos else None
    if raw is not None and not isinstance(value, str) and value is not None:
        return f'; YAML read {raw!r} as {_describe(value)}, quote it: "{raw}"'
    return ""


def _message(doc: Document, error: Any, path: SpecPath) -> list[tuple[SpecPath, str, bool]]:
    """Turn one validator error into (path, message, at_key) triples."""
    kind = error.kind.name
    sub = _subschema(list(error.schema_path)[:-1])
    value = error.instance
    if kind == "additionalProperties":
        known = sorted((sub.get("properties") or {}).keys())
        out = []
        for key in error.kind.unexpected:
            close = difflib.get_close_matches(key, known, n=1)
            hint = (
                f"; did you mean {close[0]!r}?"
                if close
                else (f"; known fields: {', '.join(known)}" if known else "")
            )
            out.append((path + (key,), f"unknown field {key!r}{hint}", True))
        return out
    if kind == "required":
        return [(path, f"missing required field {error.kind.property!r}", True)]
    if kind == "type":
        types = error.kind.types if isinstance(error.kind.types, list) else [error.kind.types]
        want = " or ".join(_TYPE_NAMES.get(str(t), str(t)) for t in types)
        return [(path, f"expected {want}, got {_describe(value)}{_yaml_hint(doc, path, value)}", False)]
    if kind == "enum":
        options = sub.get("enum", [])
        close = difflib.get_close_matches(str(value), [str(o) for o in options], n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        shown = ", ".join(str(o) for o in options)
        return [(path, f"{value!r} is not one of: {shown}{hint}{_yaml_hint(doc, path, value)}", False)]
    if kind in ("const", "constant"):
        return [(path, f"must be {sub.get('const')!r}, got {value!r}", False)]
    if kind == "pattern":
        what = sub.get("description", "").split(".")[0] or f"pattern {sub.get('pattern')}"
        if not what[1:2].isupper():  # "A DNS-1123 label" -> "a DNS-1123 label"; keep "CPU"
            what = what[0].lower() + what[1:]
        return [(path, f"{value!r} is not valid: expected {what}", False)]
    return [(path, error.message, False)]


def schema_diagnostics(doc: Document) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for error in _validator().iter_errors(doc.data):
        path: SpecPath = tuple(error.instance_path)
        for p, message, at_key in _message(doc, error, path):
            out.append(doc.diag(p, message, key=at_key))
    return out


def apply_defaults(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``data`` with every schema ``default`` filled in (the single source
    of default values: editors, docs and the renderer all read them from the schema)."""
    root = spec_schema()

    def walk(node: Any, value: Any) -> Any:
        node = _resolve(root, node)
        if isinstance(value, dict) and isinstance(node, dict):
            props = node.get("properties", {})
            for key, sub in props.items():
                sub_r = _resolve(root, sub)
                if key not in value and isinstance(sub_r, dict) and "default" in sub_r:
                    value[key] = copy.deepcopy(sub_r["default"])
                if key in value:
                    value[key] = walk(sub, value[key])
        elif isinstance(value, list) and isinstance(node, dict) and "items" in node:
            return [walk(node["items"], item) for item in value]
        return value

    defaulted: dict[str, Any] = walk(root, copy.deepcopy(data))
    return defaulted
