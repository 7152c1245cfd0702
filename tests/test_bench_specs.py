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
