"""The environments the Makefile builds are exactly the lock files (make lock refreshes them)."""

from __future__ import annotations

import sys
import sysconfig
from importlib import metadata
from pathlib import Path

import pytest

from . import locks
from .conftest import ROOT

LOCKS = [ROOT / "locks" / n for n in ("uv.txt", "gen.txt", "dev.txt")]
LOCKS.append(ROOT / "security" / "requirements.txt")


@pytest.mark.parametrize("lock", LOCKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_requirement_is_pinned_with_hashes(lock: Path):
    assert locks.pins(lock), f"{lock} pins nothing"
    assert locks.hashed(lock), f"{lock}: a requirement without --hash (run make lock)"


def test_runtime_lock_is_a_subset_of_the_dev_lock():
    gen, dev = locks.pins(ROOT / "locks" / "gen.txt"), locks.pins(ROOT / "locks" / "dev.txt")
    differ = {n: (v, dev.get(n)) for n, v in gen.items() if dev.get(n) != v}
    assert not differ, f"make demo and make test would install different versions: {differ}"


@pytest.mark.lock
def test_the_test_environment_equals_the_dev_lock():
    """`pip freeze` of .venv == locks/dev.txt (plus gen itself, installed editable)."""
    if Path(sys.prefix).resolve() != (ROOT / ".venv").resolve():
        pytest.fail(
            f"run through `make test` (.venv), not {sys.prefix}; "
            "`make test-latest` deselects this test with -m 'not lock'"
        )
    # only site-packages: `import ray` puts its vendored ray/thirdparty_files on sys.path
    site = sysconfig.get_paths()["purelib"]
    installed = {locks.canonical(d.metadata["Name"]): d.version for d in metadata.distributions(path=[site])}
    installed.pop("gen-llm-fleet")
    wanted = locks.pins(ROOT / "locks" / "dev.txt", here=True)
    assert installed == wanted
