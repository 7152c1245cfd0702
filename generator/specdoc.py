"""Generate docs/spec.md, the spec reference, from schemas/models.schema.json.

Regenerate with: python -m generator.specdoc > docs/spec.md
"""

from __future__ import annotations

import json
from typing import Any

from .spec.schema import _resolve, spec_schema

COMMAND = "python -m generator.specdoc > docs/spec.md"


def _type(node: dict[str, Any]) -> str:
    if "const" in node:
        return f"`{json.dumps(node['const'])}`"
    if "enum" in node:
        return " \\| ".join(f"`{v}`" for v in node["enum"])
    t = node.get("type", "any")
    return " or ".join(t) if isinstance(t, list) else str(t)


def _rows(root: dict[str, Any], node: Any, prefix: str, required: set[str], out: list[str]) -> None:
    node = _resolve(root, node)
    for key, sub in node.get("properties", {}).items():
        sub = _resolve(root, sub)
        path = f"{prefix}.{key}" if prefix else key
        default = f"`{json.dumps(sub['default'])}`" if "default" in sub else ""
        req = "yes" if key in required else ""
        desc = " ".join(str(sub.get("description", "")).split()).replace("|", "\\|")
        out.append(f"| `{path}` | {_type(sub)} | {req} | {default} | {desc} |")
        if sub.get("type") == "object" and "properties" in sub:
            _rows(root, sub, path, set(sub.get("required", [])), out)
        items = sub.get("items")
        if sub.get("type") == "array" and isinstance(items, dict):
            items = _resolve(root, items)
            if "properties" in items:
                _rows(root, items, path + "[]", set(items.get("required", [])), out)


def render() -> str:
    root = spec_schema()
    lines = [
        f"<!-- Generated from schemas/models.schema.json; do not edit. Regenerate: {COMMAND} -->",
        "# models.yaml reference",
        "",
        root["description"],
        "",
        "| field | type | required | default | description |",
        "|---|---|---|---|---|",
    ]
    _rows(root, root, "", set(root.get("required", [])), lines)
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
