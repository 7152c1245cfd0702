"""The one result type of every command and how it is spelled.

``gen validate``, ``gen render`` and ``gen check`` all report an ``Issue``::

    FILE:LINE:COL: [Kind/name: ]path: message

A rule that looks at one object without knowing where it came from returns a ``Problem``
(Kind/name, path, message); ``Finding`` places a ``Problem`` in a cluster's sequence of
resources. The caller that knows the file turns either into an ``Issue``. Paths are
spelled once, by ``format_path``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any

CLIP = 60  # characters of a value shown in a message
MAX_MESSAGE = 1000  # characters of any message (a safety net under CLIP)

PathPart = str | int
SpecPath = tuple[PathPart, ...]

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def format_path(parts: Iterable[PathPart]) -> str:
    """``("models", 1, "accelerator")`` -> ``models[1].accelerator``; a key that is not a
    plain identifier is quoted as in JSONPath: ``metadata.labels["app.kubernetes.io/name"]``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            out += f".{part}" if out else part
        else:
            out += '["' + part.replace("\\", "\\\\").replace('"', '\\"') + '"]'
    return out


@dataclass(frozen=True)
class Issue:
    """A problem at a place in an input file; line and column are 1-based (0 or None
    when unknown). ``kind``/``name`` name the Kubernetes resource, when there is one;
    ``check`` says which part of gen found it ("spec" for the models.yaml rules)."""

    file: str
    line: int | None
    column: int | None
    path: str
    message: str
    kind: str | None = None
    name: str | None = None
    check: str = "spec"
    order: int = -1  # the resource's position in its file, for sorting
    document: str = ""  # "document 2", "document 1, List item 3"

    def __post_init__(self) -> None:
        # a message quoting a huge value is cut in the middle: errors never print kilobytes
        if len(self.message) > MAX_MESSAGE:
            keep = MAX_MESSAGE // 2
            object.__setattr__(self, "message", f"{self.message[:keep]}…{self.message[-keep:]}")

    @property
    def col(self) -> int:
        return self.column or 0

    def where(self) -> str:
        if not self.line:
            return self.file
        return f"{self.file}:{self.line}" + (f":{self.column}" if self.column is not None else "")

    def format(self) -> str:
        parts = [self.where()]
        if self.kind is not None:
            parts.append(f"{self.kind}/{self.name}")
        elif self.document:
            parts.append(self.document)
        if self.path:
            parts.append(self.path)
        return ": ".join([*parts, self.message])

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "order"}

    def sort_key(self) -> tuple[str, int, int, int, str, str]:
        return (self.file, self.order, self.line or 0, self.column or 0, self.path, self.message)


@dataclass(frozen=True)
class Problem:
    """One violation in one resource, before it is placed in a file."""

    kind: str
    name: str
    path: str
    message: str

    def format(self) -> str:
        where = f"{self.kind}/{self.name}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


@dataclass(frozen=True)
class Finding:
    """A Problem of the ``index``-th resource of cluster ``scope`` (cross-resource checks)."""

    scope: str
    index: int
    problem: Problem
    check: str = "reference"  # or "lint", "operational"


class SpecError(Exception):
    """Raised by library entry points when the input spec is invalid."""

    def __init__(self, diagnostics: list[Issue]):
        super().__init__("\n".join(d.format() for d in diagnostics))
        self.diagnostics = diagnostics


def clip(value: object, limit: int = CLIP) -> str:
    """``repr`` of a value from the user's file, at most about ``limit`` characters: a
    long value keeps its start and end and says how long it is (an error once printed
    a 7.6 KB name in full)."""
    shown = repr(value)
    if len(shown) <= limit:
        return shown
    size = f"{len(value):,} characters" if isinstance(value, str) else f"{len(shown):,} characters as text"
    head = (limit * 2) // 3
    tail = limit - head - 1
    return f"{shown[:head]}…{shown[-tail:]} ({size})"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
