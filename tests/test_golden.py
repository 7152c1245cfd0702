"""Golden snapshots: every byte of every rendered example's output.

golden/<example>/ mirrors the output directory. Regenerate with `make golden`
(pytest --snapshot-update) and review the diff like code.
"""

from __future__ import annotations

import shutil

import pytest

from generator.pipeline import render_to_dir

from .conftest import ROOT
from .renderutil import RENDERED, tree

GOLDEN = ROOT / "golden"


@pytest.mark.parametrize("example", RENDERED)
def test_output_matches_golden(example, tmp_path, update_golden, monkeypatch):
    monkeypatch.chdir(ROOT / "examples" / example)
    out = tmp_path / "out"
    render_to_dir("models.yaml", out)
    actual = tree(out)
    golden_dir = GOLDEN / example
    if update_golden:
        shutil.rmtree(golden_dir, ignore_errors=True)
        for rel, data in actual.items():
            (golden_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            (golden_dir / rel).write_bytes(data)
    expected = tree(golden_dir)
    assert sorted(actual) == sorted(expected), "files added or removed: run make golden"
    for rel in expected:
        assert actual[rel].decode() == expected[rel].decode(), f"{rel} differs: run make golden"


def test_no_stale_golden_dirs():
    assert sorted(p.name for p in GOLDEN.iterdir() if p.is_dir()) == sorted(RENDERED)
