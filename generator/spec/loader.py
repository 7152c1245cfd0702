"""Safe YAML loading that keeps a position for every node.

The document is built from the parser's *events* (libyaml's C parser when
available), never from PyYAML's constructors, so no tag can ever construct an
object. Anchors/aliases and merge keys are refused outright: a config file has
no need for them, and refusing them makes alias bombs impossible.
"""

from __future__ import annotations

import gc
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple, cast

import yaml

from .. import blockread
from ..diagnostics import Issue, SpecPath, format_path

MAX_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 64
# Each node costs a few microseconds and a few hundred bytes; the biggest fleet in
# bench/ (10,000 models) has ~520,000. Keep a hostile file within seconds and MBs.
MAX_EVENTS = 1_000_000

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STD = "tag:yaml.org,2002:"
_ALLOWED_TAGS = {_STD + t for t in ("str", "int", "float", "bool", "null", "map", "seq")}
# the stubs leave Resolver.resolve untyped: (node class, scalar text, (plain, quoted)) -> tag
_resolve = cast(
    "Callable[[type[yaml.ScalarNode], str, tuple[bool, bool]], str]", yaml.resolver.Resolver().resolve
)
_constructor = yaml.constructor.SafeConstructor()


class Pos(NamedTuple):
    """Where a value (and, for mapping values, its key) starts; 1-based. (A NamedTuple,
    not a frozen dataclass: one is built per node, and that __init__ is 3x slower.)"""

    line: int
    col: int
    key_line: int
    key_col: int
    raw: str | None = None  # source text of a plain (unquoted) scalar


@dataclass
class Document:
    file: str
    data: Any
    positions: dict[SpecPath, Pos]
    # False when the text has no token YAML 1.1 could read as an octal or base-60 integer
    # (spec._ambiguous_ints then has nothing to look at)
    maybe_ambiguous_ints: bool = True

    def pos(self, path: SpecPath, *, key: bool = False) -> tuple[int, int]:
        """Position of ``path`` or of its nearest existing ancestor."""
        p = tuple(path)
        while p not in self.positions and p:
            p = p[:-1]
        found = self.positions.get(p)
        if found is None:
            return (1, 1)
        return (found.key_line, found.key_col) if key else (found.line, found.col)

    def diag(self, path: SpecPath, message: str, *, key: bool = False) -> Issue:
        line, col = self.pos(path, key=key)
        return Issue(self.file, line, col, format_path(path), message)


class LoadError(Exception):
    def __init__(self, diagnostic: Issue):
        super().__init__(diagnostic.format())
        self.diagnostic = diagnostic


class LimitExceeded(LoadError):
    """One of gen's own size limits (depth, node count) tripped."""


def _mark(m: Any) -> tuple[int, int]:
    return (m.line + 1, m.column + 1) if m is not None else (1, 1)


@lru_cache(maxsize=4096)
def _implicit_tag(value: str) -> str:
    """Tag of a plain scalar (the resolver tries a regex per candidate type)."""
    return _resolve(yaml.ScalarNode, value, (True, False))


def _scalar(event: yaml.ScalarEvent, file: str, where: Callable[[], SpecPath]) -> Any:
    tag = event.tag
    if tag in (None, "!"):
        if not event.implicit[0]:  # quoted or block scalar: a string, nothing to resolve
            return event.value
        tag = _implicit_tag(event.value)
        if tag == _STD + "str":
            return event.value
    path = where()  # only needed for messages: built lazily
    if tag == _STD + "timestamp":
        line, col = _mark(event.start_mark)
        raise LoadError(
            Issue(
                file,
                line,
                col,
                format_path(path),
                f'YAML reads {event.value!r} as a date; quote it: "{event.value}"',
            )
        )
    if tag == _STD + "merge":
        line, col = _mark(event.start_mark)
        raise LoadError(
            Issue(file, line, col, "", "YAML merge keys (<<) are not supported; write the keys out")
        )
    if tag not in _ALLOWED_TAGS or tag in (_STD + "map", _STD + "seq"):
        line, col = _mark(event.start_mark)
        raise LoadError(
            Issue(
                file,
                line,
                col,
                format_path(path),
                f"YAML tag {event.tag or tag!r} is not allowed; "
                "only plain strings, numbers, booleans and null",
            )
        )
    if tag == _STD + "str":
        return event.value
    # libyaml's marks (yaml._yaml.Mark) have yaml.Mark's fields; the Node stubs name only the latter
    start = cast("yaml.error.Mark | None", event.start_mark)
    end = cast("yaml.error.Mark | None", event.end_mark)
    node = yaml.ScalarNode(tag, event.value, start, end, event.style)
    try:
        value = _constructor.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError) as exc:
        line, col = _mark(event.start_mark)
        raise LoadError(
            Issue(
                file, line, col, format_path(path), f"invalid {tag[len(_STD) :]} value {event.value!r}: {exc}"
            )
        ) from None
    finally:
        # construct_object caches every node it built: without this, each load keeps all
        # its scalar nodes (with their marks) alive for the life of the process
        _constructor.constructed_objects.clear()
    if isinstance(value, float) and not math.isfinite(value):
        line, col = _mark(event.start_mark)
        raise LoadError(
            Issue(
                file,
                line,
                col,
                format_path(path),
                f"{event.value!r} is not a finite number; quote it if you meant a string",
            )
        )
    return value


def _build(events: Any, file: str) -> tuple[Any, dict[SpecPath, Pos]]:
    positions: dict[SpecPath, Pos] = {}
    root: Any = None
    docs = 0
    # stack entries: [container, path, pending_key, pending_key_mark, key_lines]
    stack: list[list[Any]] = []
    count = 0

    def fail(mark: Any, message: str, path: SpecPath = (), error: type[LoadError] = LoadError) -> None:
        line, col = _mark(mark)
        raise error(Issue(file, line, col, format_path(path), message))

    def attach(value: Any, start: Any, raw: str | None) -> bool:
        """Place ``value``; returns False when it was consumed as a mapping key."""
        nonlocal root
        line, col = _mark(start)
        if not stack:
            root = value
            positions[()] = Pos(line, col, line, col, raw)
            return True
        top = stack[-1]
        container, path = top[0], top[1]
        if isinstance(container, list):
            child = path + (len(container),)
            container.append(value)
            positions[child] = Pos(line, col, line, col, raw)
            return True
        if top[2] is _NO_KEY:
            if not isinstance(value, str):
                fail(start, "mapping keys must be strings; quote the key", path)
            if value == "<<":
                fail(start, "YAML merge keys (<<) are not supported; write the keys out", path)
            if value in container:
                first = top[4][value]
                fail(start, f"duplicate key {value!r} (first defined at line {first})", path + (value,))
            top[2], top[3] = value, (line, col)
            return False
        key = top[2]
        child = path + (key,)
        container[key] = value
        top[4][key] = top[3][0]
        positions[child] = Pos(line, col, top[3][0], top[3][1], raw)
        top[2] = _NO_KEY
        return True

    def child_path() -> SpecPath:
        """Path of the node about to be attached (a pending key is its own parent's)."""
        if not stack:
            return ()
        top = stack[-1]
        path: SpecPath = top[1]
        if isinstance(top[0], list):
            return path + (len(top[0]),)
        return path if top[2] is _NO_KEY else path + (top[2],)

    for event in events:
        count += 1
        if count > MAX_EVENTS:
            fail(
                getattr(event, "start_mark", None),
                f"document is too large (more than {MAX_EVENTS} YAML nodes)",
                error=LimitExceeded,
            )
        if isinstance(event, yaml.DocumentStartEvent):
            docs += 1
            if docs > 1:
                fail(event.start_mark, "multiple YAML documents in one file; put one ModelFleet per file")
        elif isinstance(event, yaml.AliasEvent):
            fail(event.start_mark, "YAML aliases (*name) are not supported; repeat the value")
        elif isinstance(event, (yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            if event.anchor is not None:
                fail(event.start_mark, "YAML anchors (&name) are not supported; repeat the value instead")
            if isinstance(event, yaml.ScalarEvent):
                raw = event.value if not event.style else None
                attach(_scalar(event, file, child_path), event.start_mark, raw)
                continue
            if event.tag not in (None, "!", _STD + "map", _STD + "seq"):
                fail(event.start_mark, f"YAML tag {event.tag!r} is not allowed", child_path())
            if len(stack) >= MAX_DEPTH:
                fail(event.start_mark, f"nesting deeper than {MAX_DEPTH} levels", error=LimitExceeded)
            container: Any = {} if isinstance(event, yaml.MappingStartEvent) else []
            if stack and isinstance(stack[-1][0], dict) and stack[-1][2] is _NO_KEY:
                fail(event.start_mark, "mapping keys must be strings; quote the key", stack[-1][1])
            path = child_path()  # before attach, which consumes the pending key
            attach(container, event.start_mark, None)
            stack.append([container, path, _NO_KEY, None, {}])
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            stack.pop()
    if docs == 0 or (root is None and () not in positions):
        raise LoadError(Issue(file, 1, 1, "", "the file is empty; start from `gen init` or an example"))
    return root, positions


_NO_KEY = object()


def _own_limits_first(text: str, exc: yaml.MarkedYAMLError, file: str) -> None:
    """Raise gen's own error when one of gen's limits trips before libyaml's error.

    libyaml's scanner reads ahead (a flow collection may start a simple key), and newer
    libyaml releases stop at a nesting limit of their own, so on ``[[[[...`` libyaml's
    error can come before the event where gen's MAX_DEPTH would trip. Re-reading the text
    up to libyaml's error with PyYAML's pure-Python parser (which has no limit of its own
    and looks ahead at most one simple key, 1,024 characters) reproduces gen's verdict
    whatever the libyaml version. Only error paths pay for it.
    """
    mark = exc.problem_mark
    if mark is None or _Loader is yaml.SafeLoader:
        return
    try:
        _build(yaml.parse(text[: mark.index], Loader=yaml.SafeLoader), file)
    except LimitExceeded:
        raise
    except (LoadError, yaml.YAMLError):
        pass  # the prefix ends mid-construct, or is empty: libyaml's error stands


# Plain integers YAML 1.1 reads unlike YAML 1.2 and unlike people: 0443 (octal: 291),
# 1:30 (base 60: 90); spec._ambiguous_ints reports them.
AMBIGUOUS_INT = r"[-+]?(?:0[0-7_]+|[1-9][0-9_]*(?::[0-5]?[0-9])+)"
# Over-approximates the plain scalars AMBIGUOUS_INT matches: such a token bounded as a
# plain scalar is (after "key: ", "- ", "[", ", " and before the line's end, a comment,
# "," "]" "}" or ":"); a match anywhere, even in a quoted string, is enough.
_INT_CANDIDATE = re.compile(rf"(?:^|[\s\[,{{]){AMBIGUOUS_INT}(?=$|[\s,\]}}:#])", re.M)


class _LazyDocument(Document):
    """A Document read by the fast path: the same data, and positions only when a
    message asks for one (the full event-by-event read then runs once)."""

    def __init__(self, file: str, data: Any, text: str) -> None:
        self.file, self.data, self._text = file, data, text
        self._positions: dict[SpecPath, Pos] | None = None
        self.maybe_ambiguous_ints = _INT_CANDIDATE.search(text) is not None

    @property
    def positions(self) -> dict[SpecPath, Pos]:
        if self._positions is None:
            data, self._positions = _build(yaml.parse(self._text, Loader=_Loader), self.file)
            assert data == self.data, "the fast path read the spec differently"
        return self._positions

    @positions.setter
    def positions(self, value: dict[SpecPath, Pos]) -> None:
        self._positions = value


_FAST_TYPES = (str, int, bool, type(None))


def _plain_tree(data: Any) -> bool:
    """Whether ``data`` is what the event-by-event read accepts and builds: string keys,
    strings, integers, booleans, nulls and finite floats (no dates), within gen's depth
    and size limits."""
    budget = MAX_EVENTS // 2
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        budget -= 1
        if budget < 0 or depth > MAX_DEPTH - 1:
            return False
        if isinstance(node, dict):
            for key, value in node.items():
                if type(key) is not str or key == "<<":
                    return False
                stack.append((value, depth + 1))
        elif isinstance(node, list):
            stack.extend((value, depth + 1) for value in node)
        elif type(node) is float:
            if not math.isfinite(node):
                return False
        elif not isinstance(node, _FAST_TYPES):
            return False  # a date (refused with its own message), anything else
    return True


def _fast_document(text: str, file: str) -> Document | None:
    """The spec read by blockread when its text is in blockread's subset, has no
    repeated key and builds a tree the full read accepts; None: read it event by event.
    A 1,000-model spec: 12 ms instead of 112 ms (positions are for messages only)."""
    try:
        data = blockread.load(text, unique_keys=True)
    except (blockread.Unsupported, RecursionError):
        return None
    if not isinstance(data, dict) or not data or not _plain_tree(data):
        return None
    return _LazyDocument(file, data, text)


def load_text(text: str, file: str) -> Document:
    if text.startswith("\ufeff"):  # a UTF-8 BOM from Windows editors is harmless
        text = text[1:]
    # YAML 1.1 breaks lines at NEL, LS and PS too, editors do not: every position after one
    # would be off by a line, so refuse them (positions below count "\n" only)
    odd = [i for i in (text.find(c) for c in "\x85\u2028\u2029") if i >= 0]
    if odd:
        at = min(odd)
        before = text[:at]
        line, col = before.count("\n") + 1, at - before.rfind("\n")
        raise LoadError(
            Issue(
                file,
                line,
                col,
                "",
                f"U+{ord(text[at]):04X} is a line break in YAML but not in most editors; use a plain newline",
            )
        )
    fast = _fast_document(text, file)
    if fast is not None:
        return fast
    gc_was_enabled = gc.isenabled()
    gc.disable()  # the tree has no cycles; collections while it grows cost O(n) each
    try:
        data, positions = _build(yaml.parse(text, Loader=_Loader), file)
    except yaml.MarkedYAMLError as exc:
        _own_limits_first(text, exc, file)
        line, col = _mark(exc.problem_mark)
        problem = exc.problem or "invalid YAML"
        lines = text.splitlines()
        if (
            exc.problem_mark is not None
            and exc.problem_mark.line < len(lines)
            and "\t" in lines[exc.problem_mark.line]
        ):
            problem += " (a tab: YAML indentation must use spaces)"
        raise LoadError(Issue(file, line, col, "", f"YAML syntax error: {problem}")) from None
    except yaml.reader.ReaderError as exc:
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        before = text[: exc.position]
        line, col = before.count("\n") + 1, exc.position - before.rfind("\n")
        raise LoadError(
            Issue(file, line, col, "", f"control character U+{code:04X} is not allowed in YAML; remove it")
        ) from None
    except yaml.YAMLError as exc:
        raise LoadError(Issue(file, 1, 1, "", f"YAML error: {exc}")) from None
    finally:
        if gc_was_enabled:
            gc.enable()
    if data is None and positions[()].raw == "":  # only `---`: no content at all
        raise LoadError(Issue(file, 1, 1, "", "the file is empty; start from `gen init` or an example"))
    if not isinstance(data, dict):
        kind = {
            list: "a list",
            str: "a string",
            int: "an integer",
            float: "a number",
            bool: "a boolean",
            type(None): "null",
        }.get(type(data), "a scalar")
        raise LoadError(
            Issue(
                file,
                1,
                1,
                "",
                f"the top level is {kind}; a ModelFleet spec must be a mapping (apiVersion, kind, ...)",
            )
        )
    return Document(file, data, positions)


def load_file(path: str | Path) -> Document:
    name = str(path)
    try:
        with open(path, "rb") as fh:  # never read past the limit: /dev/zero, a 2 GiB file
            size = os.fstat(fh.fileno()).st_size
            raw = b"" if size > MAX_BYTES else fh.read((size or MAX_BYTES) + 1)
            if size < len(raw) <= MAX_BYTES:  # grew meanwhile
                raw += fh.read(MAX_BYTES + 1 - len(raw))
    except OSError as exc:
        raise LoadError(Issue(name, 0, 0, "", f"cannot read file: {exc.strerror}")) from None
    if size > MAX_BYTES or len(raw) > MAX_BYTES:
        what = f"{size} bytes" if size > MAX_BYTES else f"more than {MAX_BYTES} bytes"
        raise LoadError(Issue(name, 0, 0, "", f"file is {what}; the limit is {MAX_BYTES} bytes"))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        start = raw.rfind(b"\n", 0, exc.start) + 1  # columns count characters, not bytes
        col = len(raw[start : exc.start].decode("utf-8-sig" if start == 0 else "utf-8")) + 1
        raise LoadError(
            Issue(
                name,
                line,
                col,
                "",
                f"the file is not valid UTF-8 (byte 0x{raw[exc.start]:02x}); save it as UTF-8",
            )
        ) from None
    return load_text(text, name)
