"""`gen render -o OUT` lets one writer at a time replace OUT, without leaving a lock file.

The lock is an flock on OUT itself (see generator/render/writer.py): nothing beside OUT
dirties `git status`, nothing inside OUT gets committed, and a writer that waited while
another swapped a new tree in locks the new directory, not the old one.
"""

from __future__ import annotations

import json
import os
import threading
import time

import pytest

from generator.render.writer import MANIFEST, OutputError, lock_target, write_tree


def files(tag: str, n: int = 20) -> dict[str, bytes]:
    return {f"manifests/f{i:02d}.yaml": f"{tag} {i}\n".encode() for i in range(n)} | {"tag": tag.encode()}


def content(out) -> dict[str, bytes]:
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }


def start(target, data) -> threading.Thread:
    thread = threading.Thread(target=write_tree, args=(target, data), daemon=True)
    thread.start()
    return thread


def test_render_leaves_nothing_beside_or_inside_the_output_but_its_files(tmp_path):
    out = tmp_path / "out"
    write_tree(out, files("a"))
    write_tree(out, files("b"))  # the swap path, not only the first write
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert content(out) == files("b")
    assert json.loads((out / MANIFEST).read_text())["files"] == sorted(files("b"))
    assert oct(out.stat().st_mode & 0o777) == "0o755"


def test_a_second_writer_waits_for_the_lock(tmp_path):
    out = tmp_path / "out"
    write_tree(out, files("a"))
    fd = lock_target(out)
    try:
        writer = start(out, files("b"))
        writer.join(0.5)
        assert writer.is_alive(), "write_tree did not wait for the lock"
        assert content(out) == files("a")
    finally:
        os.close(fd)
    writer.join(10)
    assert not writer.is_alive()
    assert content(out) == files("b")


def test_a_waiting_writer_locks_the_directory_swapped_in_meanwhile(tmp_path):
    """While B waits on the old directory, A swaps a new one in (as a render does): B must
    write into the directory OUT names now, and only while nobody holds that one."""
    out = tmp_path / "out"
    write_tree(out, files("a"))
    fd_old = lock_target(out)
    writer = start(out, files("b"))
    time.sleep(0.2)  # B is now blocked on the old directory
    os.rename(out, tmp_path / "old")
    write_tree(out, files("new"))  # the swapped-in tree (OUT free: no one locked it)
    fd_new = lock_target(out)
    try:
        os.close(fd_old)  # B gets the old directory's lock, sees it is stale
        writer.join(0.5)
        assert writer.is_alive(), "B wrote while another writer held OUT's lock"
    finally:
        os.close(fd_new)
    writer.join(10)
    assert not writer.is_alive()
    assert content(out) == files("b")
    assert content(tmp_path / "old") == files("a")


def test_concurrent_writers_leave_one_complete_tree(tmp_path):
    out = tmp_path / "out"
    trees = {f"w{i}": files(f"w{i}", 40) for i in range(6)}
    errors: list[BaseException] = []

    def run(data: dict[str, bytes]) -> None:
        try:
            for _ in range(3):
                write_tree(out, data)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(data,)) for data in trees.values()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    final = content(out)
    assert final in trees.values()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_the_output_directory_is_removed_again_when_the_first_write_fails(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(OutputError, match="plain relative path"):
        write_tree(out, {"../escape": b"x"})
    assert not out.exists()
    out2 = tmp_path / "out2"
    with pytest.raises(OSError):
        write_tree(out2, {"a": b"x", "a/b": b"y"})  # a file and a directory at one path
    assert not out2.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_the_lock_file_older_gen_left_beside_the_output_is_removed(tmp_path):
    (tmp_path / ".out.gen.lock").touch()
    (tmp_path / ".other.gen.lock").touch()  # another output's: not ours to judge here
    write_tree(tmp_path / "out", files("a"))
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.gen.lock", "out"]
