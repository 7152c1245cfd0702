"""`gen check` says what no offline check covers (CEL transition rules) only under
--verbose: the note is the same on every run. JSON still lists it for tools."""

from __future__ import annotations

import json

from .conftest import ROOT


def test_check_notes_unevaluated_cel_rules_only_when_verbose(cli, tmp_path):
    out = tmp_path / "out"
    assert cli("render", str(ROOT / "examples/single-cluster-gpu/models.yaml"), "-o", str(out)).exit_code == 0
    quiet = cli("check", str(out))
    assert quiet.exit_code == 0 and "CEL rules not evaluated" not in quiet.output
    verbose = cli("check", "--verbose", str(out))
    assert verbose.exit_code == 0
    assert verbose.stderr.count("CEL rules not evaluated") == 1, verbose.stderr
    report = json.loads(cli("check", "--format", "json", str(out)).stdout)
    assert any("CEL rules not evaluated" in n for n in report["notes"])  # tools still see it
