"""The emitted README's prerequisites are derived from the rendered resources
(generator/render/prerequisites.py): every feature an output uses has its row and commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.plan import build_plan
from generator.render import render_plan
from generator.render.prerequisites import prerequisites
from generator.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p.parent.name for p in (ROOT / "examples").glob("*/models.yaml"))


def _render(example: str):
    plan = build_plan(load_spec(ROOT / "examples" / example / "models.yaml"))
    files, resources = render_plan(plan)
    return plan, files, resources


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_feature_in_the_output_has_its_prerequisite(example):
    plan, files, resources = _render(example)
    readme = files["README.md"].decode()
    rows = {r.key for r in prerequisites(plan, resources)}
    kinds = {r.kind for r in resources}
    text = "\n".join(r.text for r in resources)
    assert ("ray-operator" in rows) == ("RayService" in kinds)
    assert ("gateway-api" in rows) == ("Gateway" in kinds)
    assert ("gcs-fuse" in rows) == ("gcsfuse.csi.storage.gke.io" in text)
    assert ("dataplane-v2" in rows) == ("ResourceClaimTemplate" in kinds)
    assert ("custom-metrics" in rows) == ("AutoscalingMetric" in kinds)
    assert ("objective-crd" in rows) == ("InferenceObjective" in kinds)
    for r in resources:
        if r.kind != "RayService":
            continue
        for group in r.obj["spec"]["rayClusterConfig"]["workerGroupSpecs"]:
            selector = group["template"]["spec"]["nodeSelector"]
            autopilot = all(c.mode == "autopilot" for c in plan.clusters if c.name == r.cluster)
            if "cloud.google.com/gke-accelerator" in selector and not autopilot:
                assert f"--accelerator type={selector['cloud.google.com/gke-accelerator']}," in readme
            if "cloud.google.com/gke-tpu-topology" in selector and not autopilot:
                assert f"--tpu-topology {selector['cloud.google.com/gke-tpu-topology']}" in readme
    secrets = {
        (ref["name"], ref["key"])
        for r in resources
        if r.kind in ("RayService", "Job", "Deployment")
        for ref in _secret_refs(r.obj)
    }
    made = {r.name for r in resources if r.kind == "Secret"}
    for name, key in secrets - {(n, k) for n, k in secrets if n in made}:
        assert f"kubectl create secret generic {name} -n {plan.namespace} --from-literal={key}=" in readme


def _secret_refs(node):
    if isinstance(node, dict):
        if "secretKeyRef" in node:
            yield node["secretKeyRef"]
        for v in node.values():
            yield from _secret_refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from _secret_refs(v)


def test_a_row_goes_when_its_resource_goes():
    plan, _, resources = _render("tpu-multihost-dranet")
    keys = [r.key for r in prerequisites(plan, resources)]
    assert "dataplane-v2" in keys and "gcs-fuse" in keys
    without = [r for r in resources if r.kind != "ResourceClaimTemplate"]
    assert "dataplane-v2" not in [r.key for r in prerequisites(plan, without)]


def test_the_download_job_gets_write_access_and_serving_read_only():
    _, files, _ = _render("tpu-multihost-dranet")
    readme = files["README.md"].decode()
    assert 'sa/vllm-tpu-multihost-download" --role=roles/storage.objectUser' in readme
    assert "--role=roles/storage.objectViewer" in readme
    assert "roles/storage.objectAdmin" not in readme


def test_weights_read_from_a_bucket_nobody_fills_are_a_prerequisite():
    _, files, _ = _render("multiplexing-gcsfuse")
    readme = files["README.md"].decode()
    assert "Model weights at gs://my-model-bucket/google/gemma-2-9b-it" in readme


def test_autopilot_lists_no_command_for_what_it_does_itself():
    plan, files, resources = _render("tpu-autopilot")
    rows = {r.key: r for r in prerequisites(plan, resources)}
    assert rows["gcs-fuse"].commands == [] and rows["gcs-fuse"].autopilot == "on by default"
    assert rows["tpu-nodes"].commands == []
    assert "GcsFuseCsiDriver=ENABLED" not in files["README.md"].decode()


def test_the_readme_says_what_multiplexing_costs():
    _, files, _ = _render("multiplexing-gcsfuse")
    readme = files["README.md"].decode()
    # 2 models x 1..2 replicas x 2 L4 each, every model loaded all the time
    assert "holds\n4 accelerators at minimum scale and 8 at maximum" in readme
    assert "offers that as `models[].lora`" in readme
