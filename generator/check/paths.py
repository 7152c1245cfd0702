"""Where the pinned schemas live: package data in a wheel, else the repo checkout."""

from __future__ import annotations

from pathlib import Path

from ..bundled import data_dir


def schemas_dir() -> Path:
    """``generator/_bundled/schemas`` when installed from a wheel, else ``<repo>/schemas``."""
    return data_dir("schemas")


def upstream_dir() -> Path:
    return schemas_dir() / "upstream"
