"""What `gen check` found, and its two renderings: text lines and one JSON report."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from ..diagnostics import plural

# Which part of gen check found a problem (the "check" field of the JSON report).
CHECKS = ("yaml", "schema", "serve-config", "operational", "duplicate", "reference", "lint", "kubeconform")


@dataclass(frozen=True)
class Issue:
    """One problem: ``FILE: Kind/name: path: message``."""

    file: str
    kind: str | None  # None for a file-level problem (not valid YAML)
    name: str | None
    path: str
    message: str
    check: str
    order: int = -1  # the resource's position in its file, for sorting

    def format(self) -> str:
        parts = [self.file]
        if self.kind is not None:
            parts.append(f"{self.kind}/{self.name}")
        if self.path:
            parts.append(self.path)
        return ": ".join(parts + [self.message])

    def sort_key(self) -> tuple[str, int, str, str]:
        return (self.file, self.order, self.path, self.message)


@dataclass
class Report:
    dirs: list[str]
    kube_version: str
    kinds: Counter[str] = field(default_factory=Counter)
    issues: list[Issue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # notes the same on every run (CEL rules only the API server evaluates): text output
    # shows them with --verbose only; JSON lists them with the notes
    details: list[str] = field(default_factory=list)
    # the Ray whose own models validated the serve configs ("" when none were validated)
    ray_version: str = ""

    @property
    def resources(self) -> int:
        return sum(self.kinds.values())

    @property
    def ok(self) -> bool:
        return not self.issues

    def sorted_issues(self) -> list[Issue]:
        return sorted(set(self.issues), key=Issue.sort_key)

    def summary(self) -> str:
        counts = ", ".join(
            f"{n} {kind}" for kind, n in sorted(self.kinds.items(), key=lambda kv: (-kv[1], kv[0]))
        )
        checked = plural(self.resources, "resource") + " checked" + (f" ({counts})" if counts else "")
        return f"Summary: {checked}, {plural(len(self.sorted_issues()), 'problem')}"

    def as_dict(self) -> dict[str, Any]:
        issues = [{k: v for k, v in asdict(i).items() if k != "order"} for i in self.sorted_issues()]
        return {
            "dirs": self.dirs,
            "kubeVersion": self.kube_version,
            "valid": self.ok,
            "resources": self.resources,
            "kinds": dict(sorted(self.kinds.items())),
            "problems": issues,
            "notes": self.notes + self.details,
            "serveConfigsValidatedWith": f"ray {self.ray_version}" if self.ray_version else None,
        }
