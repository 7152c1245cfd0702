"""What `gen check` found, and its renderings: text lines, one JSON report, JUnit XML, TAP."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from ..diagnostics import Issue, plural

# Which part of gen check found a problem (the "check" field of the JSON report).
CHECKS = (
    "yaml",
    "document",
    "schema",
    "serve-config",
    "operational",
    "duplicate",
    "reference",
    "lint",
    "kubeconform",
    "policy",
)


@dataclass(frozen=True)
class Resource:
    """One resource looked at: what kubeconform calls a result."""

    file: str
    order: int
    line: int
    api_version: str
    kind: str
    namespace: str
    name: str
    status: str = "valid"  # valid | invalid | skipped | error


@dataclass
class Report:
    paths: list[str]
    kube_version: str
    kinds: Counter[str] = field(default_factory=Counter)
    issues: list[Issue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # notes the same on every run (CEL rules only the API server evaluates): text output
    # shows them with --verbose only; JSON lists them with the notes
    details: list[str] = field(default_factory=list)
    # the Ray whose own models validated the serve configs ("" when none were validated)
    ray_version: str = ""
    resources_seen: list[Resource] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)  # kind -> resources not checked
    files: int = 0
    internal_errors: list[str] = field(default_factory=list)  # "FILE (document N): what broke"

    @property
    def dirs(self) -> list[str]:  # the old name
        return self.paths

    @property
    def resources(self) -> int:
        return sum(self.kinds.values())

    @property
    def ok(self) -> bool:
        return not self.issues and not self.internal_errors

    @property
    def exit_code(self) -> int:
        if self.internal_errors:
            return 2
        return 0 if not self.issues else 1

    def sorted_issues(self) -> list[Issue]:
        return sorted(set(self.issues), key=Issue.sort_key)

    def results(self) -> list[tuple[Resource, list[Issue]]]:
        """Each resource with its problems, then file-level problems as pseudo-resources."""
        by_resource: dict[tuple[str, int], list[Issue]] = {}
        loose: list[Issue] = []
        for issue in self.sorted_issues():
            if issue.order >= 0:
                by_resource.setdefault((issue.file, issue.order), []).append(issue)
            else:
                loose.append(issue)
        out = []
        for res in self.resources_seen:
            found = by_resource.pop((res.file, res.order), [])
            status = res.status if res.status == "skipped" or not found else "invalid"
            out.append((Resource(**{**asdict(res), "status": status}), found))
        for issue in loose + [i for v in by_resource.values() for i in v]:
            out.append(
                (
                    Resource(
                        issue.file, -1, issue.line or 0, "", issue.kind or "", "", issue.name or "", "error"
                    ),
                    [issue],
                )
            )
        return out

    def summary(self) -> str:
        counts = ", ".join(
            f"{n} {kind}" for kind, n in sorted(self.kinds.items(), key=lambda kv: (-kv[1], kv[0]))
        )
        checked = plural(self.resources, "resource") + " checked" + (f" ({counts})" if counts else "")
        skipped = sum(self.skipped.values())
        if skipped:
            kinds = ", ".join(
                f"{n} {k}" for k, n in sorted(self.skipped.items(), key=lambda kv: (-kv[1], kv[0]))
            )
            checked += f", {skipped} skipped ({kinds})"
        return f"Summary: {checked}, {plural(len(self.sorted_issues()), 'problem')}"

    def kubeconform_summary(self) -> str:
        """kubeconform's -summary line."""
        status = Counter(r.status for r, _ in self.results())
        found = sum(1 for r in self.resources_seen)
        files = plural(self.files, "file")
        resources = f"{found} resource{'s' if found > 1 else ''}"  # kubeconform: "0 resource found"
        return (
            f"Summary: {resources} found in {files} - Valid: {status['valid']}, "
            f"Invalid: {status['invalid']}, Errors: {status['error'] + len(self.internal_errors)}, "
            f"Skipped: {status['skipped']}"
        )

    def as_dict(self) -> dict[str, Any]:
        issues = [{k: v for k, v in asdict(i).items() if k != "order"} for i in self.sorted_issues()]
        return {
            "paths": self.paths,
            "kubeVersion": self.kube_version,
            "valid": self.ok,
            "resources": self.resources,
            "kinds": dict(sorted(self.kinds.items())),
            "skipped": dict(sorted(self.skipped.items())),
            "problems": issues,
            "internalErrors": self.internal_errors,
            "notes": self.notes + self.details,
            "serveConfigsValidatedWith": f"ray {self.ray_version}" if self.ray_version else None,
        }

    def tap(self) -> str:
        lines = ["TAP version 13"]
        n = 0
        for res, issues in self.results():
            label = f"{res.file} ({res.api_version}/{res.kind}/{res.namespace}/{res.name})"
            if res.status == "skipped":
                n += 1
                lines.append(f"ok {n} - {label} # skip")
            elif not issues:
                n += 1
                lines.append(f"ok {n} - {label}")
            else:  # one line per resource, as kubeconform
                n += 1
                lines.append(f"not ok {n} - {label} - " + "; ".join(i.format() for i in issues))
        for err in self.internal_errors:
            n += 1
            lines.append(f"not ok {n} - internal error: {err}")
        lines.append(f"1..{n}")
        return "\n".join(lines)

    def junit(self) -> str:
        # imported here: xml.sax.saxutils pulls in urllib and http.client (~15 ms of every start)
        from xml.sax.saxutils import escape, quoteattr

        by_file: dict[str, list[tuple[Resource, list[Issue]]]] = {}
        for res, issues in self.results():
            by_file.setdefault(res.file, []).append((res, issues))
        total = sum(len(v) for v in by_file.values())
        failures = sum(1 for v in by_file.values() for r, i in v if i)
        skipped = sum(1 for v in by_file.values() for r, i in v if r.status == "skipped")
        out = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            f'<testsuites name="gen check" tests="{total}" failures="{failures}" '
            f'errors="{len(self.internal_errors)}" disabled="{skipped}" time="0">',
        ]
        for i, (file, results) in enumerate(sorted(by_file.items())):
            n_fail = sum(1 for _, iss in results if iss)
            n_skip = sum(1 for r, _ in results if r.status == "skipped")
            out.append(
                f'  <testsuite name={quoteattr(file)} id="{i}" tests="{len(results)}" '
                f'failures="{n_fail}" errors="0" disabled="{n_skip}" skipped="{n_skip}" time="0">'
            )
            for res, issues in results:
                name = f"{res.kind}/{res.name}" if res.kind else file
                classname = quoteattr(res.api_version or "file")
                out.append(f'    <testcase name={quoteattr(name)} classname={classname} time="0">')
                if res.status == "skipped":
                    out.append("      <skipped></skipped>")
                for issue in issues:
                    out.append(
                        f"      <failure message={quoteattr(issue.message)} type={quoteattr(issue.check)}>"
                        f"{escape(issue.format())}</failure>"
                    )
                out.append("    </testcase>")
            out.append("  </testsuite>")
        out.append("</testsuites>")
        return "\n".join(out)
