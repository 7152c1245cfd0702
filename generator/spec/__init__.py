"""Load, validate and normalise a models.yaml spec."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..diagnostics import Issue, SpecError, format_path
from ..gcpause import no_cyclic_gc
from .build import fleet_from_data
from .loader import AMBIGUOUS_INT, Document, LoadError, load_file
from .model import Fleet
from .rules import RULES, forget_typed_models, redact, typed_model
from .schema import apply_defaults, schema_diagnostics


@dataclass
class Spec:
    """A valid spec: the source document (for positions) and the defaulted data."""

    doc: Document
    data: dict[str, Any]
    # the typed spec, when validation built it already (the rules build most of its models)
    built: Fleet | None = field(default=None, repr=False, compare=False)

    @property
    def file(self) -> str:
        return self.doc.file

    @property
    def model(self) -> Fleet:
        """The typed spec (built once): what code outside this package reads."""
        if self.built is None:
            self.built = fleet_from_data(self.data)
        return self.built


def clip(message: str, limit: int = 400) -> str:
    """Shorten a message that quotes a huge value, so one field cannot flood the output."""
    if len(message) <= limit:
        return message
    return f"{message[: limit // 2]}[... {len(message) - limit} characters ...]{message[-limit // 2 :]}"


def _semantic(doc: Document, data: dict[str, Any], guarded: bool) -> list[Issue]:
    out: list[Issue] = []
    for rule in RULES:
        try:
            out += [doc.diag(path, msg) for path, msg in rule(data)]
        except (KeyError, TypeError, AttributeError, IndexError, ValueError):
            if not guarded:
                raise
            # the schema already reported why this part of the spec is malformed
    return out


# Where a string is expected the schema already says so; elsewhere refuse.
_AMBIGUOUS_INT = re.compile(AMBIGUOUS_INT)


def _ambiguous_ints(doc: Document, reported: set[str]) -> list[Issue]:
    out: list[Issue] = []
    if not doc.maybe_ambiguous_ints:
        return out
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


def validate_document(doc: Document) -> tuple[dict[str, Any] | None, list[Issue]]:
    """All problems of one document; the defaulted data when there are none."""
    data, _, diags = _validate(doc)
    return data, diags


def _validate(doc: Document) -> tuple[dict[str, Any] | None, Fleet | None, list[Issue]]:
    """(defaulted data, typed spec) when the document is valid, and all its problems."""
    with no_cyclic_gc():  # the defaulted copy and the typed spec: a large graph without cycles
        return _validate_collected(doc)


def _validate_collected(doc: Document) -> tuple[dict[str, Any] | None, Fleet | None, list[Issue]]:
    diags = schema_diagnostics(doc)
    data = apply_defaults(doc.data)
    try:
        diags += _semantic(doc, data, guarded=bool(diags))
        diags += _ambiguous_ints(doc, {d.path for d in diags})
        unique = {d.sort_key(): d for d in diags}
        clean = [
            Issue(d.file, d.line, d.col, redact(d.path), clip(redact(d.message)))
            for d in (unique[k] for k in sorted(unique))
        ]
        if clean:
            return None, None, clean
        return data, fleet_from_data(data, build_model=typed_model), clean  # the rules' models
    finally:
        forget_typed_models()


def validate_file(path: str | Path) -> tuple[Spec | None, list[Issue]]:
    try:
        doc = load_file(path)
    except LoadError as exc:
        return None, [
            Issue(
                exc.diagnostic.file,
                exc.diagnostic.line,
                exc.diagnostic.col,
                redact(exc.diagnostic.path),
                clip(redact(exc.diagnostic.message)),
            )
        ]
    data, fleet, diags = _validate(doc)
    return (Spec(doc, data, fleet) if data is not None else None), diags


def load_spec(path: str | Path) -> Spec:
    """The validated spec, or SpecError carrying every problem."""
    spec, diags = validate_file(path)
    if spec is None:
        raise SpecError(diags)
    return spec


__all__ = ["Fleet", "Spec", "SpecError", "load_spec", "validate_document", "validate_file"]
