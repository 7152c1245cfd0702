"""Read the hash-pinned lock files that `make lock` writes (uv pip compile format)."""

from __future__ import annotations

import re
from pathlib import Path

from packaging.markers import Marker

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)(?:\s*;\s*([^\\]+))?")


def canonical(name: str) -> str:
    """PEP 503 normalised project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lock: Path, *, here: bool = False) -> dict[str, str]:
    """{canonical name: version} of every requirement line (hash and comment lines skipped).

    A universal lock may pin a package twice under exclusive markers (numpy for Python
    3.11 and for 3.12+); with ``here`` only the lines whose markers hold on this
    interpreter and platform are kept, otherwise the first line of each package.
    """
    out: dict[str, str] = {}
    for line in lock.read_text().splitlines():
        m = _PIN.match(line)
        if not m:
            continue
        if here and m.group(3) and not Marker(m.group(3).strip()).evaluate():
            continue
        out.setdefault(canonical(m.group(1)), m.group(2))
    return out


def hashed(lock: Path) -> bool:
    """Every requirement carries at least one --hash."""
    blocks = re.split(r"\n(?=[A-Za-z0-9])", lock.read_text())
    reqs = [b for b in blocks if _PIN.match(b)]
    return bool(reqs) and all("--hash=sha256:" in b for b in reqs)
