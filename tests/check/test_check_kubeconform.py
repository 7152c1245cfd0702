"""`gen check --kubeconform` with a fake kubeconform on PATH (the real one is not
installed here and must not be downloaded): the command line gen builds, the schemas
it exports for it, and how kubeconform's JSON report is merged into gen's output."""

from __future__ import annotations

import json
import shutil
import stat
import sys
from pathlib import Path

import pytest

from generator.check import kubeconform

HERE = Path(__file__).parent
CLEAN = HERE / "positive" / "tpu-dranet"
FILES = [
    "computeclass.yaml",
    "gateway.yaml",
    "gcpbackendpolicy.yaml",
    "healthcheckpolicy.yaml",
    "httproute.yaml",
    "rayservice.yaml",
    "resourceclaimtemplate.yaml",
    "role.yaml",
    "rolebinding.yaml",
    "serviceaccount.yaml",
]

FAKE = """#!{python}
# Fake kubeconform: records its argv and which exported schemas existed, prints a canned report.
import json, os, sys
from pathlib import Path
here = Path(__file__).parent
argv = sys.argv[1:]
location = argv[argv.index("-schema-location") + 1]
root = location.split("/{{{{")[0]
found = sorted(str(p.relative_to(root)) for p in Path(root).rglob("*.json"))
(here / "calls.json").write_text(json.dumps({{"argv": argv, "schemas": found}}))
sys.stdout.write((here / "report.txt").read_text())
sys.exit(int((here / "exit.txt").read_text()))
"""


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """Install the fake as `kubeconform` on an otherwise empty PATH; returns a function
    that sets its canned stdout and exit code."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "kubeconform"
    script.write_text(FAKE.format(python=sys.executable))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", str(bin_dir))
    shutil.copytree(CLEAN, tmp_path / "out")
    monkeypatch.chdir(tmp_path)

    def canned(report, exit_code=0):
        (bin_dir / "report.txt").write_text(report if isinstance(report, str) else json.dumps(report))
        (bin_dir / "exit.txt").write_text(str(exit_code))
        return bin_dir / "calls.json"

    return canned


def test_command_line(fake, cli, tmp_path):
    calls = fake({"resources": [], "summary": {"valid": 9, "invalid": 0, "errors": 0, "skipped": 0}})
    result = cli("check", "--kubeconform", "out")
    assert result.exit_code == 0, result.output
    call = json.loads(calls.read_text())
    argv = call["argv"]
    location = argv[6]
    assert argv[:6] == [
        "-strict",
        "-summary",
        "-output",
        "json",
        "-ignore-missing-schemas",
        "-schema-location",
    ]
    assert location.endswith("/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json")
    assert argv[7:] == [str(Path("out/manifests/ray-llm-cluster") / f) for f in FILES]
    assert {
        "ray.io/rayservice_v1.json",
        "v1/serviceaccount_v1.json",
        "cloud.google.com/computeclass_v1.json",
        "resource.k8s.io/resourceclaimtemplate_v1.json",
    } <= set(call["schemas"])
    assert not Path(location.split("/{{")[0]).exists()  # the export is temporary


def test_findings_are_merged_into_the_same_output(fake, cli):
    fake(
        {
            "resources": [
                {
                    "filename": "out/manifests/ray-llm-cluster/httproute.yaml",
                    "kind": "HTTPRoute",
                    "name": "vllm-tpu-multihost-route",
                    "version": "gateway.networking.k8s.io/v1",
                    "status": "statusInvalid",
                    "msg": "problem validating schema",
                    "validationErrors": [
                        {"path": "/spec/rules/0/matches/0/headers/0/value", "msg": "length must be <= 4"}
                    ],
                },
                {
                    "filename": "out/manifests/ray-llm-cluster/rayservice.yaml",
                    "kind": "RayService",
                    "name": "vllm-tpu-multihost",
                    "version": "ray.io/v1",
                    "status": "statusInvalid",
                    "msg": "x",
                    "validationErrors": [
                        {"path": "/metadata/labels/app.kubernetes.io/name", "msg": "bad label"}
                    ],
                },
                {
                    "filename": "out/manifests/ray-llm-cluster/role.yaml",
                    "kind": "Role",
                    "name": "vllm-tpu-multihost-metrics",
                    "version": "rbac.authorization.k8s.io/v1",
                    "status": "statusError",
                    "msg": 'error unmarshalling resource: mapping key "rules" already defined',
                },
                {
                    "filename": "out/manifests/ray-llm-cluster/gateway.yaml",
                    "kind": "Gateway",
                    "name": "ray-tpu-gateway",
                    "version": "gateway.networking.k8s.io/v1",
                    "status": "statusValid",
                    "msg": "",
                },
            ],
            "summary": {"valid": 6, "invalid": 2, "errors": 1, "skipped": 0},
        },
        exit_code=1,
    )
    result = cli("check", "--kubeconform", "out")
    assert result.exit_code == 1
    d = "out/manifests/ray-llm-cluster"
    assert [line for line in result.stderr.splitlines() if not line.startswith("note: ")] == [
        f"{d}/httproute.yaml:24:9: HTTPRoute/vllm-tpu-multihost-route: "
        "spec.rules[0].matches[0].headers[0].value: "
        "kubeconform: length must be <= 4",
        f'{d}/rayservice.yaml:9:5: RayService/vllm-tpu-multihost: metadata.labels["app.kubernetes.io/name"]: '
        "kubeconform: bad label",
        f"{d}/role.yaml:3:1: Role/vllm-tpu-multihost-metrics: kubeconform: error unmarshalling resource: "
        'mapping key "rules" already defined',
        "Summary: 10 resources checked (1 ComputeClass, 1 GCPBackendPolicy, 1 Gateway, 1 HTTPRoute, "
        "1 HealthCheckPolicy, "
        "1 RayService, 1 ResourceClaimTemplate, 1 Role, 1 RoleBinding, 1 ServiceAccount), 3 problems",
    ]


def test_json_report_marks_kubeconform_findings(fake, cli):
    fake(
        {
            "resources": [
                {
                    "filename": "out/manifests/ray-llm-cluster/gateway.yaml",
                    "kind": "Gateway",
                    "name": "ray-tpu-gateway",
                    "status": "statusInvalid",
                    "msg": "m",
                    "validationErrors": [{"path": "/spec", "msg": "nope"}],
                }
            ]
        },
        exit_code=1,
    )
    result = cli("check", "--kubeconform", "--format", "json", "out")
    assert result.exit_code == 1
    [problem] = json.loads(result.stdout)["problems"]
    assert problem == {
        "file": "out/manifests/ray-llm-cluster/gateway.yaml",
        "kind": "Gateway",
        "name": "ray-tpu-gateway",
        "path": "spec",
        "message": "kubeconform: nope",
        "check": "kubeconform",
        "line": 16,
        "column": 1,
        "document": "document 1",
    }


def test_kubeconform_without_a_report_is_an_error(fake, cli):
    fake("panic: runtime error\n", exit_code=2)
    result = cli("check", "--kubeconform", "out")
    assert result.exit_code == 2
    assert result.stderr == "gen: kubeconform exited 2 without a JSON report: panic: runtime error\n"


def test_kubeconform_not_on_path_is_a_usage_error(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    result = cli("check", "--kubeconform", str(CLEAN))
    assert result.exit_code == 2
    assert "--kubeconform: kubeconform is not on PATH" in result.stderr


def test_unexported_kinds_are_named(fake, cli, tmp_path):
    fake({"resources": [], "summary": {"valid": 9, "invalid": 0, "errors": 0, "skipped": 1}})
    (tmp_path / "out" / "manifests" / "ray-llm-cluster" / "extra.yaml").write_text(
        "apiVersion: ray.io/v1\nkind: RayJob\nmetadata: {name: j}\nspec: {}\n"
    )
    result = cli("check", "--kubeconform", "out")
    assert "note: kubeconform skipped RayJob (no schema to export)" in result.stderr


@pytest.mark.parametrize(
    "pointer, obj, path",
    [
        ("", {}, ""),
        ("/spec/rules/0/x", {"spec": {"rules": [{}]}}, "spec.rules[0].x"),
        ("/metadata/labels/a.io/b", {"metadata": {"labels": {"a.io/b": "v"}}}, 'metadata.labels["a.io/b"]'),
        ("/data/0", {"data": {"0": "v"}}, 'data["0"]'),  # a map key that looks like an index
    ],
)
def test_pointer_to_path(pointer, obj, path):
    assert kubeconform._path(pointer, obj) == path
