"""Run kubeconform (when it is on PATH) against the pinned schemas and read its findings.

kubeconform is a second, independent validator of the same strict schemas (Go JSON
schema engine, strict YAML decoding). It is run offline: ``-schema-location`` points at
a temporary export (export.py) of every pinned kind; ``-ignore-missing-schemas`` makes
it skip the kinds gen pins no schema for, which gen's own check already reports.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..diagnostics import Issue, format_path
from .export import SCHEMA_LOCATION, export_schemas

TIMEOUT_S = 600


class KubeconformError(RuntimeError):
    """kubeconform is missing, failed, or printed something that is not its JSON report."""


def find() -> str | None:
    return shutil.which("kubeconform")


def command(binary: str, schema_dir: str | Path, files: Sequence[str | Path]) -> list[str]:
    # Go's flag parser stops at the first non-flag: every flag goes before the files.
    return [
        binary,
        "-strict",
        "-summary",
        "-output",
        "json",
        "-ignore-missing-schemas",
        "-schema-location",
        f"{schema_dir}/{SCHEMA_LOCATION}",
        *map(str, files),
    ]


def _path(pointer: str, obj: Any) -> str:
    """kubeconform's "/spec/rules/0/x" as gen's "spec.rules[0].x", resolved against the
    object (it does not escape "/" inside keys such as label names)."""
    tokens = pointer.split("/")[1:] if pointer.startswith("/") else []
    parts: list[str | int] = []
    node = obj
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if isinstance(node, list) and token.isdigit():
            parts.append(int(token))
            node = node[int(token)] if int(token) < len(node) else None
        else:
            if isinstance(node, dict):  # the longest run of tokens that is a key
                for j in range(len(tokens), i, -1):
                    if "/".join(tokens[i:j]) in node:
                        token, i = "/".join(tokens[i:j]), j - 1
                        break
            parts.append(token)
            node = node.get(token) if isinstance(node, dict) else None
        i += 1
    return format_path(parts)


def parse(
    report: Mapping[str, Any],
    shown: Mapping[str, str],
    objects: Mapping[tuple[str, str, str], tuple[int, Any]],
) -> list[Issue]:
    """Issues from kubeconform's ``-output json`` report.

    ``shown`` maps the file names given to kubeconform to the names shown to the user;
    ``objects`` maps (shown file, kind, name) to (position in file, parsed object).
    """
    issues = []
    for res in report.get("resources") or []:
        status = str(res.get("status", "")).lower().removeprefix("status")
        if status in ("valid", "skipped", "empty"):
            continue
        file = shown.get(res.get("filename", ""), res.get("filename", "?"))
        kind, name = res.get("kind") or None, res.get("name") or None
        order, obj = objects.get((file, kind or "", name or ""), (-1, None))
        errors = res.get("validationErrors") or []
        if not errors:
            issues.append(
                Issue(
                    file,
                    None,
                    None,
                    "",
                    f"kubeconform: {res.get('msg', status)}",
                    kind,
                    name,
                    "kubeconform",
                    order,
                )
            )
        for err in errors:
            issues.append(
                Issue(
                    file,
                    None,
                    None,
                    _path(err.get("path", ""), obj),
                    f"kubeconform: {err.get('msg', '')}",
                    kind,
                    name,
                    "kubeconform",
                    order,
                )
            )
    return issues


def run(
    binary: str,
    files: Mapping[str, Path],
    kube_version: str,
    objects: Mapping[tuple[str, str, str], tuple[int, Any]],
) -> list[Issue]:
    """Run kubeconform on ``files`` (shown name -> path) and return its findings."""
    by_disk = {str(path): name for name, path in files.items()}
    with tempfile.TemporaryDirectory(prefix="gen-kubeconform-") as schema_dir:
        export_schemas(Path(schema_dir), kube_version)
        argv = command(binary, schema_dir, sorted(by_disk))
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise KubeconformError(f"could not run {binary}: {exc}") from None
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise KubeconformError(
            f"kubeconform exited {proc.returncode} without a JSON report"
            + (f": {detail[-1]}" if detail else "")
        ) from None
    return parse(report, by_disk, objects)
