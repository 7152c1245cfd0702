"""`gen check` and `gen schemas export` through the CLI: exit codes, output format, notes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml

from generator.check import runner

from .corpus_patch import materialize

HERE = Path(__file__).parent
CLEAN = HERE / "positive" / "tpu-dranet"
PORT_LINE = (
    "{d}/manifests/default/httproute.yaml:37:7: HTTPRoute/gemma-2b-it-route: "
    "spec.rules[0].backendRefs[0].port: "
    'Service "gemma-2b-it-serve-svc" (created by KubeRay for RayService "gemma-2b-it") has no port 8080 '
    "(ports: 8000)"
)


@pytest.fixture
def case(tmp_path, monkeypatch) -> Path:
    """A copy of one negative case as ./out in a temporary working directory."""
    materialize("backendref-port-mismatch", tmp_path / "out")
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
            "line": 37,
            "column": 7,
            "document": "document 1",
        }
    ]
    # Which CEL rules gen cannot evaluate: printed only with --verbose, but always in the
    # JSON report, for tools (tests/test_check_verbose.py checks the text output)
    assert any("CEL rules not evaluated" in n for n in report["notes"])
    verbose = json.loads(cli("check", "--verbose", "--output", "json", "out").stdout)
    assert any(
        n.startswith("RayService: CEL rules not evaluated at spec.managedBy") for n in verbose["notes"]
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (("missing-dir",), "missing-dir: no such file or directory"),
        (("--output", "json", "--format", "text", "."), "--output json and --format text disagree"),
        (("--assume", "Service", "."), "--assume 'Service': expected KIND/NAME"),
        (("--assume", "@no-such-file", "."), "--assume @no-such-file: cannot read"),
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
    (tmp_path / "README.md").write_text("nothing here\n")
    result = cli("check", str(tmp_path))
    assert result.exit_code == 2
    assert f"no Kubernetes manifests (*.yaml, *.yml, *.json) found in {tmp_path}" in result.stderr


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


def test_what_is_named_is_checked(cli, tmp_path):
    """No file of a named directory is silently left out: documents that are not
    Kubernetes objects are errors naming the document; only Helm charts (templates
    are not manifests) and kustomization files are skipped, each with a note."""
    shutil.copy(CLEAN / "manifests" / "ray-llm-cluster" / "gateway.yaml", tmp_path)
    (tmp_path / "kustomization.yaml").write_text("resources: [gateway.yaml]\n")
    (tmp_path / "values-prod.yaml").write_text("apiVersion: v1\nkind: Weird\nmetadata: {name: x}\n")
    (tmp_path / "notes.yaml").write_text("just: data\n---\n- a list\n---\nApiVersion: v1\nkind: Secret\n")
    chart = tmp_path / "mychart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: mychart\nversion: 0.1.0\n")
    (chart / "templates" / "svc.yaml").write_text("metadata: {{ .Values.broken\n")
    result = cli("check", str(tmp_path))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[:4] == [
        f"{tmp_path}/notes.yaml:1:1: document 1: missing 'apiVersion'; missing 'kind'",
        f"{tmp_path}/notes.yaml:3:1: document 2: expected a Kubernetes object (a mapping with apiVersion and "
        "kind), got a list",
        f"{tmp_path}/notes.yaml:5:1: document 3: missing 'apiVersion' (found 'ApiVersion': keys are "
        "case-sensitive and spelt exactly)",
        f"{tmp_path}/values-prod.yaml:1:1: Weird/x: no schema for v1 Weird: not a Kubernetes 1.35 kind and "
        "not a custom resource gen pins a schema for (--ignore-missing-schemas skips such resources)",
    ]
    assert f"note: skipped Helm chart {tmp_path}/mychart (templates are not manifests" in result.stderr
    assert "note: skipped 1 kustomization file (kustomize's configuration" in result.stderr
    assert lines[-1] == "Summary: 2 resources checked (1 Gateway, 1 Weird), 4 problems"


def with_stdin(text: str, *args: str):
    from click.testing import CliRunner

    from generator.cli import main

    return CliRunner().invoke(main, ["check", *args], input=text, catch_exceptions=False)


def test_files_and_stdin(cli, tmp_path):
    gateway = CLEAN / "manifests" / "ray-llm-cluster" / "gateway.yaml"
    result = with_stdin(gateway.read_text().replace("name: ", "name: x", 1), str(gateway), "-")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "Summary: 2 resources checked (2 Gateway), 0 problems\n"
    result = with_stdin("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: 1}\n", "-")
    assert result.exit_code == 1
    assert result.stderr.startswith("<stdin>:4:8: ConfigMap/c: data.a: 1 is not of types")
    (tmp_path / "svc.json").write_text(
        json.dumps({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}})
    )
    assert cli("check", str(tmp_path)).stdout == "Summary: 1 resource checked (1 Service), 0 problems\n"


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


def test_gen_outputs_inside_a_searched_directory_are_checked_per_cluster(cli, tmp_path):
    for name in ("multi-cluster", "tpu-dranet"):
        shutil.copytree(HERE / "positive" / name, tmp_path / "fleets" / name)
    (tmp_path / "fleets" / "tpu-dranet" / "addons").mkdir()
    (tmp_path / "fleets" / "tpu-dranet" / "addons" / "helmfile.yaml").write_text("releases: []\n")
    result = cli("check", str(tmp_path / "fleets"))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Summary: 32 resources checked")
    # Without its manifest of generated files the same directory is one cluster of plain files.
    (tmp_path / "fleets" / "tpu-dranet" / ".gen-files.json").unlink()
    result = cli("check", str(tmp_path / "fleets" / "tpu-dranet"))
    assert result.exit_code == 1
    assert "addons/helmfile.yaml:1:1: document 1: missing 'apiVersion'; missing 'kind'" in result.stderr
