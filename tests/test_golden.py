"""Golden snapshots: every byte gen generates for every rendered example.

golden/<example>/<path> is the snapshot of the output file <path> (tests/snapshots.py), one
test per file. The vendored subcharts (chart/charts/**) are copies of charts/, checked once
by tests/test_vendored_charts.py instead of being copied into every golden tree, so a chart
edit changes a golden tree only where the rendered output changes. Regenerate with
`make golden` (pytest --snapshot-update) and review the diff like code.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from generator.pipeline import render_to_dir

from .conftest import ROOT
from .renderutil import RENDERED, tree
from .snapshots import leftovers

GOLDEN = ROOT / "golden"
VENDORED = "chart/charts/"  # tests/test_vendored_charts.py


def generated(files: dict[str, bytes]) -> dict[str, bytes]:
    """The output files gen generates (all but the vendored copies of charts/)."""
    return {rel: data for rel, data in files.items() if not rel.startswith(VENDORED)}


def snapshot_files(example: str) -> list[str]:
    """The files of golden/<example>/ now on disk."""
    root = GOLDEN / example
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


FILES = [(ex, rel) for ex in RENDERED for rel in snapshot_files(ex) if not rel.startswith(VENDORED)]


@pytest.fixture(scope="session")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], dict[str, bytes]]:
    """An example's output directory as `gen render` writes it, rendered once per session."""
    cache: dict[str, dict[str, bytes]] = {}

    def output(example: str) -> dict[str, bytes]:
        if example not in cache:
            out = tmp_path_factory.mktemp(example) / "out"
            render_to_dir(ROOT / "examples" / example / "models.yaml", out)
            cache[example] = tree(out)
        return cache[example]

    return output


@pytest.mark.parametrize(("example", "rel"), FILES, ids=[f"{ex}/{rel}" for ex, rel in FILES])
def test_golden_file(example, rel, outputs, file_snapshot, update_golden):
    files = generated(outputs(example))
    if rel not in files:
        assert update_golden, f"{example}: gen no longer renders {rel}: run make golden"
        return  # test_golden_tree deletes it
    assert files[rel] == file_snapshot(name=f"golden/{example}/{rel}")


@pytest.mark.parametrize("example", RENDERED)
def test_golden_tree(example, outputs, file_snapshot, update_golden):
    """Every generated file has its snapshot and no snapshot is left over: a new output file
    fails here until --snapshot-update writes it, and a file gen no longer renders (or a
    copy of a vendored chart) fails until --snapshot-update deletes it."""
    files = generated(outputs(example))
    for rel in sorted(files.keys() - set(snapshot_files(example))):
        assert files[rel] == file_snapshot(name=f"golden/{example}/{rel}")
    assert leftovers(GOLDEN / example, files, update=update_golden) == [], "run make golden"


def test_no_stale_golden_dirs(update_golden):
    stale: list[Path] = [p for p in GOLDEN.iterdir() if p.name not in RENDERED]
    if update_golden:
        for path in stale:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        stale = []
    assert stale == [], "golden/ holds examples no test renders: run make golden"
