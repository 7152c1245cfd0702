"""The one result type of every schema check, and how paths are spelled."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


@dataclass(frozen=True)
class Problem:
    """One violation in one rendered resource.

    ``path`` is dotted with ``[i]`` for list items, e.g.
    ``spec.rayClusterConfig.headGroupSpec.template.spec.containers[0].foo``; keys that
    are not plain identifiers are quoted: ``metadata.labels["app.kubernetes.io/name"]``.
    """

    kind: str
    name: str
    path: str
    message: str

    def format(self) -> str:
        where = f"{self.kind}/{self.name}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


def format_path(parts: Iterable[str | int]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            out += f".{part}" if out else part
        else:
            out += '["' + part.replace("\\", "\\\\").replace('"', '\\"') + '"]'
    return out
