"""Load, validate and normalise a models.yaml spec."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..diagnostics import Diagnostic, SpecError
from .loader import Document, LoadError, load_file
from .rules import RULES, redact
from .schema import apply_defaults, schema_diagnostics


@dataclass
class Spec:
    """A valid spec: the source document (for positions) and the defaulted data."""

    doc: Document
    data: dict[str, Any]

    @property
    def file(self) -> str:
        return self.doc.file


def _semantic(doc: Document, data: dict[str, Any], guarded: bool) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for rule in RULES:
        try:
            out += [doc.diag(path, msg) for path, msg in rule(data)]
        except (KeyError, TypeError, AttributeError, IndexError, ValueError):
            if not guarded:
                raise
            # the schema already reported why this part of the spec is malformed
    return out


def validate_document(doc: Document) -> tuple[dict[str, Any] | None, list[Diagnostic]]:
    """All problems of one document; the defaulted data when there are none."""
    diags = schema_diagnostics(doc)
    data = apply_defaults(doc.data)
    diags += _semantic(doc, data, guarded=bool(diags))
    unique = {d.sort_key(): d for d in diags}
    clean = [Diagnostic(d.file, d.line, d.col, d.path, redact(d.message))
             for d in (unique[k] for k in sorted(unique))]
    return (None if clean else data), clean


def validate_file(path: str | Path) -> tuple[Spec | None, list[Diagnostic]]:
    try:
        doc = load_file(path)
    except LoadError as exc:
        return None, [Diagnostic(exc.diagnostic.file, exc.diagnostic.line, exc.diagnostic.col,
                                 exc.diagnostic.path, redact(exc.diagnostic.message))]
    data, diags = validate_document(doc)
    return (Spec(doc, data) if data is not None else None), diags


def load_spec(path: str | Path) -> Spec:
    """The validated spec, or SpecError carrying every problem."""
    spec, diags = validate_file(path)
    if spec is None:
        raise SpecError(diags)
    return spec


__all__ = ["Spec", "SpecError", "load_spec", "validate_file", "validate_document"]
