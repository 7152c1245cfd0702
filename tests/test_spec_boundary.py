"""Spec keys are read only in generator/spec: the modules that receive the spec read the
typed model (``Spec.model``), never the raw document by key.

A small taint analysis over the modules that receive the spec: a value is *raw spec* when
it comes from a ``.data`` attribute (``Spec.data``, ``Document.data``) or from
``validate_document``, and taint flows through assignments, loops, comprehensions,
``.get``/``.items``/..., and into the parameters of the functions (of these modules) it
is passed to. Indexing raw spec with a spec schema key (``x["models"]``,
``x.get("accelerator")``, ``"path" in x``) is a finding. Rendered Kubernetes objects
are never tainted, so reading manifests by key (prerequisites.py, render/) is fine.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from generator.spec.schema import spec_schema

from .conftest import ROOT

PKG = ROOT / "generator"
# the modules that receive the spec (or data derived from it)
RECEIVERS = sorted(
    [
        *(PKG / f"{name}.py" for name in ("plan", "nodes", "capacity", "fit", "layout", "naming")),
        PKG / "objects.py",
        PKG / "pipeline.py",
        PKG / "cli.py",
        *(PKG / "render").glob("*.py"),
    ]
)
# methods of a raw mapping whose result is raw spec too
_PASS_THROUGH = {"get", "items", "values", "keys", "copy", "pop", "setdefault"}
_BUILTINS = {"dict", "list", "tuple", "sorted", "enumerate", "zip", "reversed", "iter", "next", "filter"}


def spec_keys() -> set[str]:
    """Every property name of the spec schema, at any depth."""
    keys: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            props = node.get("properties")
            if isinstance(props, dict):
                keys.update(props)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(spec_schema())
    return keys


SPEC_KEYS = spec_keys()

Func = ast.FunctionDef | ast.AsyncFunctionDef


class _Module:
    def __init__(self, name: str, tree: ast.Module):
        self.name = name
        self.tree = tree
        self.functions: dict[str, Func] = {
            n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        self.modules: dict[str, str] = {}  # alias -> receiver module name
        self.names: dict[str, tuple[str, str]] = {}  # alias -> (module, function)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                base = (node.module or "").split(".")[-1]
                for a in node.names:
                    if node.module is None or (node.level and base in ("", "generator")):
                        self.modules[a.asname or a.name] = a.name  # from . import nodes
                    else:
                        self.names[a.asname or a.name] = (base, a.name)


class Analysis:
    """Taint per (module, function): the names holding raw spec; fixed point over calls."""

    def __init__(self, sources: dict[str, str]):
        self.mods = {name: _Module(name, ast.parse(src)) for name, src in sources.items()}
        self.tainted: dict[tuple[str, str], set[str]] = {}
        self.returns: set[tuple[str, str]] = set()
        self.findings: list[tuple[str, int, str]] = []

    def run(self) -> list[str]:
        changed = True
        while changed:
            before = (sum(map(len, self.tainted.values())), len(self.returns))
            for mod in self.mods.values():
                self._scope(mod, "<module>", _top_level(mod.tree))
                for fname, fn in mod.functions.items():
                    self._scope(mod, fname, fn.body)
            changed = (sum(map(len, self.tainted.values())), len(self.returns)) != before
        self.findings = []
        for mod in self.mods.values():
            self._report(mod, "<module>", _top_level(mod.tree))
            for fname, fn in mod.functions.items():
                self._report(mod, fname, fn)
        return [f"{m}.py:{line}: {what}" for m, line, what in sorted(set(self.findings))]

    # -- taint

    def _is_raw(self, mod: _Module, names: set[str], e: ast.expr | None) -> bool:
        if e is None:
            return False
        if isinstance(e, ast.Name):
            return e.id in names
        if isinstance(e, ast.Attribute):
            return e.attr == "data" or (e.attr in _PASS_THROUGH and self._is_raw(mod, names, e.value))
        if isinstance(e, ast.Subscript | ast.Starred):
            return self._is_raw(mod, names, e.value)
        if isinstance(e, ast.Call):
            f = e.func
            if isinstance(f, ast.Attribute) and f.attr in _PASS_THROUGH:
                return self._is_raw(mod, names, f.value)
            if isinstance(f, ast.Name) and f.id in _BUILTINS:
                return any(self._is_raw(mod, names, a) for a in e.args)
            if isinstance(f, ast.Name) and f.id == "validate_document":
                return True
            target = self._callee(mod, f)
            return target in self.returns
        if isinstance(e, ast.BoolOp):
            return any(self._is_raw(mod, names, v) for v in e.values)
        if isinstance(e, ast.IfExp):
            return self._is_raw(mod, names, e.body) or self._is_raw(mod, names, e.orelse)
        if isinstance(e, ast.Tuple | ast.List | ast.Set):
            return any(self._is_raw(mod, names, v) for v in e.elts)
        if isinstance(e, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
            inner = set(names)
            for gen in e.generators:
                if self._is_raw(mod, inner, gen.iter):
                    inner |= _targets(gen.target)
            parts = [e.key, e.value] if isinstance(e, ast.DictComp) else [e.elt]
            return any(self._is_raw(mod, inner, p) for p in parts)
        return False

    def _callee(self, mod: _Module, f: ast.expr) -> tuple[str, str] | None:
        if isinstance(f, ast.Name):
            if f.id in mod.functions:
                return (mod.name, f.id)
            return mod.names.get(f.id)
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in mod.modules:
            return (mod.modules[f.value.id], f.attr)
        return None

    def _scope(self, mod: _Module, fname: str, body: list[ast.stmt]) -> None:
        names = self.tainted.setdefault((mod.name, fname), set())
        for node in (n for stmt in body for n in ast.walk(stmt)):
            flow = _flow(node)
            if flow is not None and self._is_raw(mod, names, flow[0]):
                names |= {n for t in flow[1] for n in _targets(t)}
            elif (
                isinstance(node, ast.Return) and fname != "<module>" and self._is_raw(mod, names, node.value)
            ):
                self.returns.add((mod.name, fname))
            elif isinstance(node, ast.Call):
                self._into_callee(mod, names, node)

    def _into_callee(self, mod: _Module, names: set[str], call: ast.Call) -> None:
        target = self._callee(mod, call.func)
        if target is None or target[0] not in self.mods:
            return
        fn = self.mods[target[0]].functions.get(target[1])
        if fn is None:
            return
        params = [a.arg for a in [*fn.args.posonlyargs, *fn.args.args]]
        given = self.tainted.setdefault(target, set())
        for param, arg in zip(params, call.args, strict=False):
            if self._is_raw(mod, names, arg):
                given.add(param)
        for kw in call.keywords:
            if kw.arg and self._is_raw(mod, names, kw.value):
                given.add(kw.arg)

    # -- findings

    def _report(self, mod: _Module, fname: str, scope: Func | list[ast.stmt]) -> None:
        names = self.tainted.get((mod.name, fname), set())
        body = scope if isinstance(scope, list) else scope.body
        for node in (n for stmt in body for n in ast.walk(stmt)):
            for key, where in self._key_reads(mod, names, node):
                self.findings.append((mod.name, where.lineno, f"{fname} reads spec key {key!r}"))

    def _key_reads(self, mod: _Module, names: set[str], node: ast.AST) -> Iterator[tuple[str, ast.AST]]:
        if isinstance(node, ast.Subscript) and self._is_raw(mod, names, node.value):
            key = _literal(node.slice)
            if key in SPEC_KEYS:
                yield key, node
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
            if node.func.attr in ("get", "pop", "setdefault") and self._is_raw(mod, names, node.func.value):
                key = _literal(node.args[0])
                if key in SPEC_KEYS:
                    yield key, node
        elif (
            isinstance(node, ast.Compare)
            and len(node.ops) == 1
            and isinstance(node.ops[0], ast.In | ast.NotIn)
        ):
            key = _literal(node.left)
            if key in SPEC_KEYS and self._is_raw(mod, names, node.comparators[0]):
                yield key, node


def _flow(node: ast.AST) -> tuple[ast.expr | None, list[ast.expr]] | None:
    """(value, targets) of a statement that binds names to a value."""
    if isinstance(node, ast.Assign):
        return node.value, node.targets
    if isinstance(node, ast.AnnAssign | ast.AugAssign | ast.NamedExpr):
        return node.value, [node.target]
    if isinstance(node, ast.For | ast.comprehension):
        return node.iter, [node.target]
    return None


def _top_level(tree: ast.Module) -> list[ast.stmt]:
    """Module-level statements; functions are scopes of their own."""
    return [s for s in tree.body if not isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)]


def _targets(t: ast.expr) -> set[str]:
    return {n.id for n in ast.walk(t) if isinstance(n, ast.Name)}


def _literal(e: ast.expr) -> str | None:
    return e.value if isinstance(e, ast.Constant) and isinstance(e.value, str) else None


def _module_name(path: Path) -> str:
    return path.stem if path.parent == PKG else f"{path.parent.name}.{path.stem}"


def test_modules_that_receive_the_spec_read_no_spec_key():
    sources = {_module_name(p): p.read_text(encoding="utf-8") for p in RECEIVERS}
    assert Analysis(sources).run() == []


PLANNER_READING_KEYS = """
from . import layout

def build_plan(spec: Spec) -> Plan:
    data = spec.data
    for i, m in enumerate(data["models"]):
        _one(m, i)
    return [c for c in data.get("clusters", [])]

def _one(m: dict, i: int) -> None:
    if "path" in m:
        layout.chips(m["accelerator"])
"""
LAYOUT_READING_KEYS = """
def chips(acc):
    return acc.get("count", 1)
"""
READING_MANIFESTS = """
def gpus(obj: dict, model: Model) -> int:
    spec = obj["spec"]
    return spec["template"]["spec"]["containers"][0]["resources"].get("limits") or model.accelerator
"""


def test_the_boundary_check_finds_key_reads_through_calls_and_modules():
    found = Analysis({"plan": PLANNER_READING_KEYS, "layout": LAYOUT_READING_KEYS}).run()
    assert found == [
        "layout.py:3: chips reads spec key 'count'",
        "plan.py:6: build_plan reads spec key 'models'",
        "plan.py:8: build_plan reads spec key 'clusters'",
        "plan.py:11: _one reads spec key 'path'",
        "plan.py:12: _one reads spec key 'accelerator'",
    ]


def test_the_boundary_check_leaves_rendered_objects_and_the_typed_model_alone():
    assert Analysis({"prerequisites": READING_MANIFESTS}).run() == []
