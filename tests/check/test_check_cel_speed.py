"""CEL rules run fast (cel_fast) without changing a single result: cel_fast may only say
"the rule holds"; everything else, and every message, still comes from cel-python.

These tests prove that on the rules that matter, every rule of every pinned CRD:
its parser builds cel-python's tree, it never says "holds" where cel-python does not,
and the problems reported for real and mutated objects are those of cel-python alone.
"""

from __future__ import annotations

import copy
import functools
import json
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.check import cel_fast, cel_rules
from generator.check.cel_rules import RuleSet, _child_schema, _resolve, apply_defaults, to_cel, to_native
from generator.check.paths import upstream_dir
from generator.check.schema_index import load_index

from .samples import all_docs

pytestmark = pytest.mark.slow  # `make test-fast` leaves these to `make test`

REPO = Path(__file__).resolve().parents[2]


def _pinned() -> list[tuple[str, str, dict[str, Any]]]:
    out = []
    for (av, kind), entry in sorted(load_index().entries.items()):
        if entry.format == "kubernetes-validate":
            continue
        with open(upstream_dir() / "compiled" / entry.compiled_name, encoding="utf-8") as f:
            out.append((av, kind, json.load(f)))
    return out


PINNED = _pinned()
RULES = [(f"{kind}@{av}#{i}", doc, r) for av, kind, doc in PINNED for i, r in enumerate(doc["rules"])]
TRANSITION = "oldSelf"


# --------------------------------------------------------------- parser vs cel-python
_OPS = {
    "relation_lt": "<",
    "relation_le": "<=",
    "relation_gt": ">",
    "relation_ge": ">=",
    "relation_eq": "==",
    "relation_ne": "!=",
    "relation_in": "in",
    "addition_add": "+",
    "addition_sub": "-",
    "multiplication_mul": "*",
    "multiplication_div": "/",
    "multiplication_mod": "%",
}


def _from_lark(t: Any) -> tuple:
    """cel-python's lark tree in cel_fast's tuple form (cel_fast.Unsupported likewise)."""
    from celpy.evaluation import celstr

    d, c = t.data, t.children
    if d == "expr":
        return _from_lark(c[0]) if len(c) == 1 else ("cond", *(_from_lark(x) for x in c))
    if d in ("conditionalor", "conditionaland"):
        if len(c) == 1:
            return _from_lark(c[0])
        return ("or" if d == "conditionalor" else "and", _from_lark(c[0]), _from_lark(c[1]))
    if d in ("relation", "addition", "multiplication"):
        if len(c) == 1:
            return _from_lark(c[0])
        return ("op", _OPS[c[0].data], _from_lark(c[0].children[0]), _from_lark(c[1]))
    if d == "unary":
        if len(c) == 1:
            return _from_lark(c[0])
        return ("not" if c[0].data == "unary_not" else "neg", _from_lark(c[1]))
    if d in ("member", "primary", "paren_expr"):
        return _from_lark(c[0])
    if d == "member_dot":
        return ("select", _from_lark(c[0]), c[1].value)
    if d == "member_dot_arg":
        args = tuple(_from_lark(x) for x in c[2].children) if len(c) == 3 else ()
        return ("call", c[1].value, _from_lark(c[0]), args)
    if d == "member_index":
        return ("index", _from_lark(c[0]), _from_lark(c[1]))
    if d == "ident_arg":
        return ("call", c[0].value, None, tuple(_from_lark(x) for x in c[1].children) if len(c) == 2 else ())
    if d == "ident":
        return ("ident", c[0].value)
    if d == "list_lit":
        return ("list", tuple(_from_lark(x) for x in c[0].children) if c else ())
    if d == "literal":
        tok = c[0]
        if tok.type == "INT_LIT":
            return ("lit", cel_fast._int_literal(tok.value))
        if tok.type == "FLOAT_LIT":
            return ("lit", float(tok.value))
        if tok.type in ("STRING_LIT", "MLSTRING_LIT"):
            return ("lit", str(celstr(tok)))
        if tok.type == "BOOL_LIT":
            return ("lit", tok.value == "true")
        if tok.type == "NULL_LIT":
            return ("lit", None)
    raise cel_fast.Unsupported(d)


def _same_parse(text: str) -> None:
    try:
        expected: Any = _from_lark(cel_rules._celpy_env().compile(text))
    except cel_fast.Unsupported:
        expected = "unsupported"
    try:
        got: Any = cel_fast.parse(text)
    except cel_fast.Unsupported:
        got = "unsupported"
    if "unsupported" in (expected, got):
        return  # cel_fast may refuse more than it must: cel-python runs such a rule
    assert got == expected, text
    # Literal types too (True == 1 and 1 == 1.0 in Python).
    assert repr(got) == repr(expected), text


@pytest.mark.parametrize("rule_id,doc,rule", RULES, ids=[r[0] for r in RULES])
def test_parser_builds_cel_pythons_tree_for_every_pinned_rule(rule_id: str, doc: dict, rule: dict) -> None:
    for text in [rule["rule"]] + ([rule["messageExpression"]] if "messageExpression" in rule else []):
        _same_parse(text)
        if TRANSITION not in text:
            assert cel_fast.try_compile(text) is not None, f"cel_fast cannot run {text!r}: it would be slow"


@pytest.mark.parametrize(
    "text",
    [
        "a || b && c || d",
        "a && b || c",
        "!a || !!b",
        "a ? b : c ? d : e",
        "a ? b ? c : d : e",
        "1 + 2 - 3 < 4 == true",
        "a < b < c",
        "-1",
        "- 1",
        "--1",
        "a-1",
        "a - -1",
        "-x.y",
        "-1.5",
        "1.5e3",
        "0x1F",
        "-0x1F",
        "x in [1, 2, 3] && 'a' in {'a': 1}",
        "size(x) + x.size()",
        "x[0].y[1]['k']",
        "x.all(e, e.exists_one(f, f > 0))",
        "x.map(e, e * 2)",
        "dyn(x).y",
        "has(x.y.z)",
        r"'a\'b' + \"c\\\"d\" + '\x41\u00e9\101' + r'\n' + R\"\t\"",
        '\'\'\'a\nb\'\'\' + """c"d"""',
        "r'''^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$'''",
        "true && false || null == null",
        "x // a comment\n  == 1",
        "self.__namespace__ == 'a'",
        "x.y(1, 2,)",
        "[]",
        "[1,]",
        "{}",
        "1u",
        "b'abc'",
        "x{a: 1}",
        ".x",
        "a.in",
        "namespace",
        "9223372036854775807",
        "9223372036854775808",
    ],
)
def test_parser_builds_cel_pythons_tree_for_tricky_syntax(text: str) -> None:
    try:
        cel_rules._celpy_env().compile(text)
    except Exception:
        with pytest.raises(cel_fast.Unsupported):
            cel_fast.parse(text)  # what cel-python rejects, cel_fast never runs
        return
    _same_parse(text)


# --------------------------------------------------------------- evaluation vs cel-python
@functools.cache
def _fast_check(text: str) -> Any:
    return cel_fast.compile_rule(text)


@functools.cache
def _celpy_program(text: str) -> Any:
    env = cel_rules._celpy_env()
    return env.program(env.compile(text), functions=cel_rules._EXTENSIONS)


def _celpy(text: str, value: Any, schema: dict[str, Any], root: dict[str, Any]) -> Any:
    """cel-python's verdict: True, False, "error" (CELEvalError) or "other"."""
    from celpy import celtypes

    program = _celpy_program(text)
    try:
        result = program.evaluate({"self": to_cel(apply_defaults(value, schema, root), schema, root)})
    except Exception:
        return "error"
    if isinstance(result, Exception):
        return "error"
    return bool(result) if isinstance(result, celtypes.BoolType) else "other"


def _fast(text: str, value: Any, schema: dict[str, Any], root: dict[str, Any]) -> bool:
    check = _fast_check(text)
    try:
        return check(to_native(value, schema, root))
    except cel_fast.Unknown:
        return False


SELF = {
    "n": 90,
    "big": 2**63 - 1,
    "d": 3.5,
    "s": "n2d-standard-8",
    "t": "10s",
    "l": [{"y": 1}, {"y": 2}],
    "holes": [{"y": 1}, {}],
    "m": {"k1": "ab", "k2": "x"},
    "namespace": "a",
    "o": {"x": None},
    "empty": [],
    "strs": ["a", "b"],
}
SCHEMA = {"type": "object", "properties": {"d": {"type": "number"}}, "additionalProperties": True}
HOLDS = [  # cel-python says true; cel_fast must say so too (else these rules would be slow)
    "false && self.missing == 1 || true",
    "self.missing == 1 || true",
    "!(self.missing == 1 && false)",
    "!has(self.a.b)",
    "!has(self.missing)",
    "has(self.o.x)",
    "has(self.__namespace__)",
    "self.l.all(x, x.y > 0)",
    "self.l.exists(x, x.y == 2)",
    "self.l.exists_one(x, x.y == 2)",
    "self.holes.exists(x, x.y == 1)",
    "!self.holes.all(x, x.y == 2)",
    "self.empty.all(x, false)",
    "self.l.filter(x, x.y > 1).size() == 1",
    "self.l.map(x, x.y).size() == 2",
    "self.s.split('-')[0] in ['n2d', 'c2d']",
    "self.s.split('-', 2).size() == 2",
    "self.s.split('-', 0).size() == 0",
    "duration(self.t) > duration('1s') && duration('1h') == duration('60m') "
    "&& duration('1d') > duration('1h')",
    "self.m.all(k, k.startsWith('k'))",
    "'k1' in self.m && !('zz' in self.m)",
    "size(self.l) == 2 && self.l[1].y == 2",
    "self.d > 3.0",
    "self.n + 10 == 100 && self.n - 100 == -10",
    "'AbÇ'.lowerAscii() == 'abÇ' && ' a '.trim() == 'a'",
    "self.s.matches('^n2d-') && !self.s.contains('//') && self.s.endsWith('-8')",
    "self.o.x == null",
    "(self.n > 80 ? 1 : 0) + (has(self.zz) ? 1 : 0) <= 1",
    "self.strs.all(a, self.strs.exists_one(b, a == b))",
]
NOT_TRUE = [  # false or an error in cel-python: cel_fast must not claim "holds"
    "self.missing == 1",
    "self.missing == 1 && true",
    "true ? self.missing : true",
    "self.missing ? true : true",
    "self.holes.all(x, x.y == 1)",
    "self.holes.exists_one(x, x.y == 1)",
    "self.holes.filter(x, x.y == 1).size() == 1",
    "self.big + 1 > 0",
    "self.d == 3",
    "self.n == 90.0",
    "self.l[5].y == 1",
    "duration('1x') > duration('1h')",
    "self.s.split('')[0] == 'n'",
    "duration('0') == duration('0s')",
    "self.n.size() == 1",
    "self.s > 1",
    "self.missing.all(x, true)",
    "1 in self.m",
    "self.n",
    "!self.n",
    "-self.s == 1",
    "'['.matches('[')",
    "self.l.exists_one(x, x.y)",
    "self.holes.map(x, x.y).size() == 2 || true",
]
DEFERRED = [  # cel-python quirks (true here, unlike cel-go): cel_fast leaves them to cel-python
    "self.l[-1].y == 2",
    "self.l == self.l",
    "self.s.all(c, true)",
    "[1, 'a'].exists(x, x == 1)",
    "'a' in [1, 'a']",
    "size(null) == 0",
    "self.l.map(x, x.y) == [1, 2]",
]


@pytest.mark.parametrize("text", HOLDS)
def test_fast_holds_where_cel_python_holds(text: str) -> None:
    assert _celpy(text, SELF, SCHEMA, SCHEMA) is True
    assert _fast(text, SELF, SCHEMA, SCHEMA) is True


@pytest.mark.parametrize("text", NOT_TRUE)
def test_fast_never_holds_where_cel_python_does_not(text: str) -> None:
    assert _celpy(text, SELF, SCHEMA, SCHEMA) is not True
    assert _fast(text, SELF, SCHEMA, SCHEMA) is False


@pytest.mark.parametrize("text", DEFERRED)
def test_fast_defers_cel_python_quirks(text: str) -> None:
    assert _celpy(text, SELF, SCHEMA, SCHEMA) is True
    assert _fast(text, SELF, SCHEMA, SCHEMA) is False


def _literals(node: Any) -> Iterator[Any]:
    if isinstance(node, tuple) and node:
        if node[0] == "lit":
            yield node[1]
        for c in node[1:]:
            yield from _literals(c)


def _random_value(schema: dict, root: dict, rnd: random.Random, strs: list[str], depth: int = 0) -> Any:
    """A value shaped by the schema (mostly), with the rules' own literals as strings."""
    schema = _resolve(schema, root)
    if rnd.random() < 0.03:
        return rnd.choice([None, 1, "x", [], {}, True, 1.5])
    if "enum" in schema and rnd.random() < 0.85:
        return rnd.choice(schema["enum"])
    if schema.get("x-kubernetes-int-or-string"):
        return rnd.choice([rnd.choice(strs), rnd.choice([0, 1, 80])])
    typ = schema.get("type")
    if typ == "object" or "properties" in schema or "additionalProperties" in schema:
        out = {}
        if depth < 6:
            for k, p in schema.get("properties", {}).items():
                if rnd.random() < (0.9 if k in schema.get("required", []) else 0.45):
                    out[k] = _random_value(p, root, rnd, strs, depth + 1)
            addl = schema.get("additionalProperties")
            if isinstance(addl, dict):
                for _ in range(rnd.randint(0, 3)):
                    key = rnd.choice(["gke.io/zone", "gke.io/region", "bad key!", "a", "x" * 300])
                    out[key] = _random_value(addl, root, rnd, strs, depth + 1)
        return out
    if typ == "array":
        items = (
            []
            if depth >= 6
            else [
                _random_value(schema.get("items", {}), root, rnd, strs, depth + 1)
                for _ in range(rnd.choice([0, 1, 1, 2, 3]))
            ]
        )
        return items + items[:1] if items and rnd.random() < 0.3 else items
    if typ == "string":
        return rnd.choice(strs)
    if typ in ("integer", "number"):
        return rnd.choice([0, 1, 2, 5, 30, 80, 81, 100, 8000] + ([0.5, 2.5] if typ == "number" else []))
    if typ == "boolean":
        return rnd.choice([True, False])
    return rnd.choice([None, "x", 1, {}, []])


def test_fast_never_holds_where_cel_python_does_not_on_random_values() -> None:
    # ~15 values a rule, shaped by the rule's schema and built from its literals, so
    # both outcomes and the error paths (missing fields, wrong types) are exercised.
    agree = celpy_only = 0
    for rule_id, doc, rule in RULES:
        text = rule["rule"]
        if TRANSITION in text:
            continue
        root = doc["schema"]
        schema = root
        for seg in rule["path"]:
            schema = _resolve(_child_schema(schema, seg, root), root)
        strs = sorted(
            {
                x
                for r in doc["rules"]
                if TRANSITION not in r["rule"]
                for x in _literals(cel_fast.parse(r["rule"]))
                if isinstance(x, str)
            }
            | {"", "a", "/v1", "a//b", "10s", "1m", "0s", "Service", "*", "n2d-standard-8"}
        )
        rnd = random.Random(rule_id)
        for _ in range(15):
            value = _random_value(schema, root, rnd, strs)
            fast, slow = _fast(text, value, schema, root), _celpy(text, value, schema, root)
            assert not (fast and slow is not True), (rule_id, text, value, slow)
            agree += fast and slow is True
            celpy_only += (not fast) and slow is True
    # cel_fast decides nearly every passing case itself (the rest are ill-typed values).
    assert celpy_only < 0.05 * agree, (agree, celpy_only)


# --------------------------------------------------------------- whole objects
def _docs() -> list[dict]:
    out = [d for _, d in all_docs()]
    for corpus in ("positive", "negative"):
        for path in sorted((REPO / "tests" / "check" / corpus).rglob("*.yaml")):
            try:
                out.extend(
                    d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if isinstance(d, dict)
                )
            except yaml.YAMLError:
                continue  # the negative corpus holds broken YAML too
    return out


def _mutants(obj: dict, rnd: random.Random, n: int) -> Iterator[dict]:
    words = [
        "",
        "*",
        "Service",
        "PathPrefix",
        "Exact",
        "ReplacePrefixMatch",
        "ReplaceFullPath",
        "URLRewrite",
        "RequestRedirect",
        "CORS",
        "v1",
        "/a//b",
        "10s",
        "0s",
        "Hostname",
        "HTTPS",
        "TLS",
        "Terminate",
        "InferencePool",
        "ServiceImport",
        "USE_FIXED_PORT",
        "gw",
    ]

    def collect(x: Any, nodes: list[Any]) -> None:
        if isinstance(x, (dict, list)):
            nodes.append(x)
            for v in x.values() if isinstance(x, dict) else x:
                collect(v, nodes)

    for _ in range(n):
        m = copy.deepcopy(obj)
        nodes: list[Any] = []
        collect(m.get("spec"), nodes)
        for _ in range(rnd.randint(1, 3)):
            node = rnd.choice(nodes) if nodes else None
            if isinstance(node, dict) and node:
                k = rnd.choice(sorted(node))
                c = rnd.random()
                if c < 0.3:
                    del node[k]
                elif c < 0.7 and isinstance(node[k], str):
                    node[k] = rnd.choice(words)
                elif c < 0.8 and isinstance(node[k], int):
                    node[k] = rnd.choice([0, 1, 5, 100])
            elif isinstance(node, list) and node:
                node.append(copy.deepcopy(rnd.choice(node))) if rnd.random() < 0.6 else node.pop()
        yield m


def test_problems_are_exactly_cel_pythons_on_real_and_mutated_objects() -> None:
    kinds = {(av, kind): doc for av, kind, doc in PINNED if doc["rules"]}
    fast = {k: RuleSet(k[0], k[1], doc) for k, doc in kinds.items()}
    slow = {k: RuleSet(k[0], k[1], doc) for k, doc in kinds.items()}
    for rs in slow.values():
        for prog in rs._programs:
            prog.fast = None  # cel-python alone, as before cel_fast
    rnd = random.Random(0)
    checked = problems = 0
    for doc in _docs():
        key = (doc.get("apiVersion"), doc.get("kind"))
        if key not in kinds:
            continue
        for obj in [doc, *_mutants(doc, rnd, 8)]:
            expected = sorted(map(repr, slow[key].check_cel(obj)))
            assert sorted(map(repr, fast[key].check_cel(obj))) == expected, (key, obj)
            checked += 1
            problems += len(expected)
    assert checked > 300 and problems > 30, (checked, problems)


# --------------------------------------------------------------- speed
def _routes(n: int) -> list[dict]:
    return [
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "HTTPRoute",
            "metadata": {"name": f"m{i}-route"},
            "spec": {
                "parentRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "gw"}],
                "rules": [
                    {
                        "backendRefs": [{"group": "", "kind": "Service", "name": f"m{i}-svc", "port": 8000}],
                        "filters": [
                            {
                                "type": "URLRewrite",
                                "urlRewrite": {
                                    "path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/"}
                                },
                            }
                        ],
                        "matches": [{"path": {"type": "PathPrefix", "value": f"/m{i}"}}],
                        "timeouts": {"request": f"{i + 10}s", "backendRequest": "5s"},
                    }
                ],
            },
        }
        for i in range(n)
    ]


def test_distinct_httproutes_are_cheap() -> None:
    doc = next(d for av, kind, d in PINNED if kind == "HTTPRoute" and av.endswith("/v1"))
    rules = RuleSet("gateway.networking.k8s.io/v1", "HTTPRoute", doc)
    routes = _routes(250)
    start = time.perf_counter()
    assert all(list(rules.check_cel(r)) == [] for r in routes)
    elapsed = time.perf_counter() - start
    # ~0.04 s on the 2-core dev machine (cel-python alone: ~4.5 s); 1 s only catches a
    # lost fast path, not noise.
    assert elapsed < 1.0, f"{elapsed:.2f} s for 250 HTTPRoutes"


def test_valid_objects_never_load_cel_python() -> None:
    # cel-python costs ~0.25 s to import and build its parser: a cold `gen check` of a
    # valid output must not pay it. A failing rule still loads it for the message.
    code = (
        "import sys, json\n"
        "from generator.check.schemas import validate_resource\n"
        f"routes = json.loads({json.dumps(json.dumps(_routes(3)))})\n"
        "assert all(validate_resource(r) == [] for r in routes)\n"
        "assert 'celpy' not in sys.modules and 'lark' not in sys.modules, 'cel-python loaded'\n"
        "routes[0]['spec']['rules'][0]['matches'][0]['path']['value'] = 'v1'\n"
        "problems = validate_resource(routes[0])\n"
        "assert [p.message for p in problems] == [\n"
        "    \"value must be an absolute path and start with '/' when \"\n"
        "    \"type one of ['Exact', 'PathPrefix']\"\n"
        "], problems\n"
        "assert 'celpy' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, timeout=120)
