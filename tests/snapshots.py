"""Snapshots as plain files: the one switch (`pytest --snapshot-update`, `make golden`) of every
snapshot corpus (golden/<example>/, tests/negative/ and tests/hostile/ expected.txt, the
`gen check` corpus).

`file_snapshot(name="golden/single-cluster-gpu/chart/values.yaml")` is the file at that path
from the repository root, holding exactly the bytes the test produced: no syrupy header, so a
.yaml snapshot stays a .yaml file and a snapshot diff reads like a code review. Files no test
produces any more are found by `leftovers` (syrupy's own unused-snapshot search only knows
its `__snapshots__/` layout).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

from syrupy.data import SnapshotCollections
from syrupy.extensions.single_file import SingleFileSnapshotExtension

ROOT = Path(__file__).resolve().parent.parent


class FileSnapshot(SingleFileSnapshotExtension):
    """One snapshot per file, stored at ROOT / <the snapshot's name>, bytes as produced."""

    file_extension = ""  # the name carries its own (.yaml, .md, .txt, ...)

    @classmethod
    def get_location(cls, *, test_location: Any, index: Any) -> str:
        if not isinstance(index, str) or not index or Path(index).is_absolute() or ".." in Path(index).parts:
            raise ValueError(f"name the snapshot by its path from the repository root, not {index!r}")
        return str(ROOT / index)

    @classmethod
    def matches_test_location(cls, *, test_location: Any, snapshot_location: str) -> bool:
        return True  # the location is the name the test gave, whichever test gave it

    def discover_snapshots(self, *, test_location: Any, ignore_extensions: Any = None) -> SnapshotCollections:
        # Nothing for syrupy to call unused: each corpus checks its own leftovers (below),
        # where it knows which files a test run must produce.
        return SnapshotCollections()

    def serialize(self, data: Any, **kwargs: Any) -> bytes:
        return data.encode() if isinstance(data, str) else bytes(super().serialize(data, **kwargs))

    def diff_lines(self, serialized_data: Any, snapshot_data: Any) -> Iterator[str]:
        # bytes would be diffed as one b'...' line
        yield from super().diff_lines(_text(serialized_data), _text(snapshot_data))


def _text(data: Any) -> Any:
    return data.decode(errors="backslashreplace") if isinstance(data, bytes) else data


def leftovers(directory: Path, produced: Collection[str], *, update: bool) -> list[str]:
    """Files under ``directory`` (relative POSIX paths) that are not in ``produced``: snapshots
    left over from an earlier output. With ``update`` they are deleted (empty folders too) and
    none is returned."""
    stale = sorted(
        rel
        for path in directory.rglob("*")
        if path.is_file() and (rel := path.relative_to(directory).as_posix()) not in produced
    )
    if not update:
        return stale
    for rel in stale:
        (directory / rel).unlink()
    for folder in sorted((p for p in directory.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        if not any(folder.iterdir()):
            folder.rmdir()
    return []
