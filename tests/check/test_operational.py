"""Operational checks: output the schemas accept but a cluster would not run well.

Each case hand-breaks a rendered example the way the review found real output broken and
expects `gen check` to exit 1 with a message naming the fix."""

from __future__ import annotations

import shutil

import pytest
import yaml

from generator.check.operational.accelerators import accelerators_match_parallelism

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


# --- one case per defect class of issue 16: hand-break a rendered example, gen check exits 1


def _broken(tmp_path, example: str, cluster: str, file: str, old: str, new: str, count: int = 1):
    out = tmp_path / "out"
    shutil.copytree(GOLDEN / example, out)
    path = out / "manifests" / cluster / file
    text = path.read_text()
    assert text.count(old) >= count, f"{old!r} not in {file}"
    path.write_text(text.replace(old, new, count))
    return out


def _problems(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if not line.startswith(("note:", "Summary:"))]


def test_rendered_examples_pass_every_operational_rule(cli):
    for example in sorted(p.name for p in GOLDEN.iterdir()):
        result = cli("check", str(GOLDEN / example))
        assert _problems(result) == [], example


def test_a_500gi_ephemeral_request_does_not_fit_the_node(tmp_path, cli):
    # the first GPU worker's limit and request (the 24Gi ones; the head asks for 32Gi)
    out = _broken(
        tmp_path,
        "single-cluster-gpu",
        "default",
        "rayservice.yaml",
        "ephemeral-storage: 24Gi",
        "ephemeral-storage: 500Gi",
        count=2,
    )
    result = cli("check", str(out))
    assert result.exit_code == 1
    (line,) = [p for p in _problems(result) if "cannot be scheduled" in p]
    assert "ephemeral-storage 500.0Gi requested, 43.8Gi free" in line
    assert "on a g2-standard-32 node with a 100 GB boot disk" in line
    assert "--disk-size" in line and "gen.llm-fleet.dev/boot-disk-gb" in line


def test_more_cpu_than_any_machine_with_that_gpu_count_has(tmp_path, cli):
    out = _broken(tmp_path, "single-cluster-gpu", "default", "rayservice.yaml", 'cpu: "6"', 'cpu: "40"')
    result = cli("check", str(out))
    assert result.exit_code == 1
    assert any("cpu 40 requested" in p and "g2-standard-32" in p for p in _problems(result))


def test_haproxy_on_an_image_without_it(tmp_path, cli):
    out = _broken(
        tmp_path,
        "tpu-multihost-dranet",
        "ray-llm-cluster",
        "rayservice.yaml",
        '            - name: RAY_SERVE_THROUGHPUT_OPTIMIZED\n              value: "1"\n',
        '            - name: RAY_SERVE_THROUGHPUT_OPTIMIZED\n              value: "1"\n'
        '            - name: RAY_SERVE_ENABLE_HA_PROXY\n              value: "1"\n',
    )
    result = cli("check", str(out))
    assert result.exit_code == 1
    (line,) = _problems(result)
    assert "RAY_SERVE_ENABLE_HA_PROXY=1 needs an haproxy binary" in line
    assert "image us-east5-docker.pkg.dev/my-project/ray-repo/vllm-tpu-ray:vllm-tpu is not known" in line
    assert "haproxy: false" in line and "haproxy: true" in line


def test_haproxy_is_accepted_when_the_spec_vouches_for_the_image():
    from generator.check.operational.serving import haproxy_needs_binary

    obj = _rayservice("tpu-multihost-dranet", "ray-llm-cluster")
    container = obj["spec"]["rayClusterConfig"]["headGroupSpec"]["template"]["spec"]["containers"][0]
    container["env"].append({"name": "RAY_SERVE_ENABLE_HA_PROXY", "value": "1"})
    assert len(haproxy_needs_binary(obj)) == 1
    obj["metadata"]["annotations"]["gen.llm-fleet.dev/image-has-haproxy"] = "true"
    assert haproxy_needs_binary(obj) == []


def test_pool_routing_with_zero_minimum(tmp_path, cli):
    out = _broken(
        tmp_path, "multiplexing-gcsfuse", "default", "rayservice.yaml", "minReplicas: 2", "minReplicas: 0"
    )
    result = cli("check", str(out))
    assert result.exit_code == 1
    assert any(
        "InferencePool/model-multiplexing-pool: spec.selector.matchLabels: selects only Ray worker pods" in p
        and "keep at least one worker" in p
        for p in _problems(result)
    )


def test_a_backend_without_a_timeout(tmp_path, cli):
    out = tmp_path / "out"
    shutil.copytree(GOLDEN / "multiplexing-gcsfuse", out)
    (out / "manifests" / "default" / "gcpbackendpolicy.yaml").unlink()
    kustomization = out / "manifests" / "default" / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text().replace("- gcpbackendpolicy.yaml\n", ""))
    result = cli("check", str(out))
    assert result.exit_code == 1
    (line,) = _problems(result)
    assert 'InferencePool "model-multiplexing-pool" serves LLM generations' in line
    assert "GKE's default: 30 s" in line and "gen's default is 300" in line


def test_a_pooled_rayservice_with_kuberays_default_upgrade(tmp_path, cli):
    out = _broken(
        tmp_path, "multi-cluster", "gke-east", "rayservice.yaml", "    type: None\n", "    type: NewCluster\n"
    )
    result = cli("check", str(out))
    assert result.exit_code == 1
    (line,) = _problems(result)
    assert "RayService/llama3-8b-instruct: spec.upgradeStrategy.type" in line
    assert "set upgradeStrategy.type: None" in line


def test_an_objective_nobody_sends(tmp_path, cli):
    out = tmp_path / "out"
    shutil.copytree(GOLDEN / "multiplexing-gcsfuse", out)
    readme = out / "README.md"
    readme.write_text(readme.read_text().replace("x-gateway-inference-objective: llama-31-8b-instruct", "-"))
    result = cli("check", str(out))
    assert result.exit_code == 1
    (line,) = _problems(result)
    assert "InferenceObjective/llama-31-8b-instruct: metadata.name: no route sets" in line


def test_a_route_that_sets_the_objective_header_is_enough():
    from generator.check.operational import Context
    from generator.check.operational.routing import objectives_are_sent
    from generator.check.scope_index import ScopeIndex

    docs = [
        d
        for f in sorted((GOLDEN / "multiplexing-gcsfuse" / "manifests" / "default").glob("*.yaml"))
        for d in yaml.safe_load_all(f.read_text())
        if d
    ]
    assert len(objectives_are_sent(ScopeIndex(docs), Context(readme=""))) == 2
    (route,) = [d for d in docs if d["kind"] == "HTTPRoute"]
    route["spec"]["rules"][0]["filters"] = [
        {
            "type": "RequestHeaderModifier",
            "requestHeaderModifier": {
                "set": [{"name": "x-gateway-inference-objective", "value": "gemma-2-9b-it"}]
            },
        }
    ]
    assert [p.name for _, p in objectives_are_sent(ScopeIndex(docs), Context(readme=""))] == [
        "llama-31-8b-instruct"
    ]
    assert objectives_are_sent(ScopeIndex(docs), Context(readme=None)) == []  # hand-written: not judged


def test_serving_pods_that_do_not_wait_for_the_download(tmp_path, cli):
    out = tmp_path / "out"
    shutil.copytree(GOLDEN / "tpu-multihost-dranet", out)
    path = out / "manifests" / "ray-llm-cluster" / "rayservice.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["spec"]["rayClusterConfig"]["workerGroupSpecs"][0]["template"]["spec"].pop("initContainers")
    path.write_text(yaml.safe_dump(doc))
    result = cli("check", str(out))
    assert result.exit_code == 1
    (line,) = _problems(result)
    assert 'reads gs://my-weights-bucket while Job "vllm-tpu-multihost-download-' in line
    assert "vLLM would start on partial weights" in line


def test_a_cache_directory_inside_the_read_only_weights_mount(tmp_path, cli):
    out = _broken(
        tmp_path,
        "tpu-multihost-dranet",
        "ray-llm-cluster",
        "rayservice.yaml",
        "            - name: JAX_PLATFORMS\n",
        "            - name: HF_HOME\n              value: /data/huggingface\n"
        "            - name: JAX_PLATFORMS\n",
    )
    result = cli("check", str(out))
    assert result.exit_code == 1
    (line,) = _problems(result)
    assert "HF_HOME=/data/huggingface is inside the read-only mount /data" in line


def _download_and_server():
    """tpu-multihost-dranet's download Job and RayService, the server's wait removed."""
    scope = GOLDEN / "tpu-multihost-dranet" / "manifests" / "ray-llm-cluster"
    (job,) = yaml.safe_load_all((scope / "job.yaml").read_text())
    service = yaml.safe_load((scope / "rayservice.yaml").read_text())
    service["spec"]["rayClusterConfig"]["workerGroupSpecs"][0]["template"]["spec"].pop("initContainers")
    return job, service


def _races(job, service):
    from generator.check.operational import Context
    from generator.check.operational.serving import weights_ready_before_serving
    from generator.check.scope_index import ScopeIndex

    return [p.message for _, p in weights_ready_before_serving(ScopeIndex([job, service]), Context())]


def _downloader(job):
    return job["spec"]["template"]["spec"]["containers"][0]


def _set_env(container, name, value):
    container["env"] = [e for e in container["env"] if e["name"] != name]
    if value is not None:
        container["env"].append({"name": name, "value": value})


@pytest.mark.parametrize(
    ("destination", "races"),
    [
        ("/data/google/gemma-4-31B-it", True),  # as rendered: the model's own directory
        ("/data/google", True),  # a directory above it
        ("/data/google/gemma-4-31B-it/sub", True),  # a directory inside it
        ("/data/google/gemma-2b-it", False),  # another model's weights in the same bucket
        ("/data/google/gemma-4-31B-it-v2", False),  # a name that only starts the same
        ("/elsewhere/google/gemma-4-31B-it", True),  # not inside the mount: may write anywhere
        (None, True),  # names no destination: may write anywhere in its mount
    ],
)
def test_a_download_races_only_the_servers_reading_what_it_writes(destination, races):
    """One bucket, several models: a Job writing one model's directory does not race a
    server reading another's (bench's fleets share buckets between models)."""
    job, service = _download_and_server()
    _set_env(_downloader(job), "LOCAL_DIR", destination)
    assert bool(_races(job, service)) is races


@pytest.mark.parametrize(
    ("only_dir", "races"),
    [("google/gemma-2b-it", False), ("google", True), ("/google/gemma-4-31B-it/", True), ("other", False)],
)
def test_a_download_mounted_with_only_dir_writes_only_there(only_dir, races):
    job, service = _download_and_server()
    _set_env(_downloader(job), "LOCAL_DIR", None)
    volume = next(v for v in job["spec"]["template"]["spec"]["volumes"] if "csi" in v)
    volume["csi"]["volumeAttributes"]["mountOptions"] = f"implicit-dirs,only-dir={only_dir}"
    assert bool(_races(job, service)) is races


def test_a_server_that_names_no_model_path_reads_the_whole_mount():
    job, service = _download_and_server()
    _set_env(_downloader(job), "LOCAL_DIR", "/data/google/gemma-2b-it")
    assert not _races(job, service)

    def elsewhere(llms):
        for llm in llms:
            llm["model_loading_config"]["model_source"] = "google/gemma-4-31B-it"  # from the Hub

    assert _races(job, _with_serve_config(service, elsewhere))
