"""Operational checks: output the schemas accept but a cluster would not run well.

Each case hand-breaks a rendered example the way the review found real output broken and
expects `gen check` to exit 1 with a message naming the fix."""

from __future__ import annotations

import shutil

import pytest
import yaml

from generator.check.operational import accelerators_match_parallelism

from ..conftest import ROOT

GOLDEN = ROOT / "golden"


def _rayservice(example: str, cluster: str) -> dict:
    return yaml.safe_load((GOLDEN / example / "manifests" / cluster / "rayservice.yaml").read_text())


def _with_serve_config(obj: dict, edit) -> dict:
    config = yaml.safe_load(obj["spec"]["serveConfigV2"])
    edit(config["applications"][0]["args"]["llm_configs"])
    obj["spec"]["serveConfigV2"] = yaml.safe_dump(config)
    return obj


@pytest.mark.parametrize(
    ("example", "cluster"),
    [
        ("multi-cluster", "gke-east"),
        ("multiplexing-gcsfuse", "default"),
        ("single-cluster-gpu", "default"),
        ("tpu-multihost-dranet", "ray-llm-cluster"),
    ],
)
def test_rendered_examples_use_every_accelerator(example, cluster):
    docs = yaml.safe_load_all((GOLDEN / example / "manifests" / cluster / "rayservice.yaml").read_text())
    assert [p for d in docs for p in accelerators_match_parallelism(d)] == []


def test_the_output_before_tensor_parallelism_was_derived_idles_half_the_gpus():
    """multi-cluster as gen rendered it before: 3 workers x 2 H100, tensor parallelism 1."""
    obj = _rayservice("multi-cluster", "gke-east")

    def drop_tp(llms):
        for llm in llms:
            llm["engine_kwargs"].pop("tensor_parallel_size")

    (problem,) = accelerators_match_parallelism(_with_serve_config(obj, drop_tp))
    assert problem.path == "spec.rayClusterConfig.workerGroupSpecs"
    assert problem.message.startswith("3 of 6 nvidia.com/gpu idle")
    assert "tensor x pipeline = 2 nvidia.com/gpu per pod" in problem.message


def test_too_much_parallelism_cannot_be_placed():
    obj = _rayservice("multi-cluster", "gke-east")

    def tp4(llms):
        llms[0]["engine_kwargs"]["tensor_parallel_size"] = 4

    problems = [p.message for p in accelerators_match_parallelism(_with_serve_config(obj, tp4))]
    assert any("would never be placed" in m for m in problems), problems


def test_a_non_llm_rayservice_is_not_judged():
    obj = _rayservice("multi-cluster", "gke-east")
    obj["spec"]["serveConfigV2"] = "applications:\n- name: app\n  import_path: mod:app\n"
    assert accelerators_match_parallelism(obj) == []


def test_gen_check_fails_on_gpus_per_worker_changed(tmp_path, cli):
    out = tmp_path / "out"
    shutil.copytree(GOLDEN / "multi-cluster", out)
    path = out / "manifests" / "gke-east" / "rayservice.yaml"
    path.write_text(path.read_text().replace('nvidia.com/gpu: "2"', 'nvidia.com/gpu: "4"'))
    result = cli("check", str(out))
    assert result.exit_code == 1
    assert "spec.rayClusterConfig.workerGroupSpecs: 6 of 12 nvidia.com/gpu idle always" in (result.output)
