"""serveConfigV2 validation against Ray's own Serve and Serve LLM models (Ray 2.60)."""

from __future__ import annotations

import copy
import socket
from pathlib import Path

import pytest
import yaml

from generator.check import ray_serve
from generator.check.ray_serve import RayNotInstalled, ray_available, validate_serve_config

LLM0 = "applications[0].args.llm_configs[0]"
UPSTREAM = Path(__file__).resolve().parents[1] / "fixtures" / "upstream-samples"

# The GKE tutorial's serve config, as published.
SEED = """\
applications:
- name: llm_app
  route_prefix: "/"
  import_path: ray.serve.llm:build_openai_app
  args:
    llm_configs:
    - model_loading_config:
        model_id: gemma-2b-it
        model_source: google/gemma-2b-it
      accelerator_type: L4
      log_engine_metrics: true
      deployment_config:
        autoscaling_config:
          min_replicas: 2
          max_replicas: 2
      health_check_period_s: 600
      health_check_timeout_s: 300
"""

TPU_MULTIHOST = """\
applications:
- name: llm
  route_prefix: /
  import_path: ray.serve.llm:build_openai_app
  runtime_env:
    env_vars: {VLLM_XLA_CACHE_PATH: /tmp/vllm_xla_cache}
  args:
    ingress_deployment_config:
      autoscaling_config: {min_replicas: 1, max_replicas: 2}
    llm_configs:
    - model_loading_config:
        model_id: gemma-31b
        model_source: {bucket_uri: "gs://models/gemma-4-31b-it"}
      accelerator_type: TPU-V6E
      engine_kwargs: {tensor_parallel_size: 16, max_model_len: 8192, enable_lora: true,
                      max_loras: 4, max_lora_rank: 32}
      placement_group_config:
        strategy: STRICT_SPREAD
        bundles:
        - {CPU: 1, GPU: 0, TPU: 4}
        - {CPU: 1, GPU: 0, TPU: 4}
        - {CPU: 1, GPU: 0, TPU: 4}
        - {CPU: 1, GPU: 0, TPU: 4}
      runtime_env:
        env_vars: {TPU_MULTIHOST_BACKEND: ray, JAX_PLATFORMS: "tpu,cpu"}
      lora_config:
        dynamic_lora_loading_path: gs://models/loras
        max_num_adapters_per_replica: 4
      deployment_config:
        num_replicas: 1
        health_check_period_s: 600
        health_check_timeout_s: 300
"""


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Validation must stay offline: any connection attempt fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def fixed_seed() -> dict:
    """The seed with its health checks where Ray accepts them."""
    config = yaml.safe_load(SEED)
    llm = config["applications"][0]["args"]["llm_configs"][0]
    for key in ("health_check_period_s", "health_check_timeout_s"):
        llm["deployment_config"][key] = llm.pop(key)
    return config


def check(config: dict) -> list[str]:
    return validate_serve_config(yaml.safe_dump(config))


def with_llm(**changes) -> dict:
    """fixed_seed() with llm_configs[0] keys replaced (a value of None removes the key)."""
    config = copy.deepcopy(fixed_seed())
    llm = config["applications"][0]["args"]["llm_configs"][0]
    for key, value in changes.items():
        if value is None:
            llm.pop(key, None)
        else:
            llm[key] = value
    return config


def test_ray_available():
    assert ray_available()


def test_seed_as_published_puts_health_checks_in_the_wrong_place():
    assert validate_serve_config(SEED) == [
        f"{LLM0}.health_check_period_s: unknown field; it is a Serve deployment option: "
        "put it under deployment_config",
        f"{LLM0}.health_check_timeout_s: unknown field; it is a Serve deployment option: "
        "put it under deployment_config",
    ]


def test_seed_with_health_checks_under_deployment_config_is_clean():
    assert check(fixed_seed()) == []


def test_tpu_multihost_is_clean():
    assert validate_serve_config(TPU_MULTIHOST) == []


@pytest.mark.parametrize(
    "source",
    ["google/gemma-2b-it", "gs://bucket/gemma-2b-it", "/data/models/gemma-2b-it", {"bucket_uri": "s3://b/m"}],
)
def test_model_sources(source):
    assert check(with_llm(model_loading_config={"model_id": "m", "model_source": source})) == []


def test_unknown_key_in_application():
    config = fixed_seed()
    config["applications"][0]["routeprefix"] = "/v1"
    assert check(config) == ["applications[0].routeprefix: unknown field"]


def test_unknown_top_level_and_args_keys():
    config = fixed_seed()
    config["proxy_locaton"] = "EveryNode"
    config["applications"][0]["args"]["llm_config"] = []
    assert check(config) == ["proxy_locaton: unknown field", "applications[0].args.llm_config: unknown field"]


def test_min_replicas_above_max_replicas():
    problems = check(
        with_llm(deployment_config={"autoscaling_config": {"min_replicas": 3, "max_replicas": 2}})
    )
    # Ray 2.60's AutoscalingConfig checks this in a model validator: no field in the path
    assert problems == [
        f"{LLM0}.deployment_config.autoscaling_config: "
        "max_replicas (2) must be greater than or equal to min_replicas (3)!"
    ]


def test_negative_min_replicas():
    problems = check(
        with_llm(deployment_config={"autoscaling_config": {"min_replicas": -1, "max_replicas": 2}})
    )
    assert problems == [
        f"{LLM0}.deployment_config.autoscaling_config.min_replicas: "
        "Input should be greater than or equal to 0"
    ]


def test_bad_autoscaling_in_application_deployments():
    config = yaml.safe_load("""
applications:
- name: app
  import_path: mod:app
  deployments:
  - name: D
    autoscaling_config: {min_replicas: 4, max_replicas: 1, max_replica: 9}
""")
    assert check(config) == [
        "applications[0].deployments[0].autoscaling_config.max_replica: unknown field",
        "applications[0].deployments[0].autoscaling_config: "
        "max_replicas (1) must be greater than or equal to min_replicas (4)!",
    ]


def test_unknown_keys_in_deployment_config():
    problems = check(
        with_llm(deployment_config={"health_check_period": 5, "autoscaling_config": {"min_replica": 1}})
    )
    assert problems == [
        f"{LLM0}.deployment_config.health_check_period: unknown field",
        f"{LLM0}.deployment_config.autoscaling_config.min_replica: unknown field",
    ]


def test_num_replicas_with_autoscaling_config():
    problems = check(
        with_llm(
            deployment_config={
                "num_replicas": 2,
                "autoscaling_config": {"min_replicas": 1, "max_replicas": 2},
            }
        )
    )
    assert problems == [
        f"{LLM0}.deployment_config.num_replicas: cannot be set together with autoscaling_config"
    ]


def test_unknown_key_in_llm_config():
    assert check(with_llm(max_num_models_per_replica=4)) == [
        f"{LLM0}.max_num_models_per_replica: unknown field"
    ]


def test_accelerator_config_is_validated_by_rays_own_llmconfig():
    """Ray 2.60's LLMConfig has accelerator_config (a union discriminated by kind): gen has
    no shape check of its own for it any more, Ray's verdicts are the ones reported."""
    tpu = {"accelerator_type": "TPU-V6E"}
    assert check(with_llm(accelerator_config={"kind": "tpu", "topology": "4x4"}, **tpu)) == []
    assert check(with_llm(accelerator_config={"kind": "gpu", "topology": "4x4"}, **tpu)) == [
        f"{LLM0}: Hardware mismatch: accelerator_type='TPU-V6E' requires a TPU backend, but the "
        "configuration resolved to a GPU backend. Please ensure your bundles and "
        "accelerator_type align."
    ]
    assert check(with_llm(accelerator_config={"kind": "tpuz"}, **tpu)) == [
        f"{LLM0}.accelerator_config: Input tag 'tpuz' found using 'kind' does not match any of "
        "the expected tags: 'cpu', 'gpu', 'tpu'"
    ]
    # a TPU slice on the default (GPU) accelerator_type of the fixture
    assert check(with_llm(accelerator_config={"kind": "tpu", "topology": "4x4"}))[0].startswith(
        f"{LLM0}: Hardware mismatch: accelerator_type='L4' requires a GPU backend"
    )


def test_unknown_key_in_model_loading_config():
    problems = check(with_llm(model_loading_config={"model_id": "m", "source": "x"}))
    assert problems == [f"{LLM0}.model_loading_config.source: unknown field"]


def test_wrong_type_for_accelerator_type():
    assert check(with_llm(accelerator_type=4)) == [
        f"{LLM0}.accelerator_type: Input should be a valid string (got int)"
    ]


def test_unsupported_accelerator_type():
    assert check(with_llm(accelerator_type="nvidia-l4")) == [
        f"{LLM0}.accelerator_type: Unsupported accelerator type: nvidia-l4"
    ]


def test_wrong_type_for_engine_kwargs():
    assert check(with_llm(engine_kwargs=["--max-model-len", "8192"])) == [
        f"{LLM0}.engine_kwargs: Input should be a valid dictionary (got list)"
    ]


def test_engine_kwargs_model_is_rejected():
    assert check(with_llm(engine_kwargs={"model": "google/gemma-2b-it"})) == [
        f"{LLM0}.engine_kwargs.model: not allowed by Ray Serve LLM; set model_loading_config instead"
    ]


def test_engine_metrics_need_log_stats():
    problems = check(with_llm(engine_kwargs={"disable_log_stats": True}))
    assert problems == [
        f"{LLM0}: disable_log_stats cannot be set to True when "
        "log_engine_metrics is enabled. Engine metrics require log stats "
        "to be enabled."
    ]


def test_missing_model_loading_config():
    assert check(with_llm(model_loading_config=None)) == [f"{LLM0}.model_loading_config: Field required"]


def test_local_lora_path_is_rejected():
    problems = check(
        with_llm(lora_config={"dynamic_lora_loading_path": "/loras"}, engine_kwargs={"enable_lora": True})
    )
    assert len(problems) == 1
    assert problems[0].startswith(
        f"{LLM0}.lora_config.dynamic_lora_loading_path: Only AWS S3, Google Cloud Storage"
    )


def test_lora_needs_enable_lora():
    problems = check(with_llm(lora_config={"dynamic_lora_loading_path": "gs://b/loras"}))
    assert problems == [f"{LLM0}.engine_kwargs.enable_lora: must be true when lora_config is set"]


def test_tpu_bundle_without_gpu_key():
    config = yaml.safe_load(TPU_MULTIHOST)
    llm = config["applications"][0]["args"]["llm_configs"][0]
    llm["placement_group_config"]["bundles"][2] = {"TPU": 4}
    assert check(config) == [
        f"{LLM0}.placement_group_config.bundles[2]: no GPU key: Ray defaults GPU to 1; set GPU: 0"
    ]


def test_duplicate_model_ids_and_empty_list():
    config = fixed_seed()
    llms = config["applications"][0]["args"]["llm_configs"]
    llms.append(copy.deepcopy(llms[0]))
    assert check(config) == [
        "applications[0].args.llm_configs[1].model_loading_config."
        "model_id: duplicate model id 'gemma-2b-it' (also llm_configs[0])"
    ]
    llms.clear()
    assert check(config) == ["applications[0].args.llm_configs: must be a non-empty list of LLM configs"]


def test_serve_schema_errors_have_paths():
    config = fixed_seed()
    config["applications"].append(copy.deepcopy(config["applications"][0]))
    problems = check(config)
    assert problems == [
        'applications: Found multiple configs for application "llm_app". Please remove all duplicates.'
    ]


def test_not_yaml_or_not_a_mapping():
    assert validate_serve_config("applications: [")[0].startswith("(root): not valid YAML")
    assert validate_serve_config("- a") == ["(root): expected a mapping, got list"]


def test_custom_server_cls_is_not_imported():
    assert check(with_llm(server_cls="not_installed_pkg.server:MyServer")) == []


def upstream_serve_configs() -> list:
    found = []
    for path in sorted(UPSTREAM.rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and doc.get("kind") == "RayService":
                found.append(pytest.param(doc["spec"]["serveConfigV2"], id=str(path.relative_to(UPSTREAM))))
    return found


@pytest.mark.parametrize("text", upstream_serve_configs())
def test_upstream_samples_are_clean(text):
    assert validate_serve_config(text) == []


def test_upstream_samples_were_found():
    assert len(upstream_serve_configs()) >= 5


def test_ray_not_installed(monkeypatch):
    real = ray_serve.importlib.util.find_spec
    monkeypatch.setattr(
        ray_serve.importlib.util, "find_spec", lambda name, *a: None if name == "pyarrow" else real(name, *a)
    )
    assert not ray_available()
    with pytest.raises(RayNotInstalled, match="pyarrow"):
        validate_serve_config(SEED)
