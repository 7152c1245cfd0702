"""The `gen check` negative corpus as shared bases plus one small patch per case.

tests/check/negative/<case>/patch.diff names its base on its first line (`base: DIR`, a
folder relative to tests/check/) and then holds a unified diff (`--- a/PATH`, `+++ b/PATH`,
`/dev/null` for a file added or deleted) that breaks the base in one place. `case_files`
applies it; every context and removed line must match the base exactly, so a base edit
that a patch did not expect fails loudly instead of breaking the case somewhere else.

Add a case: copy a base, break it, then
`python -m tests.check.corpus_patch negative/base/single-cluster-gpu COPY > negative/CASE/patch.diff`
(from tests/check/'s parent's parent, the repository root) and `make golden` for expected.txt.
"""

from __future__ import annotations

import difflib
import re
import sys
from pathlib import Path

HERE = Path(__file__).parent
NEGATIVE = HERE / "negative"
PATCH = "patch.diff"
_HUNK = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


class PatchError(ValueError):
    pass


def read_tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): _read(p) for p in sorted(root.rglob("*")) if p.is_file()}


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8")  # no newline translation: the bytes as committed


def _lines(text: str) -> list[str]:
    """Lines ending in \\n (str.splitlines would also split at \\f, \\u2028, ...)."""
    parts = text.split("\n")
    return [line + "\n" for line in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _file(header: str, prefix: str) -> str | None:
    path = header.rstrip("\n").removeprefix(prefix)
    if path == "/dev/null":
        return None
    if not path.startswith(("a/", "b/")):
        raise PatchError(f"{header.strip()!r}: expected a/PATH, b/PATH or /dev/null")
    return path[2:]


def apply_patch(files: dict[str, str], diff: str) -> dict[str, str]:
    """``files`` with the unified ``diff`` applied (a new dict)."""
    out = dict(files)
    lines = _lines(diff)
    i = 0
    while i < len(lines):
        if not (lines[i].startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ ")):
            raise PatchError(f"line {i + 1}: expected '--- a/PATH' then '+++ b/PATH'")
        old, new = _file(lines[i], "--- "), _file(lines[i + 1], "+++ ")
        i += 2
        if old is not None and old not in out:
            raise PatchError(f"{old}: not in the base")
        text = _lines(out.pop(old)) if old is not None else []
        result: list[str] = []
        pos = 0  # next line of text not yet copied
        while i < len(lines) and lines[i].startswith("@@ "):
            m = _HUNK.match(lines[i])
            if not m:
                raise PatchError(f"line {i + 1}: bad hunk header {lines[i].strip()!r}")
            old_count = 1 if m[2] is None else int(m[2])
            new_count = 1 if m[4] is None else int(m[4])
            start = int(m[1]) - (1 if old_count else 0)  # `-l,0` inserts after line l
            if start < pos:
                raise PatchError(f"line {i + 1}: hunks out of order")
            result += text[pos:start]
            pos = start
            i += 1
            while old_count or new_count:
                if i >= len(lines) or lines[i][:1] not in (" ", "-", "+"):
                    raise PatchError(f"line {i + 1}: hunk of {new or old} ends early")
                tag, body = lines[i][0], lines[i][1:]
                if tag in " -":
                    if pos >= len(text) or text[pos] != body:
                        raise PatchError(f"{old}:{pos + 1}: the base does not match the patch")
                    pos += 1
                    old_count -= 1
                if tag in " +":
                    result.append(body)
                    new_count -= 1
                if old_count < 0 or new_count < 0:
                    raise PatchError(f"line {i + 1}: more lines than the hunk header says")
                i += 1
        result += text[pos:]
        if new is not None:
            out[new] = "".join(result)
        elif result:
            raise PatchError(f"{old}: deleted with lines left")
    return out


def make_patch(base: dict[str, str], files: dict[str, str]) -> str:
    """The unified diff from ``base`` to ``files`` (inverse of apply_patch)."""
    out: list[str] = []
    for rel in sorted(base.keys() | files.keys()):
        a, b = base.get(rel), files.get(rel)
        if a == b:
            continue
        for text in (a, b):
            if text and not text.endswith("\n"):
                raise PatchError(f"{rel}: no newline at the end (not supported)")
        out += difflib.unified_diff(
            _lines(a or ""),
            _lines(b or ""),
            "/dev/null" if a is None else f"a/{rel}",
            "/dev/null" if b is None else f"b/{rel}",
            n=3,
        )
    return "".join(out)


def case_base(case: str) -> str:
    first, _, _ = _read(NEGATIVE / case / PATCH).partition("\n")
    if not first.startswith("base: "):
        raise PatchError(f"negative/{case}/{PATCH}: the first line must be 'base: DIR'")
    return first.removeprefix("base: ")


def case_files(case: str) -> dict[str, str]:
    """The output tree of a case: its base with its patch applied."""
    _, _, diff = _read(NEGATIVE / case / PATCH).partition("\n")
    return apply_patch(read_tree(HERE / case_base(case)), diff)


def materialize(case: str, dest: Path) -> Path:
    """Write the case's tree to ``dest`` (a new folder) and return it."""
    for rel, text in case_files(case).items():
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / rel).write_bytes(text.encode("utf-8"))
    dest.mkdir(parents=True, exist_ok=True)
    return dest


if __name__ == "__main__":  # python -m tests.check.corpus_patch BASE BROKEN_COPY
    base, broken = sys.argv[1:3]
    sys.stdout.write(f"base: {base}\n" + make_patch(read_tree(HERE / base), read_tree(Path(broken))))
