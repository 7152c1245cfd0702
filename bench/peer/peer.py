"""The peer of P0: the llm-d-modelservice Helm chart, pinned by commit (see README.md).

    .venv/bin/python bench/peer/peer.py                        # check the committed copy
    .venv/bin/python bench/peer/peer.py --git-dir DIR          # re-extract it from a clone

The chart, its example values and its LICENSE at the pinned commit are committed in
bench/peer/llm-d-modelservice/; PINNED.txt is ``git ls-tree -r`` of those paths at that
commit, and ``verify()`` checks every committed file's git blob id against it (offline:
tests/test_bench_specs.py), so the bytes benchmarked are exactly the pinned ones.
``bench/run.py`` calls ``ensure()``. ``--git-dir`` extracts them again from a clone or
mirror (checking the commit's tree id), e.g. to move the pin.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

REPO = "https://github.com/llm-d-incubation/llm-d-modelservice"
COMMIT = "3051935eb5a49f6df21cd6aeb5e4f05b98799262"  # 2026-04-22, chart version v0.4.12
TREE = "06e9dcd8a19b49027aa8ca9222ba808150efb3d4"  # git rev-parse COMMIT^{tree}
PATHS = ("LICENSE", "charts/llm-d-modelservice", "examples/values-pd.yaml")
HERE = Path(__file__).resolve().parent
DEST = HERE / "llm-d-modelservice"
STAMP = DEST / ".pinned-commit"
PINNED = HERE / "PINNED.txt"
CHART = DEST / "charts" / "llm-d-modelservice"
VALUES = DEST / "examples" / "values-pd.yaml"


def _git(git_dir: Path, *args: str) -> bytes:
    return subprocess.run(
        ["git", f"--git-dir={git_dir}", *args], check=True, capture_output=True, timeout=300
    ).stdout


def _extract(git_dir: Path) -> None:
    tree = _git(git_dir, "rev-parse", f"{COMMIT}^{{tree}}").decode().strip()
    if tree != TREE:
        raise SystemExit(f"{git_dir}: commit {COMMIT} has tree {tree}, expected {TREE}")
    archive = _git(git_dir, "archive", "--format=tar", COMMIT, *PATHS)
    tmp = Path(tempfile.mkdtemp(prefix=".peer-", dir=HERE))
    try:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        (tmp / STAMP.name).write_text(COMMIT + "\n", encoding="utf-8")
        shutil.rmtree(DEST, ignore_errors=True)
        tmp.rename(DEST)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def blob_id(data: bytes) -> str:
    """git hash-object of ``data``."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def verify() -> list[str]:
    """Differences between the committed copy and the pinned commit's blobs (none: [])."""
    pinned = {}
    for line in PINNED.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            meta, path = line.split("\t", 1)
            pinned[path] = meta.split()[2]
    have = {p.relative_to(DEST).as_posix() for p in DEST.rglob("*") if p.is_file() and p != STAMP}
    problems = [f"{p}: not in the pinned commit" for p in sorted(have - set(pinned))]
    for path, blob in sorted(pinned.items()):
        if path not in have:
            problems.append(f"{path}: missing")
        elif blob_id((DEST / path).read_bytes()) != blob:
            problems.append(f"{path}: differs from blob {blob}")
    return problems


def ensure(git_dir: str | None = None) -> Path:
    """The pinned peer chart (the committed copy, checked; extracted from ``git_dir`` if given)."""
    if git_dir is None and STAMP.is_file() and STAMP.read_text(encoding="utf-8").strip() == COMMIT:
        problems = verify()
        if problems:
            raise SystemExit(f"{DEST}: not the pinned commit {COMMIT}: {'; '.join(problems[:5])}")
        return DEST
    if git_dir:
        _extract(Path(git_dir))
        return DEST
    with tempfile.TemporaryDirectory(prefix="peer-clone-") as tmp:
        bare = Path(tmp) / "repo.git"
        subprocess.run(
            ["git", "clone", "--quiet", "--bare", "--filter=blob:none", REPO, str(bare)],
            check=True,
            timeout=600,
        )
        _extract(bare)
    return DEST


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--git-dir", help="a local clone or mirror of the peer repository (its .git)")
    args = ap.parse_args(argv)
    print(ensure(args.git_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
