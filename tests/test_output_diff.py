"""gen diff / render --check / init: library behaviour."""

from __future__ import annotations

import pytest
import yaml

from generator import pipeline, starters
from generator.pipeline import render_to_dir
from generator.spec import validate_document
from generator.spec.loader import load_text

from .conftest import EXAMPLES, ROOT

SPEC = ROOT / "examples" / "single-cluster-gpu" / "models.yaml"


def test_no_changes_after_render(tmp_path):
    render_to_dir(SPEC, tmp_path / "out")
    result = pipeline.diff_output(SPEC, tmp_path / "out")
    assert not result.changed
    assert result.as_dict() == {"changed": False, "files": [], "resources": {}}


def test_empty_output_dir_is_all_added(tmp_path):
    result = pipeline.diff_output(SPEC, tmp_path / "missing")
    assert result.changed
    assert {f.status for f in result.files} == {"added"}
    assert "default/RayService/gemma-2b-it" in result.resources["added"]


def test_changed_and_removed_resources(tmp_path):
    out = tmp_path / "out"
    render_to_dir(SPEC, out)
    spec = tmp_path / "models.yaml"
    text = SPEC.read_text()
    spec.write_text(
        text[: text.index("  - name: qwen-25-3b")].replace(
            "replicas: {min: 2, max: 2}", "replicas: {min: 1, max: 2}"
        )
    )
    result = pipeline.diff_output(spec, out)
    assert result.resources == {
        "removed": [
            "default/GCPBackendPolicy/qwen-25-3b-backend",
            "default/HTTPRoute/qwen-25-3b-route",
            "default/HealthCheckPolicy/qwen-25-3b-healthcheck",
            "default/NetworkPolicy/qwen-25-3b",
            "default/RayService/qwen-25-3b",
        ],
        "changed": ["default/RayService/gemma-2b-it"],
    }
    rayservice = next(f for f in result.files if f.path == "manifests/default/rayservice.yaml")
    assert rayservice.status == "changed"
    assert "-      replicas: 2\n" in rayservice.diff and "+      replicas: 1\n" in rayservice.diff
    assert rayservice.diff.startswith(
        "--- a/manifests/default/rayservice.yaml\n+++ b/manifests/default/rayservice.yaml\n"
    )


def test_user_files_are_not_part_of_the_diff(tmp_path):
    out = tmp_path / "out"
    render_to_dir(SPEC, out)
    (out / "mine.yaml").write_text("kind: Mine\n")
    assert not pipeline.diff_output(SPEC, out).changed


def test_every_example_is_a_scenario():
    assert sorted(starters.scenarios()) == EXAMPLES
    assert all(starters.scenarios().values())


@pytest.mark.parametrize("scenario", EXAMPLES)
def test_starter_specs_validate(scenario):
    text = starters.starter_spec(scenario)
    assert text.startswith("# yaml-language-server: $schema=models.schema.json\n")
    _, diags = validate_document(load_text(text, "models.yaml"))
    assert diags == []
    assert yaml.safe_load(text)["kind"] == "ModelFleet"
