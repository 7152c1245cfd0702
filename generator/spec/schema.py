"""JSON Schema validation of a loaded spec, with errors mapped to file positions."""

from __future__ import annotations

import copy
import difflib
import json
import marshal
import re
from functools import lru_cache
from typing import Any

from ..bundled import spec_schema_path
from ..diagnostics import CLIP, Issue, SpecPath, clip, plural
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
    if raw is not None and not isinstance(value, str) and value is not None and len(raw) <= CLIP:
        return f'; YAML read {raw!r} as {_describe(value)}, quote it: "{raw}"'
    return ""


_DNS_LABEL = "lowercase letters, digits and '-', starting and ending with a letter or digit"
_MODEL_ID = "letters, digits and . _ : / @ + -, not starting with a symbol other than '/'"
_HF = "hf://ORG/MODEL, a Hugging Face repository"

# What a value of each pattern of the spec schema looks like, in words, and an example.
# A pattern missing here is explained by its field's description and `examples`, never by
# the regex itself; tests/test_messages.py asks for an entry for every pattern of the schema.
PATTERN_WORDS: dict[str, tuple[str, str]] = {
    "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$": (f"a DNS label: {_DNS_LABEL}", "serving-1"),
    "^[a-z]([-a-z0-9]*[a-z0-9])?$": (
        "a DNS-1035 label: lowercase letters, digits and '-', starting with a letter and "
        "ending with a letter or digit",
        "gemma-2b-it",
    ),
    "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$": (
        f"a DNS subdomain: dot-separated parts of {_DNS_LABEL}",
        "hf-token",
    ),
    "^[a-z][a-z0-9-]{4,28}[a-z0-9]$": (
        "a Google Cloud project ID: 6 to 30 lowercase letters, digits and '-', starting "
        "with a letter and not ending with '-'",
        "my-project",
    ),
    "^[A-Za-z0-9-]+$": ("an HTTP header name: letters, digits and '-'", "X-Gateway-Model-Name"),
    "^/": ("a path starting with '/'", "/-/healthz"),
    "^[0-9]{1,3}(\\.[0-9]{1,3}){3}/[0-9]{1,2}$": ("an IPv4 CIDR range ADDRESS/PREFIX", "10.129.0.0/23"),
    "^[a-z]+-[a-z]+[0-9]+$": ("a Google Cloud region", "us-central1"),
    "^[a-z0-9][a-z0-9._/:@-]*$": (
        "a container image reference: lowercase registry/repository, then :TAG or @DIGEST",
        "rayproject/ray-llm:2.54.0-py311-cu128",
    ),
    "^[0-9]+\\.[0-9]+\\.[0-9]+$": ("a Ray version MAJOR.MINOR.PATCH, quoted", '"2.54.0"'),
    "^[0-9]+(\\.[0-9]+)?m?$": ("a CPU quantity: cores, or millicores with 'm'", '"500m"'),
    "^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$": (
        "a byte quantity: a number with an optional unit Ki, Mi, Gi, Ti (or k, M, G, T)",
        '"24Gi"',
    ),
    "^[-._a-zA-Z0-9]+$": ("a Secret key: letters, digits, '-', '_' and '.'", "hf_api_token"),
    "^[0-9]+x[0-9]+(x[0-9]+)?$": ("a TPU topology AxB or AxBxC", '"4x4"'),
    "^[A-Za-z0-9/][A-Za-z0-9._:/@+-]*$": (f"a model id: {_MODEL_ID}", "google/gemma-2b-it"),
    "^(hf://[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9._-]+"
    "|gs://[a-z0-9][a-z0-9._-]{1,220}[a-z0-9](/[^\\s]*)?)$": (
        f"{_HF}, or gs://BUCKET/PATH, a Cloud Storage path",
        "hf://google/gemma-2b-it",
    ),
    "^/[A-Za-z0-9/._~%!?$&'()*+,;=:-]*$": (
        "an absolute URL path of ASCII letters, digits and URL punctuation, no spaces "
        "(GKE HealthCheckPolicy requestPath, at most 2,048 characters)",
        "/-/healthz",
    ),
    "^(/|(/[a-z0-9][a-z0-9._-]*)+/?)$": (
        "a path prefix: '/' or '/'-separated parts of lowercase letters, digits, '.', '_' and '-'",
        "/gemma-2b-it",
    ),
    "^(/[^/\\s]+)+/?$": ("an absolute path other than '/', without spaces", "/data"),
    "^(gs|s3)://[a-z0-9][a-z0-9._-]{1,221}[a-z0-9](/[^\\s]*)?$": (
        "a bucket prefix gs://BUCKET/PATH or s3://BUCKET/PATH",
        "gs://my-bucket/adapters",
    ),
    "^(/[a-z0-9][a-z0-9._-]*)*/?$": (
        "a path prefix: '/'-separated parts of lowercase letters, digits, '.', '_' and '-'",
        "/gemma-2b-it",
    ),
    "^[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z][a-z0-9-]{4,28}[a-z0-9]\\.iam\\.gserviceaccount\\.com$": (
        "a Google service account e-mail NAME@PROJECT.iam.gserviceaccount.com",
        "ray-serve@my-project.iam.gserviceaccount.com",
    ),
    "^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$": (
        "a Cloud Storage bucket name: 3 to 222 lowercase letters, digits, '.', '_' and '-', "
        "starting and ending with a letter or digit",
        "my-bucket",
    ),
    "^/[^\\s]*$": ("an absolute path without spaces", "/gcs"),
    "^hf://[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9._-]+$": (_HF, "hf://google/gemma-4-31b-it"),
    "^[A-Za-z_][A-Za-z0-9_]*$": (
        "an environment variable name: letters, digits and '_', not starting with a digit",
        "VLLM_LOGGING_LEVEL",
    ),
}

_SENTENCE_END = re.compile(r"(?<!\be\.g)(?<!\bi\.e)\.(?=\s+[A-Z`]|\s*$)")


def _first_sentence(text: str) -> str:
    """The first sentence of a description, never cut inside a word or a version."""
    text = " ".join(text.split())
    match = _SENTENCE_END.search(text)
    first = text[: match.start()] if match else text.rstrip(".")
    if first[:2] in ("A ", "An") and first.split(" ", 1)[0] in ("A", "An"):
        first = first[0].lower() + first[1:]  # "A DNS-1123 label" -> "a DNS-1123 label"
    return first


def _expected(schema_path: list[Any], sub: dict[str, Any], pattern: str) -> str:
    """``expected <words>, e.g. <example>`` for a value that does not match ``pattern``."""
    if pattern in PATTERN_WORDS:
        words, example = PATTERN_WORDS[pattern]
        own = sub.get("examples") or []  # the field's own example, when the schema gives one
        if own and isinstance(own[0], str) and re.search(pattern, own[0]):
            example = own[0]
        return f"expected {words}, e.g. {example}"
    description = sub.get("description", "")
    path = list(schema_path)
    while not description and path:  # e.g. the items of a described list
        path.pop()
        node = _subschema(path)
        description = node.get("description", "") if isinstance(node, dict) else ""
    what = _first_sentence(description) if description else "a value of this field's format"
    examples = sub.get("examples") or ([sub["default"]] if isinstance(sub.get("default"), str) else [])
    return f"expected {what}" + (f", e.g. {examples[0]}" if examples else "") + " (docs/spec.md)"


def _message(doc: Document, error: Any, path: SpecPath) -> list[tuple[SpecPath, str, bool, str]]:
    """Turn one validator error into (path, message, at_key, kind) tuples."""
    kind = error.kind.name
    schema_path = list(error.schema_path)[:-1]
    sub = _subschema(schema_path)
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
            out.append((path + (key,), f"unknown field {clip(key)}{hint}", True, kind))
        return out
    if kind == "required":
        return [(path, f"missing required field {error.kind.property!r}", True, kind)]
    if kind == "type":
        types = error.kind.types if isinstance(error.kind.types, list) else [error.kind.types]
        want = " or ".join(_TYPE_NAMES.get(str(t), str(t)) for t in types)
        return [(path, f"expected {want}, got {_describe(value)}{_yaml_hint(doc, path, value)}", False, kind)]
    if kind == "enum":
        options = sub.get("enum", [])
        close = difflib.get_close_matches(str(value), [str(o) for o in options], n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        shown = ", ".join(str(o) for o in options)
        msg = f"{clip(value)} is not one of: {shown}{hint}{_yaml_hint(doc, path, value)}"
        return [(path, msg, False, kind)]
    if kind in ("const", "constant"):
        return [(path, f"must be {sub.get('const')!r}, got {clip(value)}", False, kind)]
    if kind == "pattern":
        expected = _expected(schema_path, sub, str(error.kind.pattern))
        return [(path, f"{clip(value)} is not valid: {expected}", False, kind)]
    if kind == "propertyNames":
        inner = error.kind.error
        key = inner.instance
        pattern = getattr(inner.kind, "pattern", None)
        names = _subschema([*list(error.schema_path)[:-1]])
        if pattern is not None:
            expected = _expected(list(error.schema_path), names, str(pattern))
            return [(path + (key,), f"{clip(key)} is not a valid name: {expected}", True, kind)]
        return [(path + (key,), f"{clip(key)} is not a valid name", True, kind)]
    if kind == "minLength":
        if value == "":
            return [(path, "must not be empty", False, kind)]
        return [
            (
                path,
                f"{clip(value)} is too short: at least {plural(error.kind.limit, 'character')}",
                False,
                kind,
            )
        ]
    if kind == "maxLength":
        return [
            (path, f"{clip(value)} is too long: at most {plural(error.kind.limit, 'character')}", False, kind)
        ]
    if kind in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        relation = {
            "minimum": "at least",
            "exclusiveMinimum": "greater than",
            "maximum": "at most",
            "exclusiveMaximum": "less than",
        }[kind]
        return [(path, f"must be {relation} {error.kind.limit}, got {clip(value)}", False, kind)]
    if kind == "minItems":
        return [(path, f"needs at least {plural(error.kind.limit, 'item')}, got {len(value)}", False, kind)]
    if kind == "maxItems":
        return [(path, f"takes at most {plural(error.kind.limit, 'item')}, got {len(value)}", False, kind)]
    if kind == "uniqueItems":
        seen: list[Any] = []
        twice = next((v for v in value if v in seen or seen.append(v)), None)  # type: ignore[func-returns-value]
        return [(path, f"lists {clip(twice)} more than once", False, kind)]
    message = str(error.message)
    if len(message) > 4 * CLIP:
        message = message[: 4 * CLIP] + "…"
    return [(path, message, False, kind)]


_LENGTH = ("minLength", "maxLength")


def _merged(doc: Document, errors: list[Any]) -> list[tuple[SpecPath, str, bool]]:
    """The messages of all errors, one per value for its length and its pattern: an
    empty id is one error ("must not be empty: expected ..."), not two."""
    found = [m for error in errors for m in _message(doc, error, tuple(error.instance_path))]
    expected = {
        p: _pattern_expected(errors, p) for p, _, at_key, kind in found if kind == "pattern" and not at_key
    }
    length_at = {p for p, _, at_key, kind in found if kind in _LENGTH and not at_key}
    out: list[tuple[SpecPath, str, bool]] = []
    for p, message, at_key, kind in found:
        if not at_key and kind == "pattern" and p in length_at:
            continue
        if not at_key and kind in _LENGTH and p in expected:
            message += (": " if message == "must not be empty" else "; ") + expected[p]
        out.append((p, message, at_key))
    return out


def _pattern_expected(errors: list[Any], path: SpecPath) -> str:
    error = next(e for e in errors if e.kind.name == "pattern" and tuple(e.instance_path) == path)
    schema_path = list(error.schema_path)[:-1]
    return _expected(schema_path, _subschema(schema_path), str(error.kind.pattern))


def schema_diagnostics(doc: Document) -> list[Issue]:
    errors = list(_validator().iter_errors(doc.data))
    return [doc.diag(p, message, key=at_key) for p, message, at_key in _merged(doc, errors)]


def apply_defaults(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``data`` with every schema ``default`` filled in (the single source
    of default values: editors, docs and the renderer all read them from the schema)."""
    root = spec_schema()
    resolved: dict[int, Any] = {}  # id(schema node) -> _resolve(root, node): each is asked per value

    def resolve(node: Any) -> Any:
        found = resolved.get(id(node))
        if found is None:
            found = resolved[id(node)] = _resolve(root, node)
        return found

    def walk(node: Any, value: Any) -> Any:
        node = resolve(node)
        if isinstance(value, dict) and isinstance(node, dict):
            props = node.get("properties", {})
            for key, sub in props.items():
                if key not in value:
                    sub_r = resolve(sub)
                    if isinstance(sub_r, dict) and "default" in sub_r:
                        value[key] = copy.deepcopy(sub_r["default"])
                if key in value:
                    value[key] = walk(sub, value[key])
        elif isinstance(value, list) and isinstance(node, dict) and "items" in node:
            return [walk(node["items"], item) for item in value]
        return value

    try:  # plain data (the loader builds nothing else): marshal copies it ~5x faster
        copied = marshal.loads(marshal.dumps(data))
    except ValueError:
        copied = copy.deepcopy(data)
    defaulted: dict[str, Any] = walk(root, copied)
    return defaulted
