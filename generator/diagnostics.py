"""One error format for every command: ``FILE:LINE:COL: spec.path: message``."""

from __future__ import annotations

from dataclasses import dataclass

CLIP = 60  # characters of a value shown in a message
MAX_MESSAGE = 1000  # characters of any message (a safety net under CLIP)

PathPart = str | int
SpecPath = tuple[PathPart, ...]


def format_path(path: SpecPath) -> str:
    """Render ``("models", 1, "accelerator")`` as ``models[1].accelerator``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.replace("_", "").replace("-", "").isalnum():
            out += f".{part}" if out else part
        else:
            out += f"[{part!r}]"
    return out


@dataclass(frozen=True)
class Diagnostic:
    """A problem in an input file; line and col are 1-based (0 when unknown)."""

    file: str
    line: int
    col: int
    path: str
    message: str

    def __post_init__(self) -> None:
        # a message quoting a huge value is cut in the middle: errors never print kilobytes
        if len(self.message) > MAX_MESSAGE:
            keep = MAX_MESSAGE // 2
            cut = f"{self.message[:keep]}…{self.message[-keep:]}"
            object.__setattr__(self, "message", cut)

    def format(self) -> str:
        where = f"{self.file}:{self.line}:{self.col}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.col,
            "path": self.path,
            "message": self.message,
        }

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.file, self.line, self.col, self.path, self.message)


class SpecError(Exception):
    """Raised by library entry points when the input spec is invalid."""

    def __init__(self, diagnostics: list[Diagnostic]):
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
