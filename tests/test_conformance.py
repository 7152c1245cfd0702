"""Every rendered resource is strictly valid against the pinned upstream schemas, and every
RayService's serve config validates with Ray 2.54's own ServeDeploySchema and LLMConfig."""

from __future__ import annotations

import pytest
import yaml

from generator import catalog
from generator.check.ray_serve import validate_serve_config
from generator.check.schemas import validate_resource
from generator.render import render_spec
from generator.spec import validate_document
from generator.spec.loader import load_text

from .conftest import ROOT
from .renderutil import RENDERED, rendered

CASES = [(e, i) for e in RENDERED for i in range(len(rendered(e)[1]))]


@pytest.mark.parametrize("example, index", CASES)
def test_resource_is_strictly_valid(example, index):
    resource = rendered(example)[1][index]
    assert [p.format() for p in validate_resource(resource.obj)] == []


@pytest.mark.parametrize("example", RENDERED)
def test_serve_configs_validate_with_ray(example):
    services = [r for r in rendered(example)[1] if r.kind == "RayService"]
    assert services
    for r in services:
        assert validate_serve_config(r.obj["spec"]["serveConfigV2"]) == [], r.name


def _render_one(accelerator: str) -> dict:
    text = f"""apiVersion: gen.llm-fleet.dev/v1alpha1
kind: ModelFleet
metadata: {{name: t}}
models:
  - name: m
    source: hf://org/model
    accelerator: {accelerator}
    engineArgs: {{max_model_len: 4096}}
    replicas: {{min: 0, max: 4}}
"""
    data, diags = validate_document(load_text(text, "t.yaml"))
    assert diags == []
    from generator.spec import Spec

    _, _, resources = render_spec(Spec(load_text(text, "t.yaml"), data))
    return next(r.obj for r in resources if r.kind == "RayService")


@pytest.mark.parametrize("gpu", sorted(catalog.gpus()))
def test_every_catalog_gpu_renders_a_valid_rayservice(gpu):
    count = next(c for c in catalog.gpus()[gpu]["counts"] if c > 1)
    obj = _render_one(f"{{type: {gpu}, count: {count}}}")
    assert [p.format() for p in validate_resource(obj)] == []
    assert validate_serve_config(obj["spec"]["serveConfigV2"]) == []
    llm = yaml.safe_load(obj["spec"]["serveConfigV2"])["applications"][0]["args"]["llm_configs"][0]
    assert llm["accelerator_type"] == catalog.gpus()[gpu]["rayAcceleratorType"]
    # tensor parallelism derived from the replica's two GPUs
    assert llm["engine_kwargs"] == {"max_model_len": 4096, "tensor_parallel_size": count}


def test_checker_catches_a_broken_resource():
    obj = _render_one("{type: nvidia-l4}")
    obj["spec"]["rayClusterConfig"]["headGroupSpec"]["template"]["spec"]["containers"][0][
        "imagePullPolcy"
    ] = "Always"
    problems = [p.format() for p in validate_resource(obj)]
    assert len(problems) == 1 and "imagePullPolcy" in problems[0]


def test_llm_d_objective_profile(tmp_path):
    """The llm-d profile emits llm-d.ai/v1alpha2 objectives, valid against their pinned CRD,
    and lets the endpoint pickers read that API group."""
    from generator.spec import Spec

    text = (
        (ROOT / "examples" / "multi-cluster" / "models.yaml")
        .read_text()
        .replace("defaults:\n", "defaults:\n  inferenceObjectiveProfile: llm-d\n")
    )
    doc = load_text(text, "models.yaml")
    data, diags = validate_document(doc)
    assert diags == []
    _, _, resources = render_spec(Spec(doc, data))
    objectives = [r.obj for r in resources if r.kind == "InferenceObjective"]
    assert objectives and {o["apiVersion"] for o in objectives} == {"llm-d.ai/v1alpha2"}
    for o in objectives:
        assert validate_resource(o) == []
    roles = [r.obj for r in resources if r.kind == "Role"]
    assert all(any(rule["apiGroups"] == ["llm-d.ai"] for rule in role["rules"]) for role in roles)


def test_network_policies_with_inference_pools():
    """security.networkPolicy also locks down the endpoint pickers: only the gateway's
    ranges reach ext-proc and health, only collectors the metrics port."""
    from generator.check.crossref import check_references
    from generator.spec import Spec

    text = (ROOT / "examples" / "multi-cluster" / "models.yaml").read_text() + (
        "security:\n  networkPolicy:\n    operatorNamespace: ray-system\n"
        "    loadBalancerCIDRs: [10.0.0.0/23, 10.5.0.0/23]\n"
    )
    doc = load_text(text, "models.yaml")
    data, diags = validate_document(doc)
    assert diags == []
    _, _, resources = render_spec(Spec(doc, data))
    policies = [r for r in resources if r.kind == "NetworkPolicy"]
    epp = [p.obj for p in policies if p.name.endswith("-epp")]
    assert len(epp) == 2  # one per workload cluster
    for obj in (p.obj for p in policies):
        assert validate_resource(obj) == []
    rule = epp[0]["spec"]["ingress"][0]
    assert [b["ipBlock"]["cidr"] for b in rule["from"]] == [
        "35.191.0.0/16",
        "130.211.0.0/22",
        "10.0.0.0/23",
        "10.5.0.0/23",
    ]
    assert [p["port"] for p in rule["ports"]] == [9002, 9003]
    scopes: dict[str, list] = {}
    for r in resources:
        scopes.setdefault(r.cluster, []).append(r.obj)
    assert check_references(scopes) == []
