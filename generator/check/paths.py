"""Where the pinned schemas live: package data in a wheel, else the repo checkout."""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent.parent  # generator/


def schemas_dir() -> Path:
    """``generator/_bundled/schemas`` when installed from a wheel, else ``<repo>/schemas``."""
    bundled = _PKG / "_bundled" / "schemas"
    return bundled if bundled.is_dir() else _PKG.parent / "schemas"


def upstream_dir() -> Path:
    return schemas_dir() / "upstream"
