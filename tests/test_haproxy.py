"""Ray Serve's HAProxy ingress only where the image carries haproxy (issue 16, defect 3)."""

from __future__ import annotations

import pytest
import yaml

from generator.pipeline import render_to_dir

SPEC = """\
apiVersion: gen.llm-fleet.dev/v1alpha1
kind: ModelFleet
metadata: {name: f}
models:
  - name: m
    source: hf://google/gemma-2b-it
    accelerator: {type: nvidia-l4}
EXTRA"""


def _env(tmp_path, extra: str) -> tuple[dict, dict[str, str]]:
    spec = tmp_path / "models.yaml"
    spec.write_text(SPEC.replace("EXTRA", extra))
    render_to_dir(spec, tmp_path / "out")
    doc = yaml.safe_load((tmp_path / "out" / "manifests" / "default" / "rayservice.yaml").read_text())
    worker = doc["spec"]["rayClusterConfig"]["workerGroupSpecs"][0]["template"]["spec"]["containers"][0]
    return doc, {e["name"]: e.get("value") for e in worker["env"]}


@pytest.mark.parametrize(
    ("extra", "on", "vouched"),
    [
        ("", True, False),  # rayproject/ray-llm carries haproxy
        ("    haproxy: false\n", False, False),  # the operator turns it off
        ("    image: example.com/my/vllm:1\n    rayVersion: '2.60.0'\n", False, False),  # unknown image
        ("    image: example.com/my/vllm:1\n    rayVersion: '2.60.0'\n    haproxy: true\n", True, True),
    ],
)
def test_haproxy_follows_the_image(tmp_path, extra, on, vouched):
    doc, env = _env(tmp_path, extra)
    assert ("RAY_SERVE_ENABLE_HA_PROXY" in env) is on
    assert (env.get("RAY_SERVE_DEFAULT_HTTP_HOST") == "0.0.0.0") is on
    annotations = doc["metadata"]["annotations"]
    assert (annotations.get("gen.llm-fleet.dev/image-has-haproxy") == "true") is vouched
