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


def test_a_rerender_links_the_files_that_did_not_change(tmp_path):
    """Writing into an output that holds the last run: unchanged files are the same files
    (same inode and modification time), changed ones new, and nothing else holds them."""
    out = tmp_path / "out"
    write_tree(out, {"same.yaml": b"kept\n", "changed.yaml": b"old\n", "chmod.yaml": b"kept\n"})
    before = {p.name: p.stat() for p in out.iterdir()}
    (out / "chmod.yaml").chmod(0o600)  # not as gen writes it: written anew
    write_tree(out, {"same.yaml": b"kept\n", "changed.yaml": b"new\n", "chmod.yaml": b"kept\n"})
    after = {p.name: p.stat() for p in out.iterdir()}
    assert after["same.yaml"].st_ino == before["same.yaml"].st_ino
    assert after["same.yaml"].st_mtime_ns == before["same.yaml"].st_mtime_ns
    assert after["changed.yaml"].st_ino != before["changed.yaml"].st_ino
    assert after["chmod.yaml"].st_ino != before["chmod.yaml"].st_ino
    assert oct(after["chmod.yaml"].st_mode & 0o777) == "0o644"
    assert all(s.st_nlink == 1 for s in after.values()), "the previous tree is gone"
    assert tree(out) == {
        "same.yaml": b"kept\n",
        "changed.yaml": b"new\n",
        "chmod.yaml": b"kept\n",
        MANIFEST: (out / MANIFEST).read_bytes(),
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_file_gen_did_not_write_is_never_linked(tmp_path):
    out = tmp_path / "out"
    write_tree(out, {"a.yaml": b"x\n"})
    (out / "mine.yaml").write_bytes(b"x\n")  # the user's, with gen's content
    user = (out / "mine.yaml").stat().st_ino
    write_tree(out, {"a.yaml": b"x\n"})
    assert (out / "mine.yaml").stat().st_ino == user  # carried over, as always
    assert (out / "a.yaml").stat().st_nlink == 1
