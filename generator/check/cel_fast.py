"""A fast, conservative CEL evaluator that only ever answers "the rule holds".

cel-python interprets its lark parse tree node by node (~0.5 ms a rule) and costs
~0.25 s to import and build its parser, which made it most of a cold ``gen check``.
This module parses a rule once (its own small parser, no lark) into Python closures over
plain JSON values. A compiled rule returns ``True`` only when cel-python, evaluating the
same rule on the same object, would return ``BoolType(True)``; in every other case
(false, an error, a value of an unexpected type, anything not modelled here) it raises
:class:`Unknown`, and the caller asks cel-python. So problems and their messages still
come from cel-python alone; this module can only make passing rules cheaper.

Semantics copied from cel-python 0.5.0's ``Evaluator`` (not from the CEL spec where they
differ), restricted to the well-typed cases:

* ``&&``/``||`` evaluate both sides and absorb an error the other side decides;
  ``?:`` evaluates only the chosen branch (an erroneous condition -> Unknown).
* ``e.f`` on a map without key ``f`` (or on a non-map) is an error; ``has(e)`` is true
  unless evaluating ``e`` errs; ``dyn(e)`` is ``e``.
* ``all``/``exists`` fold per-element errors like ``&&``/``||``; an error inside
  ``exists_one``/``filter``/``map`` escapes cel-python as an exception (-> Unknown).
* ``==``, ``!=``, ``<``, ... and ``in`` only on operands of one scalar type (int,
  double, string, bool, null, duration); anything else -> Unknown.

``tests/check/test_check_cel_speed.py`` checks the parser against cel-python's tree for
every rule of every pinned CRD, and both engines against each other on real objects.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Callable
from typing import Any

__all__ = ["Unknown", "Unsupported", "compile_rule", "parse"]

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


class Unknown(Exception):
    """This evaluator cannot vouch for the rule holding: ask cel-python."""


class Unsupported(Exception):
    """The rule uses syntax or a function this evaluator does not model."""


class _Err(Exception):
    """A CEL evaluation error (cel-python's ``CELEvalError`` value)."""


_ERR = _Err()
_UNKNOWN = Unknown()

# --------------------------------------------------------------------------- parsing
# Terminals copied from cel-python's cel.lark (same escapes, same quirks).
_TOKEN = re.compile(
    r"""
  (?P<ws>[\t\n\f\r ]+|//[^\n]*)
| (?P<mlstr>[rR]?\"\"\"(?:\\[abfnrtv"'\\]|\\\d{3}|\\x[0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4-8}|\r\n|\r|\n|.)*?\"\"\"
          |[rR]?'''(?:\\[abfnrtv"'\\]|\\\d{3}|\\x[0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4}|\\U[0-9a-fA-F]{8}|\r\n|\r|\n|.)*?''')
| (?P<str>[rR]?"(?:\\[abfnrtv"'\\]|\\\d{3}|\\x[0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4-8}|.)*?"
        |[rR]?'(?:\\[abfnrtv"'\\]|\\\d{3}|\\x[0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4}|\\U[0-9a-fA-F]{8}|.)*?')
| (?P<bytes>[bB][rR]?(?:"|'))
| (?P<float>[0-9]+\.[0-9]*(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+)
| (?P<uint>(?:0x[0-9a-fA-F]+|[0-9]+)[uU])
| (?P<int>0x[0-9a-fA-F]+|[0-9]+)
| (?P<ident>[_a-zA-Z][_a-zA-Z0-9]*)
| (?P<op>==|!=|<=|>=|&&|\|\||[<>!+\-*/%?:.,()\[\]{}])
""",
    re.X,
)
# CEL's reserved words (cel-spec langdef.md): never identifiers. cel_rules.py reads them too.
RESERVED_WORDS = {
    "as",
    "break",
    "const",
    "continue",
    "else",
    "for",
    "function",
    "if",
    "import",
    "let",
    "loop",
    "package",
    "namespace",
    "return",
    "var",
    "void",
    "while",
}
_ESCAPES_PAT = re.compile(
    "\\\\[abfnrtv\"'\\\\]|\\\\\\d{3}|\\\\x[0-9a-fA-F]{2}|\\\\u[0-9a-fA-F]{4}|\\\\U[0-9a-fA-F]{8}|."
)
_ESCAPES = {
    "\\a": "\a",
    "\\b": "\b",
    "\\f": "\f",
    "\\n": "\n",
    "\\r": "\r",
    "\\t": "\t",
    "\\v": "\v",
    '\\"': '"',
    "\\'": "'",
    "\\\\": "\\",
}


def decode_string(text: str) -> str:
    """cel-python's ``celstr``: a CEL string literal's value."""
    if text[:1] in ("R", "r"):
        return text[4:-3] if text[1:4] in ('"""', "'''") else text[2:-1]
    body = text[3:-3] if text[0:3] in ('"""', "'''") else text[1:-1]
    out = []
    for m in _ESCAPES_PAT.finditer(body):
        s = m.group()
        if len(s) == 1:
            out.append(s)
        elif s[:2] in ("\\x", "\\u", "\\U"):
            out.append(chr(int(s[2:], 16)))
        elif s[:1] == "\\" and len(s) == 4:
            out.append(chr(int(s[1:], 8)))
        else:
            out.append(_ESCAPES.get(s, s))
    return "".join(out)


def _int_literal(text: str) -> int:
    neg = text.startswith("-")
    digits = text[1:] if neg else text
    value = int(digits[2:], 16) if digits[:2] in ("0x", "0X") else int(digits)
    value = -value if neg else value
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise Unsupported("int literal out of range")  # cel-python: an evaluation error
    return value


def _tokenize(text: str) -> list[tuple[str, str, int, int]]:
    toks = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise Unsupported(f"cannot tokenize at {pos}")
        kind = m.lastgroup
        assert kind is not None
        value = m.group()
        if kind == "bytes":
            raise Unsupported("bytes literal")
        if kind == "ident":
            if value in ("true", "false"):
                kind = "bool"
            elif value == "null":
                kind = "null"
            elif value == "in":
                kind = "op"
            elif value in RESERVED_WORDS:
                raise Unsupported(f"reserved word {value}")
        if kind != "ws":
            toks.append((kind, value, m.start(), m.end()))
        pos = m.end()
    toks.append(("eof", "", pos, pos))
    return toks


_RELOPS = {"<", "<=", ">", ">=", "==", "!=", "in"}
# ("kind", operands...): ("lit", 1), ("op", "+", left, right), ("call", name, target, args)
_Node = tuple[Any, ...]


class _Parser:
    """Recursive descent over cel.lark's grammar; returns a tuple AST."""

    def __init__(self, text: str) -> None:
        self.toks = _tokenize(text)
        self.i = 0

    def peek(self) -> tuple[str, str, int, int]:
        return self.toks[self.i]

    def take(self) -> tuple[str, str, int, int]:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def expect(self, op: str) -> None:
        kind, value, _, _ = self.take()
        if kind != "op" or value != op:
            raise Unsupported(f"expected {op!r}, got {value!r}")

    def at(self, *ops: str) -> bool:
        kind, value, _, _ = self.peek()
        return kind == "op" and value in ops

    def parse(self) -> _Node:
        node = self.expr()
        if self.peek()[0] != "eof":
            raise Unsupported("trailing input")
        return node

    def expr(self) -> _Node:
        cond = self.cor()
        if self.at("?"):
            self.take()
            yes = self.cor()
            self.expect(":")
            return ("cond", cond, yes, self.expr())
        return cond

    def cor(self) -> _Node:
        node = self.cand()
        while self.at("||"):
            self.take()
            node = ("or", node, self.cand())
        return node

    def cand(self) -> _Node:
        node = self.relation()
        while self.at("&&"):
            self.take()
            node = ("and", node, self.relation())
        return node

    def relation(self) -> _Node:
        node = self.addition()
        while self.peek()[0] == "op" and self.peek()[1] in _RELOPS:
            op = self.take()[1]
            node = ("op", op, node, self.addition())
        return node

    def addition(self) -> _Node:
        node = self.multiplication()
        while self.at("+", "-"):
            op = self.take()[1]
            node = ("op", op, node, self.multiplication())
        return node

    def multiplication(self) -> _Node:
        node = self.unary()
        while self.at("*", "/", "%"):
            op = self.take()[1]
            node = ("op", op, node, self.unary())
        return node

    def unary(self) -> _Node:
        if self.at("!"):
            self.take()
            return ("not", self.unary())
        if self.at("-"):
            _, _, _, end = self.take()
            kind, value, start, _ = self.peek()
            if kind in ("int", "float", "uint") and start == end:
                # cel.lark lexes "-1" as one signed literal, "- 1" as negation.
                self.take()
                return self.member(self.literal(kind, "-" + value))
            return ("neg", self.unary())
        return self.member(self.primary())

    def member(self, node: _Node) -> _Node:
        while True:
            if self.at("."):
                self.take()
                kind, name, _, _ = self.take()
                if kind != "ident":
                    raise Unsupported("expected a field name")
                if self.at("("):
                    self.take()
                    node = ("call", name, node, self.args(")"))
                else:
                    node = ("select", node, name)
            elif self.at("["):
                self.take()
                index = self.expr()
                self.expect("]")
                node = ("index", node, index)
            elif self.at("{"):
                raise Unsupported("message construction")
            else:
                return node

    def args(self, close: str) -> tuple[_Node, ...]:
        items = []
        if not self.at(close):
            items.append(self.expr())
            while self.at(","):
                self.take()
                items.append(self.expr())
        self.expect(close)
        return tuple(items)

    @staticmethod
    def literal(kind: str, value: str) -> _Node:
        if kind == "int":
            return ("lit", _int_literal(value))
        if kind == "float":
            return ("lit", float(value))
        raise Unsupported(f"{kind} literal")

    def primary(self) -> _Node:
        kind, value, _, _ = self.take()
        if kind in ("int", "float", "uint"):
            return self.literal(kind, value)
        if kind in ("str", "mlstr"):
            return ("lit", decode_string(value))
        if kind == "bool":
            return ("lit", value == "true")
        if kind == "null":
            return ("lit", None)
        if kind == "ident":
            if self.at("("):
                self.take()
                return ("call", value, None, self.args(")"))
            return ("ident", value)
        if kind == "op" and value == "(":
            node = self.expr()
            self.expect(")")
            return node
        if kind == "op" and value == "[":
            return ("list", self.args("]"))
        raise Unsupported(f"unexpected {value!r}")


def parse(text: str) -> _Node:
    """The rule as a tuple AST; :class:`Unsupported` for what this module cannot run."""
    return _Parser(text).parse()


# --------------------------------------------------------------------------- runtime
_Env = dict[str, Any]  # variable name -> value
_Fn = Callable[[_Env], Any]


class _Duration(datetime.timedelta):
    """A CEL duration, parsed like cel-python's ``DurationType`` (so without loading it)."""


_DURATION_SCALE = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
}
_DURATION_PAT = re.compile(r"^[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+$")
_DURATION_PART = re.compile(r"([0-9]*(\.[0-9]*)?)([a-z]+)")
_DURATION_MAX = 315576000000


def _parse_duration(text: str) -> _Duration:
    if not _DURATION_PAT.match(text):
        raise ValueError(text)
    sign = -1 if text.startswith("-") else 1
    if text[:1] in "+-":
        text = text[1:]
    seconds = sign * math.fsum(
        float(m.group(1)) * _DURATION_SCALE[m.group(3)] for m in _DURATION_PART.finditer(text)
    )
    if not -_DURATION_MAX <= seconds <= _DURATION_MAX:
        raise ValueError(text)
    return _Duration(seconds=seconds)


def _scalar(a: Any, b: Any) -> bool:
    """Both operands of one type that cel-python compares like Python does."""
    t = type(a)
    return t is type(b) and t in (str, int, float, bool, type(None), _Duration)


def _ordered(a: Any, b: Any) -> bool:
    t = type(a)
    return t is type(b) and t in (str, int, float, _Duration)


def _rel(op: str, a: Any, b: Any) -> bool:
    if op == "==":
        if not _scalar(a, b):
            raise _UNKNOWN.with_traceback(None)
        return bool(a == b)
    if op == "!=":
        if not _scalar(a, b):
            raise _UNKNOWN.with_traceback(None)
        return bool(a != b)
    if op == "in":
        if type(b) is list or type(b) is dict:
            for c in b:
                if not _scalar(c, a):
                    raise _UNKNOWN.with_traceback(None)
                if c == a:
                    return True
            return False
        raise _UNKNOWN.with_traceback(None)
    if not _ordered(a, b):
        raise _UNKNOWN.with_traceback(None)
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    return bool(a >= b)


def _arith(op: str, a: Any, b: Any) -> Any:
    ta = type(a)
    if ta is not type(b):
        raise _UNKNOWN.with_traceback(None)
    if ta is int and op in ("+", "-"):
        out = a + b if op == "+" else a - b
        if not _INT64_MIN <= out <= _INT64_MAX:
            raise _UNKNOWN.with_traceback(None)  # cel-python: an overflow error
        return out
    if op == "+" and (ta is str or ta is list):
        return a + b
    raise _UNKNOWN.with_traceback(None)


def _eval_both(fa: _Fn, fb: _Fn, env: _Env) -> tuple[Any, Any]:
    """Evaluate both operands (cel-python always does); an error becomes ``_ERR``."""
    try:
        a = fa(env)
    except _Err:
        a = _ERR
    try:
        b = fb(env)
    except _Err:
        b = _ERR
    return a, b


def _split(s: Any, sep: Any, limit: Any = -1) -> list[str]:
    if type(s) is not str or type(sep) is not str or type(limit) is not int or sep == "":
        raise _UNKNOWN.with_traceback(None)
    n = limit
    return [] if n == 0 else s.split(sep, n - 1 if n > 0 else -1)


def _str_method(fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(s: Any, *args: Any) -> Any:
        if type(s) is not str or any(type(a) is not str for a in args):
            raise _UNKNOWN.with_traceback(None)
        return fn(s, *args)

    return call


_REGEX_CACHE: dict[str, Any] = {}


def _matches(s: str, pattern: str) -> bool:
    regex = _REGEX_CACHE.get(pattern)
    if regex is None:
        # cel-python's own regex engine (RE2 syntax, like cel-go)
        import re2

        try:
            regex = re2.compile(pattern)
        except Exception as exc:  # re2.error: cel-python reports an error
            raise _UNKNOWN.with_traceback(None) from exc
        _REGEX_CACHE[pattern] = regex
    return regex.search(s) is not None


def _size(x: Any) -> int:
    t = type(x)
    if t is str or t is list or t is dict:
        return len(x)
    raise _UNKNOWN.with_traceback(None)


def _ascii_case(s: str, upper: bool) -> str:
    return "".join((c.upper() if upper else c.lower()) if c.isascii() else c for c in s)


# name -> (allowed argument counts excluding the receiver, implementation)
_METHODS: dict[str, tuple[tuple[int, ...], Callable[..., Any]]] = {
    "size": ((0,), _size),
    "startsWith": ((1,), _str_method(lambda s, p: s.startswith(p))),
    "endsWith": ((1,), _str_method(lambda s, p: s.endswith(p))),
    "contains": ((1,), _str_method(lambda s, p: p in s)),
    "matches": ((1,), _str_method(_matches)),
    "split": ((1, 2), _split),
    "lowerAscii": ((0,), _str_method(lambda s: _ascii_case(s, upper=False))),
    "upperAscii": ((0,), _str_method(lambda s: _ascii_case(s, upper=True))),
    "trim": ((0,), _str_method(lambda s: s.strip())),
}


def _duration(s: Any) -> Any:
    if type(s) is not str:
        raise _UNKNOWN.with_traceback(None)
    try:
        return _parse_duration(s)
    except Exception as exc:  # cel-python: an error value (or, out of range, an exception)
        raise _UNKNOWN.with_traceback(None) from exc


_FUNCTIONS: dict[str, tuple[tuple[int, ...], Callable[..., Any]]] = {
    "size": ((1,), _size),
    "duration": ((1,), _duration),
}
_MACROS = {"all", "exists", "exists_one", "filter", "map"}


def _iterable(x: Any) -> Any:
    if type(x) is list or type(x) is dict:
        return x  # a map iterates its keys
    raise _UNKNOWN.with_traceback(None)


def _may_raise(node: _Node) -> bool:
    """Whether cel-python may raise a Python exception out of the whole evaluation while
    evaluating ``node`` (rather than produce an error value that ``&&``/``||`` absorb):
    the macros (an error in ``exists_one``/``filter``/``map``, a non-iterable target),
    ``duration()`` (OverflowError), unary minus (OverflowError on durations) and
    ``split()`` with a computed limit."""
    kind = node[0]
    if kind in ("lit", "ident"):
        return False
    if kind == "neg":
        return True
    if kind == "call":
        _, name, target, args = node
        if target is not None and name in _MACROS:
            return True
        if target is None and name not in ("has", "dyn", "size"):
            return True
        if target is not None and name not in _METHODS:
            return True
        if name == "split" and len(args) == 2 and args[1][0] != "lit":
            return True  # int(limit) raises OverflowError for an infinite double
        return any(_may_raise(n) for n in ((target,) if target is not None else ()) + tuple(args))
    if kind == "list":
        return any(_may_raise(n) for n in node[1])
    if kind == "select":
        return _may_raise(node[1])
    if kind == "op":
        return _may_raise(node[2]) or _may_raise(node[3])
    return any(_may_raise(n) for n in node[1:] if isinstance(n, tuple))


def _compile(node: _Node, scope: frozenset[str]) -> _Fn:
    kind = node[0]
    if kind == "lit":
        value = node[1]
        return lambda env: value
    if kind == "ident":
        name = node[1]
        if name not in scope:
            raise Unsupported(f"identifier {name}")
        return lambda env: env[name]
    if kind == "list":
        items = [_compile(n, scope) for n in node[1]]
        if all(n[0] == "lit" for n in node[1]):
            const = [n[1] for n in node[1]]
            return lambda env: const

        def make_list(env: _Env) -> list[Any]:
            out, failed = [], False
            for f in items:
                try:
                    out.append(f(env))
                except _Err:
                    failed = True
            if failed:
                raise _ERR.with_traceback(None)
            return out

        return make_list
    if kind == "select":
        operand, field = _compile(node[1], scope), node[2]

        def select(env: _Env) -> Any:
            v = operand(env)
            if type(v) is dict:
                try:
                    return v[field]
                except KeyError:
                    raise _ERR.with_traceback(None) from None
            raise _ERR.with_traceback(None)

        return select
    if kind == "index":
        fo, fi = _compile(node[1], scope), _compile(node[2], scope)

        def index(env: _Env) -> Any:
            v, i = _eval_both(fo, fi, env)
            if v is _ERR or i is _ERR:
                raise _ERR.with_traceback(None)
            if type(v) is list and type(i) is int:
                if 0 <= i < len(v):
                    return v[i]
                if i >= len(v):
                    raise _ERR.with_traceback(None)
            elif type(v) is dict and type(i) is str:
                try:
                    return v[i]
                except KeyError:
                    raise _ERR.with_traceback(None) from None
            raise _UNKNOWN.with_traceback(None)

        return index
    if kind == "not":
        operand = _compile(node[1], scope)

        def not_(env: _Env) -> bool:
            v = operand(env)
            if type(v) is bool:
                return not v
            raise _UNKNOWN.with_traceback(None)

        return not_
    if kind == "neg":
        operand = _compile(node[1], scope)

        def neg(env: _Env) -> Any:
            v = operand(env)
            if type(v) is int and v != _INT64_MIN:
                return -v
            if type(v) is float:
                return -v
            raise _UNKNOWN.with_traceback(None)

        return neg
    if kind in ("and", "or"):
        fa, fb = _compile(node[1], scope), _compile(node[2], scope)
        decisive = kind == "or"  # the value that decides: true for ||, false for &&
        # the same value, never compared: `x is decisive` narrows decisive to x's type for mypy
        outcome: bool = decisive
        if not _may_raise(node[2]):
            # cel-python evaluates both sides, but when the left one decides, the right one
            # can only change the outcome by raising out of the rule, which it cannot.
            def short_circuit(env: _Env) -> bool:
                try:
                    a = fa(env)
                except _Err:
                    a = _ERR
                if a is decisive:
                    return outcome
                try:
                    b = fb(env)
                except _Err:
                    b = _ERR
                if (a is not _ERR and type(a) is not bool) or (b is not _ERR and type(b) is not bool):
                    raise _UNKNOWN.with_traceback(None)
                if b is decisive:
                    return outcome
                if a is _ERR or b is _ERR:
                    raise _ERR.with_traceback(None)
                return not decisive

            return short_circuit

        def logic(env: _Env) -> bool:
            a, b = _eval_both(fa, fb, env)
            if (a is not _ERR and type(a) is not bool) or (b is not _ERR and type(b) is not bool):
                raise _UNKNOWN.with_traceback(None)
            if a is decisive or b is decisive:
                return outcome
            if a is _ERR or b is _ERR:
                raise _ERR.with_traceback(None)
            return not decisive

        return logic
    if kind == "cond":
        fc, fy, fn = (_compile(n, scope) for n in node[1:])

        def cond(env: _Env) -> Any:
            try:
                c = fc(env)
            except _Err:
                raise _UNKNOWN.with_traceback(None) from None  # cel-python still evaluates a branch here
            if type(c) is not bool:
                raise _UNKNOWN.with_traceback(None)
            return fy(env) if c else fn(env)

        return cond
    if kind == "op":
        op = node[1]
        fa, fb = _compile(node[2], scope), _compile(node[3], scope)
        if op in _RELOPS:

            def relation(env: _Env) -> bool:
                a, b = _eval_both(fa, fb, env)
                if a is _ERR or b is _ERR:
                    raise _ERR.with_traceback(None)
                return _rel(op, a, b)

            return relation
        if op in ("+", "-"):

            def arith(env: _Env) -> Any:
                a, b = _eval_both(fa, fb, env)
                if a is _ERR or b is _ERR:
                    raise _ERR.with_traceback(None)
                return _arith(op, a, b)

            return arith
        raise Unsupported(f"operator {op}")
    if kind == "call":
        return _compile_call(node, scope)
    raise Unsupported(kind)


def _compile_call(node: _Node, scope: frozenset[str]) -> _Fn:
    _, name, target, args = node
    if target is None:
        if name == "has" and len(args) == 1:
            inner = _compile(args[0], scope)

            def has(env: _Env) -> bool:
                try:
                    inner(env)
                except _Err:
                    return False
                return True

            return has
        if name == "dyn" and len(args) == 1:
            return _compile(args[0], scope)
        if name not in _FUNCTIONS or len(args) not in _FUNCTIONS[name][0]:
            raise Unsupported(f"function {name}/{len(args)}")
        impl = _FUNCTIONS[name][1]
        fargs = [_compile(a, scope) for a in args]

        def function(env: _Env) -> Any:
            values, failed = [], False
            for f in fargs:
                try:
                    values.append(f(env))
                except _Err:
                    failed = True
            if failed:
                raise _ERR.with_traceback(None)
            return impl(*values)

        return function
    if name in _MACROS:
        return _compile_macro(name, target, args, scope)
    if name not in _METHODS or len(args) not in _METHODS[name][0]:
        raise Unsupported(f"method {name}/{len(args)}")
    impl = _METHODS[name][1]
    ftarget = _compile(target, scope)
    fargs = [_compile(a, scope) for a in args]

    def method(env: _Env) -> Any:
        failed = False
        try:
            obj = ftarget(env)
        except _Err:
            obj, failed = None, True
        values = []
        for f in fargs:
            try:
                values.append(f(env))
            except _Err:
                failed = True
        if failed:
            raise _ERR.with_traceback(None)
        return impl(obj, *values)

    return method


def _compile_macro(name: str, target: _Node, args: tuple[_Node, ...], scope: frozenset[str]) -> _Fn:
    if len(args) != 2 or args[0][0] != "ident":
        raise Unsupported(f"macro {name}/{len(args)}")
    var = args[0][1]
    ftarget = _compile(target, scope)
    pred = _compile(args[1], scope | {var})

    def bind(env: _Env) -> tuple[Any, Any]:
        return _iterable(ftarget(env)), env.get(var, _MISSING)

    def restore(env: _Env, saved: Any) -> None:
        if saved is _MISSING:
            env.pop(var, None)
        else:
            env[var] = saved

    if name in ("all", "exists"):
        decisive = name == "exists"

        def fold(env: _Env) -> bool:
            items, saved = bind(env)
            seen_err = seen_decisive = False
            try:
                for item in items:
                    env[var] = item
                    try:
                        r = pred(env)
                    except _Err:
                        seen_err = True
                        continue
                    if type(r) is not bool:
                        raise _UNKNOWN.with_traceback(None)
                    if r is decisive:
                        seen_decisive = True
            finally:
                restore(env, saved)
            if seen_decisive:
                return decisive
            if seen_err:
                raise _ERR.with_traceback(None)
            return not decisive

        return fold

    def each(env: _Env) -> Any:
        items, saved = bind(env)
        results = []
        try:
            for item in items:
                env[var] = item
                try:
                    r = pred(env)
                except _Err:
                    raise _UNKNOWN.with_traceback(None) from None  # cel-python raises out of the whole rule
                results.append((item, r))
        finally:
            restore(env, saved)
        if name == "map":
            return [r for _, r in results]
        if any(type(r) is not bool for _, r in results):
            raise _UNKNOWN.with_traceback(None)
        if name == "filter":
            return [item for item, r in results if r]
        return sum(1 for _, r in results if r) == 1  # exists_one

    return each


_MISSING = object()


def compile_rule(text: str) -> Callable[[Any], bool]:
    """``check(self_value)``: returns True when the rule holds for ``self_value`` (plain
    JSON-like values: dict, list, str, int, float for schema numbers, bool, None, with
    property names escaped); raises :class:`Unknown` otherwise. :class:`Unsupported` at
    compile time for rules this module cannot run."""
    fn = _compile(parse(text), frozenset({"self"}))

    def check(value: Any) -> bool:
        try:
            result = fn({"self": value})
        except _Err:
            raise _UNKNOWN.with_traceback(None) from None
        if result is True:
            return True
        raise _UNKNOWN.with_traceback(None)

    return check


def try_compile(text: str) -> Callable[[Any], bool] | None:
    try:
        return compile_rule(text)
    except (Unsupported, RecursionError):
        return None
