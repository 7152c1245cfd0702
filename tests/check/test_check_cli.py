"""`gen check` and `gen schemas export` through the CLI: exit codes, output format, notes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml

from generator.check import runner

HERE = Path(__file__).parent
CASE = HERE / "negative" / "backendref-port-mismatch"
CLEAN = HERE / "positive" / "tpu-dranet"
PORT_LINE = (
    "{d}/manifests/default/httproute.yaml: HTTPRoute/gemma-2b-it-route: spec.rules[0].backendRefs[0].port: "
    'Service "gemma-2b-it-serve-svc" (created by KubeRay for RayService "gemma-2b-it") has no port 8080 '
    "(ports: 8000)"
)


@pytest.fixture
def case(tmp_path, monkeypatch) -> Path:
    """A copy of one negative case as ./out in a temporary working directory."""
    shutil.copytree(CASE, tmp_path / "out", ignore=shutil.ignore_patterns("expected.txt"))
    monkeypatch.chdir(tmp_path)
    return tmp_path / "out"


@pytest.mark.parametrize("typed, shown", [("out", "out"), ("out/", "out"), ("./out", "./out")])
def test_problem_lines_name_files_as_the_dir_was_typed(cli, case, typed, shown):
    result = cli("check", typed)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == PORT_LINE.format(d=shown)
    assert result.stderr.splitlines()[-1] == (
        "Summary: 9 resources checked (2 GCPBackendPolicy, 2 HTTPRoute, 2 HealthCheckPolicy, 2 RayService, "
        "1 Gateway), 1 problem"
    )


def test_clean_output_exits_0_with_the_summary_on_stdout(cli):
    result = cli("check", str(CLEAN))
    assert result.exit_code == 0
    assert result.stdout.endswith("), 0 problems\n")


def test_quiet_prints_nothing_on_success(cli):
    result = cli("check", "-q", str(CLEAN))
    assert (result.exit_code, result.output) == (0, "")


def test_json_report(cli, case):
    result = cli("check", "--format", "json", "out")
    assert result.exit_code == 1
    assert result.stderr == ""
    report = json.loads(result.stdout)
    assert report["valid"] is False
    assert report["resources"] == 9
    assert report["kinds"] == {
        "GCPBackendPolicy": 2,
        "Gateway": 1,
        "HTTPRoute": 2,
        "HealthCheckPolicy": 2,
        "RayService": 2,
    }
    assert report["kubeVersion"] == "1.35"
    assert report["problems"] == [
        {
            "file": "out/manifests/default/httproute.yaml",
            "kind": "HTTPRoute",
            "name": "gemma-2b-it-route",
            "path": "spec.rules[0].backendRefs[0].port",
            "check": "reference",
            "message": 'Service "gemma-2b-it-serve-svc" (created by KubeRay for RayService "gemma-2b-it") '
            "has no port 8080 (ports: 8000)",
        }
    ]
    assert any(n.startswith("RayService: CEL rules not evaluated at spec.managedBy") for n in report["notes"])


@pytest.mark.parametrize(
    "args, message",
    [
        (("missing-dir",), "missing-dir: no such directory"),
        ((str(CLEAN / "manifests" / "ray-llm-cluster" / "gateway.yaml"),), "gateway.yaml: not a directory"),
        (("--kube-version", "1.99", "."), "--kube-version '1.99': expected one of"),
        (("--kube-version", "latest", "."), "--kube-version 'latest': expected one of"),
    ],
)
def test_usage_errors_exit_2(cli, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = cli("check", *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_a_directory_without_manifests_is_a_usage_error(cli, tmp_path):
    (tmp_path / "values.yaml").write_text("replicas: 2\n")
    result = cli("check", str(tmp_path))
    assert result.exit_code == 2
    assert f"no Kubernetes manifests found in {tmp_path}" in result.stderr


def test_kube_version_selects_the_core_schemas(cli):
    # ResourceClaimTemplate is resource.k8s.io/v1 only from Kubernetes 1.34 on.
    result = cli("check", "--kube-version", "1.33", str(CLEAN))
    assert result.exit_code == 1
    assert (
        "ResourceClaimTemplate/vllm-tpu-multihost-netdev: Kubernetes 1.33 has no resource.k8s.io/v1 "
        "ResourceClaimTemplate"
    ) in result.stderr


def test_ray_note_is_printed_once_and_does_not_fail(cli, monkeypatch):
    monkeypatch.setattr(runner, "ray_available", lambda: False)
    result = cli("check", str(HERE / "positive" / "multi-cluster"))  # two RayServices
    assert result.exit_code == 0
    assert (
        result.stderr.count(
            "note: Ray is not installed (pip install 'gen-llm-fleet[ray]'); serve configs not validated\n"
        )
        == 1
    )


def test_non_kubernetes_yaml_and_charts_are_skipped(cli, tmp_path):
    shutil.copy(CLEAN / "manifests" / "ray-llm-cluster" / "gateway.yaml", tmp_path)
    (tmp_path / "kustomization.yaml").write_text("resources: [gateway.yaml]\n")
    (tmp_path / "values-prod.yaml").write_text("apiVersion: v1\nkind: Weird\nmetadata: {name: x}\n")
    (tmp_path / "helmfile.yaml").write_text("releases: [{name: x, chart: y}]\n")
    (tmp_path / "notes.yaml").write_text("just: data\n---\n- a list\n")
    chart = tmp_path / "mychart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: mychart\nversion: 0.1.0\n")
    (chart / "templates" / "svc.yaml").write_text("metadata: {{ .Values.broken\n")
    result = cli("check", str(tmp_path))
    assert result.exit_code == 0
    assert result.stdout == "Summary: 1 resource checked (1 Gateway), 0 problems\n"
    assert f"note: skipped Helm chart {tmp_path}/mychart (templates are not manifests" in result.stderr


def test_multi_document_files_and_yaml_errors(cli, tmp_path):
    docs = [
        yaml.safe_load((CLEAN / "manifests" / "ray-llm-cluster" / f).read_text())
        for f in ("gateway.yaml", "serviceaccount.yaml")
    ]
    (tmp_path / "all.yaml").write_text("---\n" + "---\n".join(yaml.safe_dump(d) for d in docs))
    (tmp_path / "bad.yml").write_text("a: [1, 2\n")
    result = cli("check", str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        f"{tmp_path}/bad.yml:2:1: not valid YAML: did not find expected ',' or ']'"
    )
    assert result.stderr.splitlines()[-1] == (
        "Summary: 2 resources checked (1 Gateway, 1 ServiceAccount), 1 problem"
    )


def test_schemas_export_writes_kubeconform_layout(cli, tmp_path):
    result = cli("schemas", "export", str(tmp_path))
    assert result.exit_code == 0
    assert (
        f"kubeconform -schema-location '{tmp_path}/{{{{ .Group }}}}/{{{{ .ResourceKind }}}}_" in result.stdout
    )
    for rel in (
        "ray.io/rayservice_v1.json",
        "v1/service_v1.json",
        "apps/deployment_v1.json",
        "gateway.networking.k8s.io/httproute_v1.json",
        "networking.gke.io/healthcheckpolicy_v1.json",
        "resource.k8s.io/resourceclaimtemplate_v1.json",
    ):
        assert (tmp_path / rel).is_file(), rel
    # Another JSON schema engine accepts the exported schemas and they stay strict.
    route = yaml.safe_load((CLEAN / "manifests" / "ray-llm-cluster" / "httproute.yaml").read_text())
    schema = json.loads((tmp_path / "gateway.networking.k8s.io/httproute_v1.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(route)
    route["spec"]["rules"][0]["timeout"] = "10s"
    with pytest.raises(jsonschema.ValidationError, match="'timeout' was unexpected"):
        jsonschema.Draft202012Validator(schema).validate(route)


def test_schemas_export_respects_kube_version(cli, tmp_path):
    assert cli("schemas", "export", "--kube-version", "1.33", str(tmp_path)).exit_code == 0
    assert not (tmp_path / "resource.k8s.io" / "resourceclaimtemplate_v1.json").exists()
    assert cli("schemas", "export", "--kube-version", "2.0", str(tmp_path)).exit_code == 2


def test_rendered_examples_validate_against_the_exported_schemas_with_another_engine():
    from generator.check.export import exported_schemas, layout_path

    from ..renderutil import RENDERED, rendered

    schemas = exported_schemas("1.35")
    checked = 0
    for example in RENDERED:
        for resource in rendered(example)[1]:
            schema = schemas[layout_path(resource.obj["apiVersion"], resource.obj["kind"])]
            errors = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(resource.obj)]
            assert errors == [], f"{example}: {resource.kind}/{resource.name}"
            checked += 1
    assert checked >= 20
