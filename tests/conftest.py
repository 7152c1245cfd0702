"""Shared fixtures. Golden files are rewritten only with --snapshot-update (make golden)."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner
from syrupy.assertion import SnapshotAssertion

from .snapshots import ROOT, FileSnapshot

EXAMPLES = sorted(p.parent.name for p in (ROOT / "examples").glob("*/models.yaml"))

# Tests never touch the network (Ray, Hugging Face clients included).
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    # syrupy's own switch: one --snapshot-update rewrites every snapshot corpus
    return bool(request.config.getoption("--snapshot-update"))


@pytest.fixture
def file_snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """`assert data == file_snapshot(name="golden/...")`: the file at that path (tests/snapshots.py)."""
    return snapshot.use_extension(FileSnapshot)


@pytest.fixture
def cli():
    from generator.cli import main

    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(main, list(args), catch_exceptions=False)

    return run
