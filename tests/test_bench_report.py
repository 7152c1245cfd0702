"""bench/run.py's report: a context row (no target) is shown with its value but is never
counted as a target met or missed, and _is_tmpfs reads the mount table."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from .conftest import ROOT


@pytest.fixture(scope="module")
def run():
    spec = importlib.util.spec_from_file_location("gen_bench_run", ROOT / "bench" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def row(title, value, target, passed):
    return {
        "title": title,
        "unit": "x",
        "value": value,
        "target": {"op": "<=", "value": target},
        "pass": passed,
        "error": None,
        "samples": {"gen_s": [0.02], "helm_s": [0.01]},
        "median": {"gen_s": 0.02, "helm_s": 0.01},
        "note": "output on tmpfs: 1.40x" if target is None else "",
    }


def test_context_rows_are_shown_but_not_counted(run):
    results = [row("met", 1.2, 1.5, True), row("missed", 1.7, 1.5, False), row("small", 2.0, None, None)]
    assert run.summary(results) == "1/2 targets met (1 context rows)"
    lines = run.table(results).splitlines()
    assert lines[2].split(" | ")[2:4] == ["<= 1.50x", "pass"]
    assert lines[3].split(" | ")[2:4] == ["<= 1.50x", "**FAIL**"]
    assert lines[4].split(" | ")[1:4] == ["2.00x", "-", "context"]
    assert lines[4].endswith("output on tmpfs: 1.40x |")


def test_summary_without_context_rows(run):
    assert run.summary([row("met", 1.2, 1.5, True)]) == "1/1 targets met"


def test_is_tmpfs_reads_the_mount_table(run, tmp_path):
    table = tmp_path / "mounts"
    table.write_text(
        "/dev/vda / ext4 rw,relatime 0 0\ntmpfs /dev/shm tmpfs rw,relatime 0 0\n", encoding="utf-8"
    )
    assert run._is_tmpfs(run.Path("/dev/shm"), table) is True
    assert run._is_tmpfs(run.Path("/"), table) is False  # mounted, not a tmpfs
    assert run._is_tmpfs(run.Path("/dev"), table) is False  # not a mount point
    assert run._is_tmpfs(run.Path("/dev/shm"), tmp_path / "absent") is False
