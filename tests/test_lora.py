"""LoRA adapters served on demand (models[].lora -> Ray Serve LLM lora_config)."""

from __future__ import annotations

import yaml

from generator.pipeline import render_to_dir
from generator.spec import SpecError, load_spec

SPEC = """\
apiVersion: gen.llm-fleet.dev/v1alpha1
kind: ModelFleet
metadata: {name: f, project: my-project}
defaults: {hfTokenSecret: null}
gateway: {routing: ROUTING}
models:
  - name: m
    source: hf://google/gemma-2b-it
    accelerator: {type: nvidia-l4}
    serviceAccount: {name: ray-serve}
    lora: {path: gs://my-adapters/gemma/, maxRank: 32}
"""


def _write(tmp_path, routing: str):
    path = tmp_path / "models.yaml"
    path.write_text(SPEC.replace("ROUTING", routing))
    return path


def test_lora_becomes_lora_config_and_the_engine_flags(tmp_path):
    render_to_dir(_write(tmp_path, "path"), tmp_path / "out", strict=True)  # Ray's own LLMConfig accepts it
    doc = yaml.safe_load((tmp_path / "out" / "manifests" / "default" / "rayservice.yaml").read_text())
    (llm,) = yaml.safe_load(doc["spec"]["serveConfigV2"])["applications"][0]["args"]["llm_configs"]
    assert llm["lora_config"] == {
        "dynamic_lora_loading_path": "gs://my-adapters/gemma",
        "max_num_adapters_per_replica": 16,
    }
    assert llm["engine_kwargs"]["enable_lora"] is True
    assert llm["engine_kwargs"]["max_lora_rank"] == 32
    readme = (tmp_path / "out" / "README.md").read_text()
    assert '"model": "m:ADAPTER"' in readme
    assert "Read access to gs://my-adapters for ServiceAccount `ray-serve`" in readme


def test_lora_behind_an_exact_model_match_is_refused(tmp_path):
    try:
        load_spec(_write(tmp_path, "header"))
    except SpecError as exc:
        message = str(exc)
    else:
        raise AssertionError("accepted")
    assert "models[0].lora" in message and "never matches" in message
