"""Rules a JSON schema cannot express: CEL ``x-kubernetes-validations`` and
``x-kubernetes-list-type: map`` key uniqueness.

CEL runs on cel-cpp, the engine the CEL project maintains beside cel-go (the API
server's), through its official Python wrapper ``cel-expr-python``; the strings
extension the pinned rules use (``split``) is cel-cpp's own; ``cel_k8s`` builds the
environment.

Mirrors the API server where it matters for a create: a rule runs on every node its
path reaches, after defaults are applied to that node; property names that are CEL
keywords or hold ``.-/`` are escaped (``namespace`` -> ``__namespace__``) while map
keys are not; numbers of ``type: number`` fields are doubles. A rule is never guessed
at: if it needs ``oldSelf`` (update-only) or does not compile (say, a function this
checker lacks), it is listed by ``unevaluated()``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from . import cel_k8s
from .crd_compile import ITEMS, VALUES

# Kubernetes escapes these property names (apiextensions-apiserver cel/common/escaping.go).
_CEL_KEYWORDS = {
    "true", "false", "null", "in", "as", "break", "const", "continue", "else", "for", "function",
    "if", "import", "let", "loop", "package", "namespace", "return", "var", "void", "while",
}  # fmt: skip
_MEMO_LIMIT = 100_000
_UNSET = object()


def escape_property(name: str) -> str:
    """Kubernetes CEL property-name escaping (apiextensions-apiserver, v1.2x+)."""
    escaped = _ESCAPED.get(name)
    if escaped is None:
        if name in _CEL_KEYWORDS:
            escaped = f"__{name}__"
        else:
            escaped = (
                name.replace("__", "__underscores__")
                .replace(".", "__dot__")
                .replace("-", "__dash__")
                .replace("/", "__slash__")
            )
        if len(_ESCAPED) < _MEMO_LIMIT:
            _ESCAPED[name] = escaped
    return escaped


_ESCAPED: dict[str, str] = {}


@dataclass(frozen=True)
class UnevaluatedRule:
    api_version: str
    kind: str
    path: str
    rule: str
    reason: str


def _display_path(path: list[str]) -> str:
    out = ""
    for seg in path:
        out += seg if seg in (ITEMS, VALUES) else (f".{seg}" if out else seg)
    return out or "<root>"


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        target: dict[str, Any] = root["$defs"][ref[len("#/$defs/") :]]
        return target
    return schema


def _child_schema(schema: dict[str, Any], seg: str, root: dict[str, Any]) -> dict[str, Any]:
    schema = _resolve(schema, root)
    child: dict[str, Any]
    if seg == ITEMS:
        child = schema.get("items", {})
        return child
    if seg == VALUES:
        addl = schema.get("additionalProperties")
        return addl if isinstance(addl, dict) else {}
    child = schema.get("properties", {}).get(seg, {})
    return child


def to_native(value: Any, schema: dict[str, Any], root: dict[str, Any]) -> Any:
    """``value`` as the API server hands it to CEL, in plain Python values: defaults
    filled in, property names escaped, schema numbers as float, map keys as they are."""
    schema = _resolve(schema, root)
    if isinstance(value, dict):
        props = schema.get("properties")
        addl = schema.get("additionalProperties")
        sub = addl if isinstance(addl, dict) else {}
        out: dict[str, Any] = {}
        if props is None:
            for k, v in value.items():
                out[k] = to_native(v, sub, root)
            return out
        for k, prop in props.items():
            if k not in value and "default" in prop:
                out[escape_property(k)] = to_native(prop["default"], prop, root)
        for k, v in value.items():
            out[escape_property(k)] = to_native(v, props.get(k, sub), root)
        return out
    if isinstance(value, list):
        items = schema.get("items", {})
        return [to_native(v, items, root) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        typ = schema.get("type")
        if typ == "number" or (isinstance(typ, list) and "number" in typ):
            return float(value)
    return value


class _Trie:
    """Rule paths merged into one tree, so a single walk of the object reaches every
    node any rule applies to (RayService has ~60 list-map paths through pod specs)."""

    __slots__ = ("children", "payload", "schema")

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self.children: dict[str, _Trie] = {}
        self.payload: list[Any] = []


def _build_trie(items: list[tuple[list[str], Any]], root: dict[str, Any]) -> _Trie:
    top = _Trie(root)
    for path, payload in items:
        node = top
        for seg in path:
            if seg not in node.children:
                node.children[seg] = _Trie(_resolve(_child_schema(node.schema, seg, root), root))
            node = node.children[seg]
        node.payload.append(payload)
    return top


def _walk(trie: _Trie, value: Any, at: list[str | int]) -> Iterator[tuple[list[str | int], Any, _Trie]]:
    """Yield (concrete path, value, trie node) for every reached node with a payload. A
    missing property that has a default is visited with that default, as the server
    would have filled it in."""
    if trie.payload:
        yield at, value, trie
    for seg, child in trie.children.items():
        if seg == ITEMS:
            if isinstance(value, list):
                for i, item in enumerate(value):
                    yield from _walk(child, item, at + [i])
        elif seg == VALUES:
            if isinstance(value, dict):
                for k, item in value.items():
                    yield from _walk(child, item, at + [k])
        elif isinstance(value, dict):
            sub = value.get(seg)
            if sub is not None:
                yield from _walk(child, sub, at + [seg])
            elif seg not in value and "default" in child.schema:
                yield from _walk(child, copy.deepcopy(child.schema["default"]), at + [seg])


def _walk_native(
    trie: _Trie, value: Any, native: Any, at: list[str | int], root: dict[str, Any]
) -> Iterator[tuple[list[str | int], Any, Any, _Trie]]:
    """``_walk`` that also yields each node's ``to_native`` value, converting once at the
    first node of a branch and then taking children out of their parent's conversion
    wherever ``to_native`` gave the child the schema the trie has for it."""
    if trie.payload:
        if native is _UNSET:
            native = to_native(value, trie.schema, root)
        yield at, value, native, trie
    if not trie.children:
        return
    props = trie.schema.get("properties")
    for seg, child in trie.children.items():
        if seg == ITEMS:
            if isinstance(value, list):
                reuse = type(native) is list and len(native) == len(value)
                for i, item in enumerate(value):
                    yield from _walk_native(child, item, native[i] if reuse else _UNSET, at + [i], root)
        elif seg == VALUES:
            if isinstance(value, dict):
                reuse = props is None and type(native) is dict
                for k, item in value.items():
                    yield from _walk_native(
                        child, item, native.get(k, _UNSET) if reuse else _UNSET, at + [k], root
                    )
        elif isinstance(value, dict):
            reuse = props is not None and seg in props and type(native) is dict
            sub_native = native.get(escape_property(seg), _UNSET) if reuse else _UNSET
            sub = value.get(seg)
            if sub is not None:
                yield from _walk_native(child, sub, sub_native, at + [seg], root)
            elif seg not in value and "default" in child.schema:
                yield from _walk_native(
                    child, copy.deepcopy(child.schema["default"]), sub_native, at + [seg], root
                )


class _Rule:
    """One evaluated rule, compiled once (with its messageExpression, if any)."""

    __slots__ = ("message_program", "program", "spec")

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.program = cel_k8s.compile_expression(spec["rule"])
        text = spec.get("messageExpression")
        self.message_program = cel_k8s.compile_expression(text) if isinstance(text, str) else None


class RuleSet:
    """The CEL rules and list-map keys of one compiled kind."""

    def __init__(self, api_version: str, kind: str, compiled: dict[str, Any]) -> None:
        self.api_version = api_version
        self.kind = kind
        self.root = compiled["schema"]
        self._list_maps = _build_trie(
            [(lm["path"], lm["keys"]) for lm in compiled.get("list_maps", [])], self.root
        )
        self._unevaluated: list[UnevaluatedRule] = []
        rules: list[_Rule] = []
        for spec in compiled.get("rules", []):
            reason: str | None = None
            if re.search(r"\boldSelf\b", spec["rule"]):
                reason = "transition rule (uses oldSelf): the API server checks it only on update"
            else:
                try:
                    rules.append(_Rule(spec))
                except cel_k8s.CompileError as exc:
                    reason = str(exc)
            if reason is not None:
                self._unevaluated.append(
                    UnevaluatedRule(api_version, kind, _display_path(spec["path"]), spec["rule"], reason)
                )
        self._cel = _build_trie([(r.spec["path"], r) for r in rules], self.root)

    def unevaluated(self) -> list[UnevaluatedRule]:
        return list(self._unevaluated)

    def check_cel(self, obj: dict[str, Any]) -> Iterator[tuple[list[str | int], str]]:
        for at, _value, native, node in _walk_native(self._cel, obj, _UNSET, [], self.root):
            # One activation per node: the value crosses into the engine once for all its rules.
            activation = cel_k8s.activation(native)
            for rule in node.payload:
                failure = self._evaluate(rule, activation)
                if failure is not None:
                    field_path = rule.spec.get("fieldPath")
                    extra = [p for p in re.split(r"\.|\[|\]", field_path) if p] if field_path else []
                    yield at + extra, failure

    @staticmethod
    def _evaluate(rule: _Rule, activation: Any) -> str | None:
        verdict = cel_k8s.evaluate(rule.program, activation)
        if verdict is True:
            return None
        if verdict is not False:  # a CEL error (or a non-bool, which the server's type check forbids)
            detail = str(verdict) if isinstance(verdict, cel_k8s.EvalError) else f"got {verdict!r}"
            # Named by its message, else its text, as the API server does (ruleErrorString).
            named = (rule.spec.get("message") or "").strip() or rule.spec["rule"]
            return f"rule did not evaluate to true ({detail[:200]}); the API server rejects that too: {named}"
        if rule.message_program is not None:
            message = cel_k8s.evaluate(rule.message_program, activation)
            if isinstance(message, str) and message:
                return message  # else the server falls back to `message` too
        return rule.spec.get("message") or f"failed rule: {rule.spec['rule']}"

    def check_list_maps(self, obj: dict[str, Any]) -> Iterator[tuple[list[str | int], str]]:
        for at, value, node in _walk(self._list_maps, obj, []):
            if not isinstance(value, list):
                continue
            item_props = _resolve(node.schema.get("items", {}), self.root).get("properties", {})
            for keys in node.payload:
                seen: set[tuple[Any, ...]] = set()
                for i, item in enumerate(value):
                    if not isinstance(item, dict):
                        continue
                    keyvals = {k: item.get(k, item_props.get(k, {}).get("default")) for k in keys}
                    key = tuple(keyvals.values())  # list-map keys are scalars (structural schema rule)
                    if key in seen:
                        shown = ", ".join(f"{k}={v!r}" for k, v in keyvals.items())
                        yield at + [i], f"duplicate entry with key ({shown})"
                    seen.add(key)
