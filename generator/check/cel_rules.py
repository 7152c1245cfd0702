"""Rules a JSON schema cannot express: CEL ``x-kubernetes-validations`` (evaluated with
cel-python) and ``x-kubernetes-list-type: map`` key uniqueness.

Mirrors the API server where it matters for a create: a rule runs on every node its
path reaches, after defaults are applied to that node; property names that are CEL
keywords or hold ``.-/`` are escaped (``namespace`` -> ``__namespace__``) while map
keys are not. A rule is never guessed at: if it needs ``oldSelf`` (update-only), a
function cel-python lacks, or does not compile, it is listed by ``unevaluated()``.

Speed: each rule is first run by ``cel_fast`` (compiled once to Python closures over the
plain JSON value), which can only say "holds". Any other outcome -- false, an error, or
a case cel_fast does not model -- is decided by cel-python, so every reported problem and
its message come from cel-python as before. cel-python itself (~0.25 s to import and
build its parser) is loaded only when some rule needs it.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from . import cel_fast
from .crd_compile import ITEMS, VALUES

_CELPY_INSTALLED = importlib.util.find_spec("celpy") is not None
_ENV: Any = None


def _celpy_env() -> Any:
    """cel-python's Environment, built on first use (import + lark grammar ~0.25 s)."""
    global _ENV
    if _ENV is None:
        import celpy

        _ENV = celpy.Environment()
    return _ENV


# Functions/macros cel-python evaluates like Kubernetes' cel-go, plus _EXTENSIONS below.
_STANDARD = {
    "all",
    "exists",
    "exists_one",
    "map",
    "filter",
    "has",
    "size",
    "matches",
    "startsWith",
    "endsWith",
    "contains",
    "duration",
    "timestamp",
    "int",
    "uint",
    "double",
    "string",
    "bool",
    "dyn",
    "type",
}
_CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(")
_CEL_KEYWORDS = {"true", "false", "null", "in"} | cel_fast.RESERVED_WORDS
_MEMO_LIMIT = 100_000
_UNSET = object()


def _split(s: Any, sep: Any, limit: Any = -1) -> Any:
    from celpy import celtypes

    # cel-go strings ext: limit < 0 -> all parts, 0 -> none, n -> at most n parts.
    n = int(limit)
    parts = [] if n == 0 else str(s).split(str(sep), n - 1 if n > 0 else -1)
    return celtypes.ListType([celtypes.StringType(x) for x in parts])


def _ascii_case(s: Any, upper: bool) -> Any:
    from celpy import celtypes

    return celtypes.StringType(
        "".join((c.upper() if upper else c.lower()) if c.isascii() else c for c in str(s))
    )


def _trim(s: Any) -> Any:
    from celpy import celtypes

    return celtypes.StringType(str(s).strip())


# Kubernetes' CEL strings extension (cel-go ext.Strings), the subset the pinned CRDs
# use; a rule calling anything else is "not evaluated".
_EXTENSIONS = {
    "split": _split,
    "lowerAscii": lambda s: _ascii_case(s, upper=False),
    "upperAscii": lambda s: _ascii_case(s, upper=True),
    "trim": _trim,
}


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


def to_native(value: Any, schema: dict[str, Any], root: dict[str, Any]) -> Any:
    """``to_cel(apply_defaults(value))`` in plain Python values, for ``cel_fast``: defaults
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


def to_cel(value: Any, schema: dict[str, Any], root: dict[str, Any]) -> Any:
    from celpy import celtypes

    schema = _resolve(schema, root)
    if isinstance(value, dict):
        props = schema.get("properties")
        addl = schema.get("additionalProperties")
        if props is not None:
            return celtypes.MapType(
                {
                    celtypes.StringType(escape_property(k)): to_cel(
                        v, props.get(k, addl if isinstance(addl, dict) else {}), root
                    )
                    for k, v in value.items()
                }
            )
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


def _fast_check(rule: str) -> Callable[[Any], bool] | None:
    """cel_fast's compiled rule, shared by kinds that pin the same rule (e.g. HTTPRoute
    v1 and v1beta1), or None when cel_fast cannot run it."""
    if rule not in _FAST_CACHE:
        _FAST_CACHE[rule] = cel_fast.try_compile(rule)
    return _FAST_CACHE[rule]


_FAST_CACHE: dict[str, Callable[[Any], bool] | None] = {}


class _Compiled:
    """One evaluated rule: its cel_fast check (None if cel_fast cannot run it) and its
    cel-python programs, compiled on first need."""

    def __init__(self, index: int, spec: dict[str, Any], fast: Callable[[Any], bool] | None) -> None:
        self.index = index
        self.spec = spec
        self.fast = fast
        self._programs: tuple[Any, Any] | None = None

    def compile_celpy(self) -> tuple[Any, Any]:
        """(program, message_program); raises what cel-python raises for a bad rule."""
        if self._programs is None:
            env = _celpy_env()
            program = env.program(env.compile(self.spec["rule"]), functions=_EXTENSIONS)
            message_program = None
            if "messageExpression" in self.spec:
                message_program = env.program(
                    env.compile(self.spec["messageExpression"]), functions=_EXTENSIONS
                )
            self._programs = (program, message_program)
        return self._programs

    @property
    def program(self) -> Any:
        return self.compile_celpy()[0]

    @property
    def message_program(self) -> Any:
        return self.compile_celpy()[1]


def _parses(text: str) -> bool:
    try:
        cel_fast.parse(text)
        return True
    except (cel_fast.Unsupported, RecursionError):
        return False


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
        self._programs: list[_Compiled] = []
        self._memo: dict[tuple[int, str], str | None] = {}
        for i, spec in enumerate(compiled.get("rules", [])):
            reason = self._unsupported(spec["rule"])
            prog: _Compiled | None = None
            if reason is None:
                prog = _Compiled(i, spec, _fast_check(spec["rule"]))
                # cel-python must be able to compile what it may be asked to decide. cel_fast's
                # parser accepts exactly cel-python's parses for the pinned rules (tested), so
                # cel-python is loaded here only for text cel_fast cannot parse.
                texts = [spec["rule"]] + ([spec["messageExpression"]] if "messageExpression" in spec else [])
                if prog.fast is None or not all(_parses(t) for t in texts):
                    try:
                        prog.compile_celpy()
                    except Exception as exc:  # cel-python parse/compile errors have no common base
                        reason = f"cel-python cannot compile it: {exc}"
            if reason is not None:
                self._unevaluated.append(
                    UnevaluatedRule(api_version, kind, _display_path(spec["path"]), spec["rule"], reason)
                )
            else:
                assert prog is not None
                self._programs.append(prog)
        self._cel = _build_trie([(p.spec["path"], p) for p in self._programs], self.root)

    @staticmethod
    def _unsupported(rule: str) -> str | None:
        if not _CELPY_INSTALLED:
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
        for at, value, native, node in _walk_native(self._cel, obj, _UNSET, [], self.root):
            # cel-python's input (defaults, memo key, CEL value): once per node, if needed.
            defaulted: Any = _UNSET
            dumped = ""
            activation: dict[str, Any] | None = None
            for prog in node.payload:
                if prog.fast is not None:
                    try:
                        if prog.fast(native):
                            continue  # holds: cel-python would return true too
                    except cel_fast.Unknown:
                        pass  # false, an error, or not modelled: cel-python decides
                if defaulted is _UNSET:
                    defaulted = apply_defaults(value, node.schema, self.root)
                    dumped = json.dumps(defaulted, sort_keys=True, separators=(",", ":"))
                key = (prog.index, dumped)
                if key in self._memo:
                    failure = self._memo[key]
                else:
                    if activation is None:
                        activation = {"self": to_cel(defaulted, node.schema, self.root)}
                    failure = self._evaluate(prog, activation)
                    if len(self._memo) >= _MEMO_LIMIT:
                        self._memo.clear()
                    self._memo[key] = failure
                if failure is not None:
                    field_path = prog.spec.get("fieldPath")
                    extra = [p for p in re.split(r"\.|\[|\]", field_path) if p] if field_path else []
                    yield at + extra, failure

    def _evaluate(self, prog: _Compiled, activation: dict[str, Any]) -> str | None:
        program = prog.program
        try:
            result = program.evaluate(activation)
        except Exception as exc:  # CELEvalError and friends: the server fails the rule too
            result = exc
        if isinstance(result, Exception):
            detail = str(result.args[0] if result.args else result)[:200]
            return (
                f"rule did not evaluate to true ({detail}); the API server rejects that "
                f"too: {prog.spec['rule']}"
            )
        from celpy import celtypes

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
