"""A line-by-line reader of the block YAML gen's charts render, the serve configs inside
them, and specs written the same way.

Parsing Helm's output was as costly as rendering it: libyaml scans fast, but PyYAML
then makes a Python node (and two marks) for every scalar before anything is built.
Helm's output of gen's charts is a narrow subset of YAML: block mappings and sequences
one entry per line, plain and quoted one-line scalars, literal block scalars (`|`, `|-`,
`|+`), one-line flow sequences and mappings of scalars, and comments. This reads that
subset straight from the lines, 2.5-3x faster than libyaml with the cheapest
construction (the 4,001 documents of a 1,000-model fleet: 0.34 s against 0.93 s; a
1,000-model spec: 12 ms against 112 ms for the spec loader's event-by-event read).

It never guesses: anything outside the subset (escapes, multi-line scalars, anchors,
tags, nested flow collections, folded scalars, tabs, odd indentation, control or
line-break characters libyaml treats specially...) raises Unsupported, and the caller
reads that text with libyaml, so results and errors are exactly yaml.CSafeLoader's.
Plain scalars are resolved by PyYAML's own YAML 1.1 implicit resolvers and built by
SafeConstructor; short strings are interned as render.manifests._Loader does.
tests/test_blockread.py compares it with libyaml on edge cases, generated documents and
edits of rendered output; tests/test_spec_fastload.py the spec loader's two paths.
"""

from __future__ import annotations

import functools
import re
import sys
from typing import Any

import yaml

__all__ = ["Unsupported", "load"]


class Unsupported(Exception):
    """The text uses YAML this reader leaves to libyaml."""


# Characters outside what libyaml reads as printable text on a line (its reader
# rejects control characters; \r, \x85, \u2028, \u2029 break lines; \ufeff is a BOM):
# the whole text then goes to libyaml. The first pattern is the same test for ASCII.
_ODD_ASCII = re.compile("[^\n\x20-\x7e]")
_ODD = "[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
_MARKERS = ("---", "...", "%")  # document markers and directives, at a line's start


@functools.cache
def _odd() -> re.Pattern[str]:
    """The non-ASCII test, compiled when first needed (7 ms: `gen validate` starts
    without it for an ASCII spec)."""
    return re.compile(_ODD)


# first characters a one-line plain scalar (or key) cannot have, or that this reader
# leaves to libyaml ("-" is allowed when a non-space follows, as in "-1")
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
_FLOW_ODD = re.compile("[][{}'\"]")
_STR = "tag:yaml.org,2002:str"
_NOT_SCALAR = frozenset({"tag:yaml.org,2002:merge", "tag:yaml.org,2002:value"})
_RESOLVERS = yaml.resolver.Resolver.yaml_implicit_resolvers
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_MAX_KEY = 1024  # libyaml's longest implicit key
_SCALARS: dict[str, Any] = {}  # plain scalar text -> value
_KEY_LINES: dict[str, tuple[Any, Any]] = {}  # "key: scalar" line (unindented) -> key, value
_MUTABLE = (dict, list)
_MEMO_LIMIT = 65536
_intern = sys.intern


def _short(text: str) -> str:
    return _intern(text) if len(text) < 128 else text


def _plain(text: str) -> Any:
    """A plain scalar's value: resolved by PyYAML's implicit resolvers (YAML 1.1: yes,
    on, 0x1f, 1_000, ~ ...) and built by SafeConstructor, memoized by its text."""
    try:
        return _SCALARS[text]
    except KeyError:
        pass
    tag = _STR
    for candidate, regexp in _RESOLVERS.get(text[:1], []) + _RESOLVERS.get(None, []):
        if regexp.match(text):
            tag = candidate
            break
    if tag in _NOT_SCALAR:
        raise Unsupported
    if tag == _STR:
        value: Any = _short(text)
    else:
        try:
            value = _CONSTRUCTOR.yaml_constructors[tag](_CONSTRUCTOR, yaml.ScalarNode(tag, text))
        except (ValueError, OverflowError):  # e.g. 2002-02-30: libyaml's error, if any, wins
            raise Unsupported from None
    if len(_SCALARS) < _MEMO_LIMIT:
        _SCALARS[text] = value
    return value


def _plain_ok(text: str) -> bool:
    """Whether ``text`` is read as one plain scalar in block context."""
    c = text[0]
    if c in _INDICATORS and not (c == "-" and len(text) > 1 and text[1] != " "):
        return False
    return ": " not in text and " #" not in text and text[-1] != ":"


def _quoted(text: str) -> str:
    """A one-line quoted scalar without escapes ('' in single quotes)."""
    q = text[0]
    body = text[1:-1]
    if len(text) < 2 or text[-1] != q or "\\" in body:
        raise Unsupported
    if q == "'":
        if "'" in body.replace("''", ""):
            raise Unsupported
        body = body.replace("''", "'")
    elif '"' in body:
        raise Unsupported
    return _short(body)


def _flow_seq(inner: str) -> list[Any]:
    """A one-line flow sequence of double-quoted and plain scalars, e.g. ["ALL"]."""
    if not inner.strip(" "):
        return []
    out: list[Any] = []
    for part in inner.split(","):  # a comma inside quotes leaves an unclosed quote: Unsupported
        out.append(_flow_item(part.strip(" ")))
    return out


def _flow_item(text: str) -> Any:
    """A double-quoted or plain scalar inside a one-line flow collection."""
    if text[:1] == '"':
        return _quoted(text)
    if text and _plain_ok(text) and not _FLOW_ODD.search(text) and ":?" not in text:  # libyaml: ":?" ends it
        return _plain(text)
    raise Unsupported


def _flow_map(inner: str) -> dict[Any, Any]:
    """A one-line flow mapping of plain keys and double-quoted or plain values, e.g.
    {type: nvidia-l4, count: 2}."""
    out: dict[Any, Any] = {}
    if not inner.strip(" "):
        return out
    for part in inner.split(","):  # a comma inside quotes leaves an unclosed quote: Unsupported
        item = part.strip(" ")
        k = item.find(": ")
        if k <= 0 or item[k - 1] == " " or ":" in item[:k]:
            raise Unsupported
        key = _flow_item(item[:k])
        if key in out or item[:k][0] == '"':
            raise Unsupported  # a repeated key (libyaml keeps the last), a quoted key
        out[key] = _flow_item(item[k + 2 :].strip(" "))
    return out


def _scalar(rest: str) -> Any:
    """The value written after a key or a dash, on the same line."""
    c = rest[0]
    if c == '"' or c == "'":
        return _quoted(rest)
    if c == "{" and rest[-1] == "}":
        return _flow_map(rest[1:-1])
    if c == "[" and rest[-1] == "]":
        return _flow_seq(rest[1:-1])
    if not _plain_ok(rest):
        raise Unsupported
    return _plain(rest)


def _quote_end(text: str) -> int:
    """Where the quoted scalar ``text`` starts with closes (a '' inside single quotes is
    a quote, not the end); -1 if not on this line."""
    q = text[0]
    end = text.find(q, 1)
    while q == "'" and end > 0 and text[end + 1 : end + 2] == "'":
        end = text.find(q, end + 2)
    return end


def _uncommented(rest: str) -> str:
    """``rest`` without a comment after its scalar ("a  # why", "'x' # why"); a "#"
    starts a comment only after a space. Unsupported where that is not clear-cut."""
    c = rest[0]
    if c == '"' or c == "'":
        end = _quote_end(rest)
        if end < 0 or "\\" in rest[:end]:
            raise Unsupported
        tail = rest[end + 1 :]
        if not tail.strip(" "):
            return rest  # the " #" was inside the quotes
        if not tail.startswith(" ") or tail.lstrip(" ")[:1] != "#":
            raise Unsupported
        return rest[: end + 1]
    if c == "[" or c == "{":
        raise Unsupported
    k = rest.find(" #")
    return rest if k < 0 else rest[:k].rstrip(" ")


def _is_dash(s: str) -> bool:
    return s[:2] == "- " or s == "-"


class _Reader:
    """Recursive descent over the lines; ``i`` is the next line to read, ``strs[i]``
    its text after the indentation."""

    __slots__ = ("i", "lines", "n", "strs", "unique")

    def __init__(self, lines: list[str], unique: bool) -> None:
        self.lines = lines
        self.strs = [line.lstrip(" ") for line in lines]
        self.n = len(lines)
        self.i = 0
        self.unique = unique  # a repeated key is refused (libyaml keeps the last)

    def skip(self) -> int:
        """Move to the next line with content (not blank, not a comment)."""
        strs, i, n = self.strs, self.i, self.n
        while i < n and (not strs[i] or strs[i][0] == "#"):
            i += 1
        self.i = i
        return i

    def node(self, indent: int) -> Any:
        """The block collection whose first entry is line ``i``, at column ``indent``."""
        if _is_dash(self.strs[self.i]):
            return self.seq(indent)
        return self.map(indent)

    def nested(self, owner: int, indentless: bool) -> Any:
        """The value of a key or dash at column ``owner`` with nothing after it on its
        line: a collection on the next lines, or null. A key's sequence may sit at the
        key's own column (``indentless``)."""
        self.i += 1
        i = self.skip()
        if i >= self.n:
            return None
        col = len(self.lines[i]) - len(self.strs[i])
        if col > owner:
            return self.node(col)
        if col == owner and indentless and _is_dash(self.strs[i]):
            return self.seq(col)
        return None

    def map(self, indent: int) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        lines, strs, n = self.lines, self.strs, self.n
        cache = _KEY_LINES
        unique = self.unique
        i = self.i
        while i < n:
            s = strs[i]
            if not s or s[0] == "#":
                i += 1
                continue
            col = len(lines[i]) - len(s)
            if col != indent:
                if col < indent:
                    break  # the parent goes on
                raise Unsupported
            hit = cache.get(s)
            if hit is not None:  # "key: scalar" read before
                if unique and hit[0] in out:
                    raise Unsupported
                out[hit[0]] = hit[1]
                i += 1
                continue
            c = s[0]
            if c == "-" and _is_dash(s):
                break  # the parent's indentless sequence goes on (or libyaml's error)
            key: Any
            if c == '"' or c == "'":
                end = _quote_end(s)
                if end < 0 or s[end + 1 : end + 2] != ":":
                    raise Unsupported
                key = _quoted(s[: end + 1])
                rest = s[end + 2 :]
                if rest and rest[0] != " ":
                    raise Unsupported
            else:
                k = s.find(": ")
                if k < 0:
                    if s[-1] != ":":
                        raise Unsupported  # a multi-line plain scalar, or an error
                    k = len(s) - 1
                text = s[:k]
                if not text or text[-1] == " " or not _plain_ok(text):
                    raise Unsupported
                key = _plain(text)
                rest = s[k + 1 :]
            if len(s) - len(rest) >= _MAX_KEY or (unique and key in out):
                raise Unsupported
            rest = rest.strip(" ")
            if rest[:1] == "#":
                rest = ""  # "key:  # why": its value starts on the next line, or is null
            elif " #" in rest:
                rest = _uncommented(rest)
            if not rest:
                self.i = i
                out[key] = self.nested(col, True)
                i = self.i
            elif rest[0] == "|":
                self.i = i
                out[key] = self.literal(rest, col)
                i = self.i
            else:
                value = _scalar(rest)
                out[key] = value
                if len(cache) < _MEMO_LIMIT and type(value) not in _MUTABLE:
                    cache[s] = (key, value)
                i += 1
        self.i = i
        return out

    def seq(self, indent: int) -> list[Any]:
        out: list[Any] = []
        lines, strs, n = self.lines, self.strs, self.n
        while self.skip() < n:
            i = self.i
            s = strs[i]
            col = len(lines[i]) - len(s)
            if col < indent or not _is_dash(s):
                return out  # an indentless sequence ends at its mapping's next key
            if col > indent:
                raise Unsupported
            rest = s[1:].lstrip(" ")
            if not rest:
                out.append(self.nested(col, False))
                continue
            c = rest[0]
            if c == "#":
                raise Unsupported  # a comment after the dash: a null item
            if c == "|":
                out.append(self.literal(rest, col))
                continue
            if c == "-":
                compact = _is_dash(rest)
            elif c == '"' or c == "'":
                end = _quote_end(rest)
                compact = end > 0 and rest[end + 1 : end + 2] == ":" and rest[end + 2 : end + 3] in ("", " ")
            elif c == "{" or c == "[":
                compact = False
            else:
                compact = ": " in rest or rest[-1] == ":"
            if compact:
                # a collection begun on the dash's line: read it as if its first entry
                # had a line of its own, at its column
                inner = len(lines[i]) - len(rest)
                lines[i] = " " * inner + rest
                strs[i] = rest
                out.append(self.node(inner))
                continue
            value = rest.rstrip(" ")  # not rest itself: inner was measured on it
            out.append(_scalar(_uncommented(value) if " #" in value else value))
            self.i += 1
        return out

    def literal(self, header: str, owner: int) -> str:
        """A literal block scalar after its key or dash at column ``owner``: libyaml's
        auto-detected indentation and chomping (clip, strip "-", keep "+")."""
        if header not in ("|", "|-", "|+"):
            raise Unsupported  # an indentation indicator, a comment
        lines, n = self.lines, self.n
        start = self.i + 1
        first = start
        leading = 0
        while first < n and not lines[first].strip(" "):
            leading = max(leading, len(lines[first]))
            first += 1
        if first >= n:
            raise Unsupported
        indent = len(lines[first]) - len(lines[first].lstrip(" "))
        if indent <= owner or leading > indent:
            raise Unsupported  # an empty scalar, or leading lines libyaml rejects
        rows = [""] * (first - start)
        pad = " " * indent
        k = last = first
        while k < n:
            line = lines[k]
            if line.startswith(pad):
                rows.append(line[indent:])
                if len(line) > indent:
                    last = k
            elif not line.strip(" "):
                rows.append("")  # an empty line (fewer spaces than the indentation)
            else:
                break
            k += 1
        self.i = k
        text = "\n".join(rows[: last - start + 1])
        if header == "|-" or last == n - 1:  # stripped, or no line break after the text
            return text
        if header == "|":
            return text + "\n"
        # kept: the last line's break and each following empty line's (the text's very
        # last line has none)
        return text + "\n" * (min(k, n - 1) - last)


def load(text: str, *, unique_keys: bool = False) -> Any:
    """One YAML document as yaml.load(text, Loader=yaml.CSafeLoader) gives it (None
    for a document with no content); raises Unsupported for anything else, and with
    ``unique_keys`` for a mapping that repeats a key."""
    if (_ODD_ASCII if text.isascii() else _odd()).search(text) or "\n---" in text or "\n..." in text:
        raise Unsupported
    if "\n%" in text or text.startswith(_MARKERS):
        raise Unsupported
    reader = _Reader(text.split("\n"), unique_keys)
    if reader.skip() >= reader.n:
        return None
    if reader.lines[reader.i][0] == " ":
        raise Unsupported
    try:
        out = reader.node(0)
    except RecursionError:
        raise Unsupported from None
    if reader.skip() < reader.n:
        raise Unsupported  # content after the top-level node: libyaml's error
    return out
