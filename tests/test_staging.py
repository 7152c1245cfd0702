"""writer.Staging: a render writes its files into a hidden tree while it still renders
and checks (render_to_dir), and that tree becomes the output only at commit()."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from generator import render
from generator.render.writer import MANIFEST, OutputError, Staging, write_tree
from generator.spec import load_spec

EXAMPLES = sorted(p.parent.name for p in Path("examples").glob("*/models.yaml"))


def tree(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("example", EXAMPLES)
def test_a_render_hands_over_every_file_it_returns_once(example):
    told: list[str] = []
    _, files, _ = render.render_spec(
        load_spec(f"examples/{example}/models.yaml"), on_files=lambda batch: told.extend(batch)
    )
    assert sorted(told) == sorted(files), "each output file is handed over exactly once"
    assert told.index("chart/Chart.yaml") < told.index("README.md"), "the chart goes first, the README last"


def test_leaving_without_commit_keeps_the_previous_output_and_removes_the_staging_tree(tmp_path):
    out = tmp_path / "out"
    write_tree(out, {"a.yaml": b"old\n"})
    before = tree(out)
    with pytest.raises(RuntimeError), Staging(out) as staging:
        staging.add({"a.yaml": b"new\n", "b/c.yaml": b"new\n"})
        raise RuntimeError("a check failed")
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_failed_write_is_raised_at_commit_and_nothing_changes(tmp_path):
    out = tmp_path / "out"
    write_tree(out, {"a.yaml": b"old\n"})
    before = tree(out)
    with Staging(out) as staging:
        staging.add({"x": b"a file", "x/y": b"where x is a file"})  # fails in a writer thread
        with pytest.raises(OSError):
            staging.commit()
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_file_is_added_once(tmp_path):
    with Staging(tmp_path / "out") as staging:
        staging.add({"a": b"1"})
        with pytest.raises(OutputError, match="written twice"):
            staging.add({"a": b"2"})
    assert not (tmp_path / "out").exists(), "the output it created is removed again"


def test_the_output_is_locked_from_opening_to_commit(tmp_path):
    out = tmp_path / "out"
    staging = Staging(out)
    staging.add({f"d{i}/f.yaml": f"{i}\n".encode() for i in range(50)})
    other = threading.Thread(target=write_tree, args=(out, {"other": b"x"}), daemon=True)
    other.start()
    other.join(0.5)
    assert other.is_alive(), "a second writer waits while the first one stages"
    staging.commit()
    other.join(10)
    assert not other.is_alive()
    assert tree(out) == {"other": b"x", MANIFEST: (out / MANIFEST).read_bytes()}


def test_modes_do_not_depend_on_the_umask(tmp_path):
    old = os.umask(0o077)
    try:
        with Staging(tmp_path / "out") as staging:
            staging.add({"a/b/c.yaml": b"x"})
            staging.commit()
    finally:
        os.umask(old)
    assert oct((tmp_path / "out/a/b").stat().st_mode & 0o777) == "0o755"
    assert oct((tmp_path / "out/a/b/c.yaml").stat().st_mode & 0o777) == "0o644"
