"""`gen check` on any manifests: internal errors are contained, List items, documents
without apiVersion/kind, --assume, --skip-references, --ignore-missing-schemas,
API-server defaulting and pruning."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from generator.check import runner
from generator.check.runner import Options, check_paths

HTTPROUTE = """\
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r}
spec:
  parentRefs: [{name: gw}]
  rules:
  - backendRefs: [{name: web, port: 80}]
"""
CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s}\ndata: {a: %s}\n"


def write(tmp_path: Path, name: str, text: str) -> str:
    (tmp_path / name).write_text(text)
    return str(tmp_path / name)


def lines(report) -> list[str]:
    return [i.format() for i in report.sorted_issues()]


def test_an_internal_error_is_one_line_and_the_rest_is_still_checked(tmp_path, monkeypatch, cli):
    real = runner.validate_resource

    def flaky(obj, **kw):
        if obj["metadata"]["name"] == "boom":
            raise KeyError("surprise")
        return real(obj, **kw)

    monkeypatch.setattr(runner, "validate_resource", flaky)
    a = write(tmp_path, "a.yaml", CONFIGMAP % ("ok", '"x"') + "---\n" + CONFIGMAP % ("boom", '"x"'))
    b = write(tmp_path, "b.yaml", CONFIGMAP % ("bad", "1"))
    result = cli("check", a, b)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    err = result.stderr.splitlines()
    assert f'{b}:4:8: ConfigMap/bad: data.a: 1 is not of types "null", "string"' in err
    [internal] = [line for line in err if "internal error" in line]
    assert internal.startswith(f"gen: {a}:6 (document 2): internal error (KeyError: 'surprise')")
    # JSON too: the report on stdout, the internal error in it and on stderr.
    result = cli("check", "--output", "json", a, b)
    assert result.exit_code == 2
    assert json.loads(result.stdout)["internalErrors"] == [internal.removeprefix("gen: ")]


def test_list_items_are_validated_one_by_one(tmp_path):
    text = (
        "apiVersion: v1\nkind: List\nitems:\n"
        "- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}, data: {k: v}}\n"
        "- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}, data: {k: 2}}\n"
        "- {kind: ConfigMap, metadata: {name: c}}\n"
    )
    report = check_paths([write(tmp_path, "l.yaml", text)], Options(skip_references=True))
    assert report.resources == 2
    assert [i.format().removeprefix(str(tmp_path) + "/") for i in report.sorted_issues()] == [
        "l.yaml:6:3: document 1, List item 3: missing 'apiVersion'",
        'l.yaml:5:65: ConfigMap/b: data.k: 2 is not of types "null", "string"',
    ]


def test_a_misspelt_kind_key_is_named(tmp_path):
    report = check_paths(
        [write(tmp_path, "k.yaml", "apiVersion: v1\nkinds: ConfigMap\nmetadata: {name: a}\n")]
    )
    assert lines(report) == [
        f"{tmp_path}/k.yaml:1:1: document 1: missing 'kind' "
        "(found 'kinds': keys are case-sensitive and spelt exactly)"
    ]


def test_assume_and_skip_references(tmp_path):
    route = write(tmp_path, "r.yaml", HTTPROUTE)
    found = lines(check_paths([route]))
    assert len(found) == 2 and 'Gateway "gw" not found' in found[0] and 'Service "web" not found' in found[1]
    assume = write(tmp_path, "assumed.txt", "# elsewhere\nGateway/gw\n")
    assert len(lines(check_paths([route], Options(assume=runner.assume_option(["Service/web"]))))) == 1
    options = Options(assume=runner.assume_option(["Service/web", "@" + assume]))
    assert lines(check_paths([route], options)) == []
    assert lines(check_paths([route], Options(skip_references=True))) == []


def test_ignore_missing_schemas_counts_the_skipped(tmp_path):
    path = write(tmp_path, "w.yaml", "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n")
    assert len(check_paths([path]).issues) == 1
    report = check_paths([path], Options(ignore_missing_schemas=True))
    assert (report.issues, dict(report.skipped)) == ([], {"Widget": 1})
    assert report.summary() == "Summary: 0 resources checked, 1 skipped (1 Widget), 0 problems"


@pytest.mark.parametrize(
    "text, want",
    [
        # RBAC: roleRef.apiGroup is defaulted by the API server.
        (
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b}\n"
            "roleRef: {kind: Role, name: r}\nsubjects: [{kind: ServiceAccount, name: s}]\n",
            [],
        ),
        # Gateway addresses: the type default applies before oneOf is evaluated.
        (
            "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: g}\n"
            "spec:\n  gatewayClassName: c\n  addresses: [{value: 192.0.2.1}]\n"
            "  listeners: [{name: http, port: 80, protocol: HTTP}]\n",
            [],
        ),
        # Secret data: Go's base64 decoder ignores line breaks (kuberay's ca-tls Secret).
        ('apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {k: "aGVs\\nbG8=\\n"}\n', []),
        # A long offending value is cut in the message.
        (
            'apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {k: "' + "A" * 300 + '!"}\n',
            ['Secret/s: data.k: "' + "A" * 59 + '... (303 characters) is not a "byte"'],
        ),
        # EndpointSlice.endpoints: required in the OpenAPI, optional for the server
        # (kubernetes/kubernetes#135968; gateway-api's conformance manifests omit it).
        (
            "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: e}\naddressType: IPv4\n",
            [],
        ),
        # A built-in kind without metadata (its schema does not require it, the server does).
        ("apiVersion: v1\nkind: ConfigMap\n", ["ConfigMap/?: metadata.name: required field is missing"]),
        # A built-in kind without a curated entry, and a removed API.
        ("apiVersion: v1\nkind: LimitRange\nmetadata: {name: l}\nspec: {limits: []}\n", []),
        (
            "apiVersion: batch/v1beta1\nkind: CronJob\nmetadata: {name: c}\n",
            ["CronJob/c: batch/v1beta1 CronJob was removed in Kubernetes 1.25, use batch/v1"],
        ),
    ],
)
def test_validated_as_the_api_server_does(tmp_path, text, want):
    report = check_paths([write(tmp_path, "x.yaml", text)], Options(skip_references=True))
    assert [i.format().split(": ", 1)[1] for i in report.sorted_issues()] == want


LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)


@pytest.mark.parametrize(
    "text, message",
    [
        ("a: &a [*a]\n", "a YAML alias refers to the value that contains it (a cycle)"),
        (LAUGHS, "YAML aliases expand this document to more than 2,000,000 values"),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {5: a, true: b, 3.14: c}\n", None),
    ],
    ids=["alias-cycle", "billion-laughs", "non-string-keys"],
)
def test_hostile_yaml_is_a_problem_not_a_hang_or_crash(tmp_path, text, message):
    report = check_paths([write(tmp_path, "h.yaml", text)])
    assert report.internal_errors == []
    assert [i.message for i in report.issues] == ([message] if message else [])


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec:
  selector:
    matchLabels: {app: a}
    matchExpressions: [{key: tier, operator: In, values: [web]}]
  template:
    metadata: {labels: {app: a, tier: web}}
    spec:
      containers:
      - name: c
        image: nginx
        imagePullPolicy: IfNotPresent
        ports: [{containerPort: 8080, hostPort: 0, protocol: TCP}]
"""


@pytest.mark.parametrize(
    "old, new, want",
    [
        ("", "", []),
        (
            "{app: a, tier: web}",
            "{app: a, tier: db}",
            [
                "spec.template.metadata.labels: `selector` does not match template `labels` "
                "(the API server rejects the object)"
            ],
        ),
        (
            "IfNotPresent",
            "Sometimes",
            [
                "spec.template.spec.containers[0].imagePullPolicy: "
                "'Sometimes' is not one of: Always, IfNotPresent, Never"
            ],
        ),
        (
            "containerPort: 8080",
            "containerPort: 80000",
            [
                "spec.template.spec.containers[0].ports[0].containerPort: "
                "port 80000 is not between 1 and 65535"
            ],
        ),
        (
            "protocol: TCP",
            "protocol: HTTP",
            ["spec.template.spec.containers[0].ports[0].protocol: 'HTTP' is not one of: TCP, UDP, SCTP"],
        ),
    ],
    ids=["valid", "selector-mismatch", "pull-policy", "port-range", "protocol"],
)
def test_go_validation_of_built_in_kinds(tmp_path, old, new, want):
    """What the API server validates in Go, which the OpenAPI v2 schemas lack."""
    path = write(tmp_path, "d.yaml", DEPLOYMENT.replace(old, new) if old else DEPLOYMENT)
    report = check_paths([path], Options(skip_references=True))
    assert [i.format().split(": ", 2)[2] for i in report.sorted_issues()] == want
