"""Locate files shipped with gen: charts/ and schemas/.

In a wheel they live in ``generator/_bundled/`` (hatch force-include); in a
source checkout (editable install) they are the repo's top-level folders.
"""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    bundled = _PKG / "_bundled" / name
    return bundled if bundled.is_dir() else _PKG.parent / name


def spec_schema_path() -> Path:
    return data_dir("schemas") / "models.schema.json"
