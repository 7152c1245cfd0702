"""Every example validates, and the CLI reports it with exit code 0."""

from __future__ import annotations

import pytest

from generator.spec import validate_file

from .conftest import EXAMPLES, ROOT


def test_every_scenario_has_an_example():
    assert set(EXAMPLES) >= {
        "single-cluster-gpu",
        "path-routing",
        "multi-cluster",
        "multiplexing-gcsfuse",
        "tpu-multihost-dranet",
        "tpu-autopilot",
    }


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_validates(example):
    spec, diags = validate_file(ROOT / "examples" / example / "models.yaml")
    assert [d.format() for d in diags] == []
    assert spec is not None


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_has_schema_association_line(example):
    first = (ROOT / "examples" / example / "models.yaml").read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../../schemas/models.schema.json"


def test_cli_validate_all_examples(cli):
    paths = [str(ROOT / "examples" / e / "models.yaml") for e in EXAMPLES]
    result = cli("validate", *paths)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Summary: {len(paths)} files valid\n"
