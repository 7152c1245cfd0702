"""The benchmark's synthetic fleets stay valid specs: a bench that times gen validate or
gen render on a spec gen refuses would measure the error path, not the work."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from generator.spec import validate_document
from generator.spec.loader import load_text

from .conftest import ROOT

_spec = importlib.util.spec_from_file_location("gen_bench_make_specs", ROOT / "bench" / "make_specs.py")
assert _spec is not None and _spec.loader is not None
make_specs = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = make_specs
_spec.loader.exec_module(make_specs)


@pytest.mark.parametrize("build", ["render", "validate"])
def test_bench_specs_validate(build):
    # 120 models: every GPU type/count and TPU slice choice is cycled through at least once
    data = make_specs.render_spec(120) if build == "render" else make_specs.validate_spec(120)
    _, diags = validate_document(load_text(make_specs._dump(data), f"{build}-120.yaml"))
    assert [d.format() for d in diags] == []


def _peer_module():
    spec = importlib.util.spec_from_file_location("gen_bench_peer", ROOT / "bench" / "peer" / "peer.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_peer_chart_is_the_pinned_commit_with_its_licence():
    """P0's peer is committed under bench/peer/ exactly as at the pinned commit (git blob
    ids from PINNED.txt), its Apache-2.0 LICENSE with it; checked offline."""
    peer = _peer_module()
    assert peer.verify() == []
    assert (peer.DEST / "LICENSE").read_text(encoding="utf-8").lstrip().startswith("Apache License")
    assert peer.STAMP.read_text(encoding="utf-8").strip() == peer.COMMIT
    assert peer.COMMIT in peer.PINNED.read_text(encoding="utf-8").splitlines()[0]


def test_the_peer_check_catches_a_changed_file(tmp_path, monkeypatch):
    peer = _peer_module()
    import shutil

    copy = tmp_path / "llm-d-modelservice"
    shutil.copytree(peer.DEST, copy)
    (copy / "examples" / "values-pd.yaml").write_text("changed: true\n", encoding="utf-8")
    (copy / "extra.txt").write_text("x\n", encoding="utf-8")
    monkeypatch.setattr(peer, "DEST", copy)
    monkeypatch.setattr(peer, "STAMP", copy / ".pinned-commit")
    assert peer.verify() == [
        "extra.txt: not in the pinned commit",
        "examples/values-pd.yaml: differs from blob 8ff3e3498f8341cbc835cc1987a4e85436a01268",
    ]
