"""Rules a JSON schema cannot express: CEL ``x-kubernetes-validations`` (evaluated with
cel-python) and ``x-kubernetes-list-type: map`` key uniqueness.

Mirrors the API server where it matters for a create: a rule runs on every node its
path reaches, after defaults are applied to that node; property names that are CEL
keywords or hold ``.-/`` are escaped (``namespace`` -> ``__namespace__``) while map
keys are not. A rule is never guessed at: if it needs ``oldSelf`` (update-only), a
function cel-python lacks, or does not compile, it is listed by ``unevaluated()``.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from typing import Any, Iterator, Optional

from .crd_compile import ITEMS, VALUES

try:
    import celpy
    from celpy import celtypes
except ImportError:  # pragma: no cover - exercised only without the dependency
    celpy = None

# Functions/macros cel-python evaluates like Kubernetes' cel-go, plus _EXTENSIONS below.
_STANDARD = {"all", "exists", "exists_one", "map", "filter", "has", "size", "matches",
             "startsWith", "endsWith", "contains", "duration", "timestamp", "int", "uint",
             "double", "string", "bool", "dyn", "type"}
_CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(")
_CEL_KEYWORDS = {"true", "false", "null", "in", "as", "break", "const", "continue", "else",
                 "for", "function", "if", "import", "let", "loop", "package", "namespace",
                 "return", "var", "void", "while"}
_MEMO_LIMIT = 100_000


def _split(s: Any, sep: Any, limit: Any = -1) -> Any:
    # cel-go strings ext: limit < 0 -> all parts, 0 -> none, n -> at most n parts.
    n = int(limit)
    parts = [] if n == 0 else str(s).split(str(sep), n - 1 if n > 0 else -1)
    return celtypes.ListType([celtypes.StringType(x) for x in parts])


def _ascii_case(s: Any, upper: bool) -> Any:
    return celtypes.StringType("".join((c.upper() if upper else c.lower()) if c.isascii() else c for c in str(s)))


# Kubernetes' CEL strings extension (cel-go ext.Strings), the subset the pinned CRDs
# use; a rule calling anything else is "not evaluated".
_EXTENSIONS = {
    "split": _split,
    "lowerAscii": lambda s: _ascii_case(s, upper=False),
    "upperAscii": lambda s: _ascii_case(s, upper=True),
    "trim": lambda s: celtypes.StringType(str(s).strip()),
}


def escape_property(name: str) -> str:
    """Kubernetes CEL property-name escaping (apiextensions-apiserver, v1.2x+)."""
    if name in _CEL_KEYWORDS:
        return f"__{name}__"
    return (name.replace("__", "__underscores__").replace(".", "__dot__")
            .replace("-", "__dash__").replace("/", "__slash__"))


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
        return root["$defs"][ref[len("#/$defs/"):]]
    return schema


def _child_schema(schema: dict[str, Any], seg: str, root: dict[str, Any]) -> dict[str, Any]:
    schema = _resolve(schema, root)
    if seg == ITEMS:
        return schema.get("items", {})
    if seg == VALUES:
        addl = schema.get("additionalProperties")
        return addl if isinstance(addl, dict) else {}
    return schema.get("properties", {}).get(seg, {})


def apply_defaults(value: Any, schema: dict[str, Any], root: dict[str, Any]) -> Any:
    """Return ``value`` with schema defaults filled in, as the API server does before
    validating (new objects only; ``value`` itself is not modified)."""
    schema = _resolve(schema, root)
    if isinstance(value, dict):
        out = {}
        props = schema.get("properties", {})
        for key, prop in props.items():
            if key not in value and "default" in prop:
                out[key] = apply_defaults(copy.deepcopy(prop["default"]), prop, root)
        addl = schema.get("additionalProperties")
        for key, v in value.items():
            sub = props.get(key) if key in props else (addl if isinstance(addl, dict) else {})
            out[key] = apply_defaults(v, sub, root)
        return out
    if isinstance(value, list):
        items = schema.get("items", {})
        return [apply_defaults(v, items, root) for v in value]
    return value


def to_cel(value: Any, schema: dict[str, Any], root: dict[str, Any]) -> Any:
    schema = _resolve(schema, root)
    if isinstance(value, dict):
        props = schema.get("properties")
        addl = schema.get("additionalProperties")
        if props is not None:
            return celtypes.MapType({
                celtypes.StringType(escape_property(k)): to_cel(v, props.get(k, addl if isinstance(addl, dict) else {}), root)
                for k, v in value.items()})
        sub = addl if isinstance(addl, dict) else {}
        return celtypes.MapType({celtypes.StringType(k): to_cel(v, sub, root) for k, v in value.items()})
    if isinstance(value, list):
        items = schema.get("items", {})
        return celtypes.ListType([to_cel(v, items, root) for v in value])
    if isinstance(value, bool):
        return celtypes.BoolType(value)
    if isinstance(value, int):
        typ = schema.get("type")
        is_number = typ == "number" or (isinstance(typ, list) and "number" in typ)
        return celtypes.DoubleType(value) if is_number else celtypes.IntType(value)  # cel-go types by schema
    if isinstance(value, float):
        return celtypes.DoubleType(value)
    if isinstance(value, str):
        return celtypes.StringType(value)
    return value  # None


class _Trie:
    """Rule paths merged into one tree, so a single walk of the object reaches every
    node any rule applies to (RayService has ~60 list-map paths through pod specs)."""

    __slots__ = ("schema", "children", "payload")

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


class _Compiled:
    def __init__(self, index: int, spec: dict[str, Any], program: Any, message_program: Any) -> None:
        self.index = index
        self.spec = spec
        self.program = program
        self.message_program = message_program


class RuleSet:
    """The CEL rules and list-map keys of one compiled kind."""

    def __init__(self, api_version: str, kind: str, compiled: dict[str, Any]) -> None:
        self.api_version = api_version
        self.kind = kind
        self.root = compiled["schema"]
        self._list_maps = _build_trie([(lm["path"], lm["keys"]) for lm in compiled.get("list_maps", [])], self.root)
        self._unevaluated: list[UnevaluatedRule] = []
        self._programs: list[_Compiled] = []
        self._memo: dict[tuple[int, str], Optional[str]] = {}
        env = celpy.Environment() if celpy is not None else None
        for i, spec in enumerate(compiled.get("rules", [])):
            reason = self._unsupported(spec["rule"])
            program = message_program = None
            if reason is None:
                try:
                    program = env.program(env.compile(spec["rule"]), functions=_EXTENSIONS)
                    if "messageExpression" in spec:
                        message_program = env.program(env.compile(spec["messageExpression"]),
                                                      functions=_EXTENSIONS)
                except Exception as exc:  # cel-python parse/compile errors have no common base
                    reason = f"cel-python cannot compile it: {exc}"
            if reason is not None:
                self._unevaluated.append(UnevaluatedRule(
                    api_version, kind, _display_path(spec["path"]), spec["rule"], reason))
            else:
                self._programs.append(_Compiled(i, spec, program, message_program))
        self._cel = _build_trie([(p.spec["path"], p) for p in self._programs], self.root)

    @staticmethod
    def _unsupported(rule: str) -> Optional[str]:
        if celpy is None:
            return "cel-python is not installed"
        if re.search(r"\boldSelf\b", rule):
            return "transition rule (uses oldSelf): the API server checks it only on update"
        missing = sorted({f for f in _CALL.findall(rule) if f not in _STANDARD and f not in _EXTENSIONS})
        if missing:
            return f"uses {', '.join(m + '()' for m in missing)}, which this checker does not implement"
        return None

    def unevaluated(self) -> list[UnevaluatedRule]:
        return list(self._unevaluated)

    def check_cel(self, obj: dict[str, Any]) -> Iterator[tuple[list[str | int], str]]:
        for at, value, node in _walk(self._cel, obj, []):
            # Defaults, memo key and CEL value are computed once per node, for all its rules.
            value = apply_defaults(value, node.schema, self.root)
            dumped = json.dumps(value, sort_keys=True, separators=(",", ":"))
            activation: Optional[dict[str, Any]] = None
            for prog in node.payload:
                key = (prog.index, dumped)
                if key in self._memo:
                    failure = self._memo[key]
                else:
                    if activation is None:
                        activation = {"self": to_cel(value, node.schema, self.root)}
                    failure = self._evaluate(prog, activation)
                    if len(self._memo) >= _MEMO_LIMIT:
                        self._memo.clear()
                    self._memo[key] = failure
                if failure is not None:
                    field_path = prog.spec.get("fieldPath")
                    extra = [p for p in re.split(r"\.|\[|\]", field_path) if p] if field_path else []
                    yield at + extra, failure

    def _evaluate(self, prog: _Compiled, activation: dict[str, Any]) -> Optional[str]:
        try:
            result = prog.program.evaluate(activation)
        except Exception as exc:  # CELEvalError and friends: the server fails the rule too
            result = exc
        if isinstance(result, Exception):
            detail = str(result.args[0] if result.args else result)[:200]
            return (f"rule did not evaluate to true ({detail}); the API server rejects that "
                    f"too: {prog.spec['rule']}")
        if isinstance(result, celtypes.BoolType) and bool(result):
            return None
        return self._message(prog, activation)

    @staticmethod
    def _message(prog: _Compiled, activation: dict[str, Any]) -> str:
        if prog.message_program is not None:
            try:
                msg = prog.message_program.evaluate(activation)
                if isinstance(msg, str) and msg:
                    return str(msg)
            except Exception:  # the server also falls back to `message` here
                pass
        return prog.spec.get("message") or f"failed rule: {prog.spec['rule']}"

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
