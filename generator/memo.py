"""Keys for memoizing what a fleet derives once per model from a few inputs (its worker's
node shape, its capacity): a thousand-model fleet has a few dozen distinct accelerators,
overrides and engine arguments, so each combination is worked out once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Items = tuple[tuple[str, type, Any], ...]


def items_key(values: Mapping[str, Any]) -> Items:
    """A mapping as a hashable key (an unhashable value raises TypeError once it is
    hashed), with 2 and 2.0 kept apart: they print differently."""
    return tuple((k, type(v), v) for k, v in values.items())


def from_key(key: Items) -> dict[str, Any]:
    """The mapping items_key was given (a new dict)."""
    return {k: v for k, _, v in key}
