"""Helpers shared by the render tests."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from generator.render import render_spec
from generator.render.manifests import Resource
from generator.spec import load_spec

from .conftest import ROOT

RENDERED = [
    "single-cluster-gpu",
    "path-routing",
    "multiplexing-gcsfuse",
    "multi-cluster",
    "tpu-multihost-dranet",
    "tpu-autopilot",
]


@cache
def rendered(example: str) -> tuple[dict[str, bytes], tuple[Resource, ...]]:
    """Output files and resources of an example (rendered once per test session)."""
    spec = load_spec(ROOT / "examples" / example / "models.yaml")
    _, files, resources = render_spec(spec)
    return files, tuple(resources)


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def snapshot(root: Path) -> dict[str, object]:
    """Every file's bytes, every directory and symlink under root."""
    out: dict[str, object] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                out[rel] = ("link", os.readlink(path))
            elif path.is_dir():
                out[rel] = "dir"
            else:
                out[rel] = path.read_bytes()
    return out
