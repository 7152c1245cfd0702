"""The peer of P0: the llm-d-modelservice Helm chart, pinned by commit (see README.md).

    .venv/bin/python bench/peer/peer.py                        # fetch from GitHub (git)
    .venv/bin/python bench/peer/peer.py --git-dir DIR          # from a local clone/mirror

Materializes the chart, its example values and its LICENSE at the pinned commit into
bench/peer/llm-d-modelservice/ (git-ignored) and checks the commit's tree id, so the
bytes benchmarked are exactly the pinned ones. ``bench/run.py`` calls ``ensure()``.
"""

from __future__ import annotations

import argparse
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


def ensure(git_dir: str | None = None) -> Path:
    """The materialized peer checkout (fetched if missing or at another commit)."""
    if STAMP.is_file() and STAMP.read_text(encoding="utf-8").strip() == COMMIT:
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
