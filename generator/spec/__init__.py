"""Load, validate and normalise a models.yaml spec."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from ..diagnostics import Diagnostic, SpecError, format_path
from .loader import Document, LoadError, load_file
from .model import Fleet, fleet_from_data
from .rules import RULES, forget_typed_models, redact
from .schema import apply_defaults, schema_diagnostics


@dataclass
class Spec:
    """A valid spec: the source document (for positions) and the defaulted data."""

    doc: Document
    data: dict[str, Any]

    @property
    def file(self) -> str:
        return self.doc.file

    @cached_property
    def model(self) -> Fleet:
        """The typed spec (built once, on first use): what code outside this package reads."""
        return fleet_from_data(self.data)


def clip(message: str, limit: int = 400) -> str:
    """Shorten a message that quotes a huge value, so one field cannot flood the output."""
    if len(message) <= limit:
        return message
    return f"{message[: limit // 2]}[... {len(message) - limit} characters ...]{message[-limit // 2 :]}"


def _semantic(doc: Document, data: dict[str, Any], guarded: bool) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    try:
        for rule in RULES:
            try:
                out += [doc.diag(path, msg) for path, msg in rule(data)]
            except (KeyError, TypeError, AttributeError, IndexError, ValueError):
                if not guarded:
                    raise
                # the schema already reported why this part of the spec is malformed
    finally:
        forget_typed_models()
    return out


# Plain integers YAML 1.1 reads unlike YAML 1.2 and unlike people: 0443 (octal: 291), 1:30
# (base 60: 90). Where a string is expected the schema already says so; elsewhere refuse.
_AMBIGUOUS_INT = re.compile(r"[-+]?(?:0[0-7_]+|[1-9][0-9_]*(?::[0-5]?[0-9])+)")


def _ambiguous_ints(doc: Document, reported: set[str]) -> list[Diagnostic]:
    out = []
    for path, pos in doc.positions.items():
        if not pos.raw or pos.raw[-1] not in "0123456789" or not _AMBIGUOUS_INT.fullmatch(pos.raw):
            continue
        value: Any = doc.data
        for part in path:
            value = value[part]
        if type(value) is not int or format_path(path) in reported:
            continue
        if ":" in pos.raw:
            out.append(
                doc.diag(
                    path, f"YAML reads {pos.raw!r} as the base-60 number {value}; write the number in decimal"
                )
            )
        else:
            out.append(
                doc.diag(
                    path,
                    f"YAML reads {pos.raw!r} as the octal number {value}; "
                    "write the number in decimal without a leading 0",
                )
            )
    return out


def validate_document(doc: Document) -> tuple[dict[str, Any] | None, list[Diagnostic]]:
    """All problems of one document; the defaulted data when there are none."""
    diags = schema_diagnostics(doc)
    data = apply_defaults(doc.data)
    diags += _semantic(doc, data, guarded=bool(diags))
    diags += _ambiguous_ints(doc, {d.path for d in diags})
    unique = {d.sort_key(): d for d in diags}
    clean = [
        Diagnostic(d.file, d.line, d.col, redact(d.path), clip(redact(d.message)))
        for d in (unique[k] for k in sorted(unique))
    ]
    return (None if clean else data), clean


def validate_file(path: str | Path) -> tuple[Spec | None, list[Diagnostic]]:
    try:
        doc = load_file(path)
    except LoadError as exc:
        return None, [
            Diagnostic(
                exc.diagnostic.file,
                exc.diagnostic.line,
                exc.diagnostic.col,
                redact(exc.diagnostic.path),
                clip(redact(exc.diagnostic.message)),
            )
        ]
    data, diags = validate_document(doc)
    return (Spec(doc, data) if data is not None else None), diags


def load_spec(path: str | Path) -> Spec:
    """The validated spec, or SpecError carrying every problem."""
    spec, diags = validate_file(path)
    if spec is None:
        raise SpecError(diags)
    return spec


__all__ = ["Fleet", "Spec", "SpecError", "load_spec", "validate_document", "validate_file"]
