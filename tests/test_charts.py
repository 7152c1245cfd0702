"""helm lint (strict, in-process Helm engine) of every chart and of the emitted umbrella chart."""

from __future__ import annotations

import pytest
import yaml

from generator.pipeline import render_to_dir

from .conftest import ROOT
from .renderutil import RENDERED


def _lint(path, values=None):
    import helm_python

    report = helm_python.lint(str(path), values, strict=True, with_subcharts=True, namespace="default")
    problems = [m for m in report["messages"] if m["severity"] >= 2] + report["errors"]
    return report, problems


@pytest.mark.parametrize("example", RENDERED)
def test_umbrella_chart_lints_clean(example, tmp_path):
    out = tmp_path / "out"
    render_to_dir(ROOT / "examples" / example / "models.yaml", out)
    for values_file in sorted((out / "chart").glob("values-*.yaml")):
        values = yaml.safe_load(values_file.read_text())
        report, problems = _lint(out / "chart", values)
        assert problems == [], values_file.name
        assert report["total_charts_linted"] >= 1


@pytest.mark.parametrize("sub", ["ray-llm", "inference-gateway"])
def test_subcharts_lint_clean_with_their_defaults(sub, tmp_path):
    """Each vendored subchart also lints standalone with its own values.yaml."""
    out = tmp_path / "out"
    render_to_dir(ROOT / "examples" / "single-cluster-gpu" / "models.yaml", out)
    _, problems = _lint(out / "chart" / "charts" / sub)
    assert problems == []


def test_chart_values_schema_rejects_unknown_keys(tmp_path):
    import helm_python

    out = tmp_path / "out"
    render_to_dir(ROOT / "examples" / "single-cluster-gpu" / "models.yaml", out)
    values = yaml.safe_load((out / "chart" / "values-default.yaml").read_text())
    values["ray-llm"]["models"][0]["worker"]["gpus"] = 2
    with helm_python.Chart.load(out / "chart") as chart, pytest.raises(helm_python.HelmError, match="gpus"):
        chart.render(values=values, name="x", namespace="default")


def test_chart_schema_names_the_bad_value(tmp_path):
    import helm_python

    out = tmp_path / "out"
    render_to_dir(ROOT / "examples" / "single-cluster-gpu" / "models.yaml", out)
    with (
        helm_python.Chart.load(out / "chart" / "charts" / "inference-gateway") as chart,
        pytest.raises(helm_python.HelmError, match=r"/gateway/name.*Bad_Name"),
    ):
        chart.render(
            values={"gateway": {"name": "Bad_Name", "className": "x"}}, name="x", namespace="default"
        )


@pytest.mark.parametrize(
    "name", ["a", "a-b", "0", "a1-2b", "a" * 63, "a" * 64, "-a", "a-", "A", "a_b", "a.b", "é", "a b", "--"]
)
def test_dns_label_check_is_the_dns_1123_pattern(tmp_path, name):
    """gen-common.dnsLabel tests the DNS-1123 label pattern with string functions (sprig's
    regexMatch recompiles per call): it refuses exactly what the pattern refuses."""
    import re

    import helm_python

    out = tmp_path / "out"
    render_to_dir(ROOT / "examples" / "single-cluster-gpu" / "models.yaml", out)
    sub = out / "chart" / "charts" / "inference-gateway"
    (sub / "values.schema.json").unlink()
    values = {"gateway": {"name": name, "className": "x"}}
    with helm_python.Chart.load(sub) as chart:
        if re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", name):
            chart.render(values=values, name="x", namespace="default")
        else:
            with pytest.raises(helm_python.HelmError, match="is not a DNS-1123 label"):
                chart.render(values=values, name="x", namespace="default")


def test_templates_fail_with_a_fix_even_without_the_schema(tmp_path):
    """With the schema skipped (helm --skip-schema-validation) the templates' own
    checks still stop the render and say how to fix the value."""
    import helm_python

    out = tmp_path / "out"
    render_to_dir(ROOT / "examples" / "single-cluster-gpu" / "models.yaml", out)
    sub = out / "chart" / "charts" / "inference-gateway"
    (sub / "values.schema.json").unlink()
    with helm_python.Chart.load(sub) as chart:
        with pytest.raises(
            helm_python.HelmError, match=r'gateway\.name "Bad_Name" is not a DNS-1123 label: use at most'
        ):
            chart.render(
                values={"gateway": {"name": "Bad_Name", "className": "x"}}, name="x", namespace="default"
            )
        with pytest.raises(helm_python.HelmError, match=r'routing\.mode "weighted" is not supported'):
            chart.render(
                values={
                    "routing": {"mode": "weighted"},
                    "backends": [
                        {
                            "name": "a",
                            "modelIds": ["a"],
                            "routeName": "a",
                            "target": {"type": "service", "name": "a"},
                            "healthCheckPolicyName": "a",
                        }
                    ],
                },
                name="x",
                namespace="default",
            )


def _schema_properties(node, path=""):
    """(path, schema) of every property declared anywhere in a JSON schema."""
    if not isinstance(node, dict):
        return
    for key, sub in node.get("properties", {}).items():
        yield f"{path}.{key}", sub
        yield from _schema_properties(sub, f"{path}.{key}")
    for key in ("items", "additionalProperties"):
        yield from _schema_properties(node.get(key), f"{path}[]")
    for key in ("oneOf", "anyOf", "allOf"):
        for i, sub in enumerate(node.get(key, [])):
            yield from _schema_properties(sub, f"{path}|{i}")
    for key, sub in node.get("definitions", {}).items():
        yield from _schema_properties(sub, f"#{key}")


@pytest.mark.parametrize("chart", ["ray-llm", "inference-pool", "inference-gateway", "gen-common"])
def test_every_values_schema_property_has_a_description(chart):
    import json

    schema = json.loads((ROOT / "charts" / chart / "values.schema.json").read_text())
    properties = list(_schema_properties(schema))
    assert properties or chart == "gen-common"
    assert [path for path, sub in properties if not sub.get("description")] == []


def test_schema_walk_finds_a_property_without_a_description():
    schema = {
        "definitions": {"m": {"properties": {"a": {"description": "x", "items": {"properties": {"b": {}}}}}}}
    }
    assert [path for path, sub in _schema_properties(schema) if not sub.get("description")] == ["#m.a[].b"]


def _render_gateway(tmp_path, values):
    import helm_python

    out = tmp_path / "out"
    render_to_dir(ROOT / "examples" / "single-cluster-gpu" / "models.yaml", out)
    with helm_python.Chart.load(out / "chart" / "charts" / "inference-gateway") as chart:
        rendered = chart.render(values=values, name="x", namespace="default")
    return [doc for text in rendered.values() for doc in yaml.safe_load_all(text) if doc]


def test_gateway_addresses_are_named_or_ephemeral_per_region(tmp_path):
    addresses = [{"region": "us-east4", "address": "east-ip"}, {"region": "europe-west3", "address": ""}]
    docs = _render_gateway(
        tmp_path, {"gateway": {"className": "gke-l7-global-external-managed-mc", "addresses": addresses}}
    )
    (gateway,) = [d for d in docs if d["kind"] == "Gateway"]
    assert gateway["spec"]["addresses"] == [
        {"type": "NamedAddress", "value": "east-ip"},
        {"type": "networking.gke.io/ephemeral-ipv4-address/europe-west3", "value": "europe-west3"},
    ]


@pytest.mark.parametrize(
    "target, ref",
    [
        ({"type": "service", "name": "s"}, {"group": "", "kind": "Service", "name": "s", "port": 8000}),
        (
            {"type": "pool", "name": "p"},
            {"group": "inference.networking.k8s.io", "kind": "InferencePool", "name": "p"},
        ),
        (
            {"type": "poolImport", "name": "p"},
            {"group": "networking.gke.io", "kind": "GCPInferencePoolImport", "name": "p"},
        ),
    ],
)
def test_backend_type_names_the_kind_and_group(tmp_path, target, ref):
    backend = {"name": "a", "modelIds": [], "routeName": "r", "target": target, "healthCheckPolicyName": "h"}
    docs = _render_gateway(tmp_path, {"backends": [backend]})
    (route,) = [d for d in docs if d["kind"] == "HTTPRoute"]
    assert route["spec"]["rules"][0]["backendRefs"] == [ref]
    (policy,) = [d for d in docs if d["kind"] == "HealthCheckPolicy"]
    assert policy["spec"]["targetRef"] == {k: v for k, v in ref.items() if k != "port"}


QUANTITIES = ["1", "0", "10", "010", "0.5", "1.25", "24Gi", "500m", "2k", "100M", "1E", "3Ei", "128974848"]


def _probe(tmp_path, case: str, cases: list) -> str:
    """What a chart of gen-common's templates renders for ``case`` (a template body,
    ``.`` one of ``cases``) once per case, each after a "---" line."""
    import shutil

    import helm_python

    chart = tmp_path / "probe"
    shutil.copytree(ROOT / "charts" / "gen-common" / "templates", chart / "templates")
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: probe\nversion: 0.1.0\n")
    (chart / "templates" / "cases.yaml").write_text(
        "{{- range .Values.cases }}\n---\n" + case + "{{- end }}\n"
    )
    with helm_python.Chart.load(chart) as loaded:
        rendered = loaded.render(values={"cases": cases}, name="x", namespace="default")
    return rendered["probe/templates/cases.yaml"]


def test_resources_helper_writes_what_to_yaml_writes(tmp_path):
    """gen-common.resources replaces toYaml for speed: on every shape of quantity the
    chart schema admits it must write the same bytes."""
    names = ["cpu", "memory", "ephemeral-storage", "nvidia.com/gpu", "google.com/tpu"]
    cases = [{"limits": dict.fromkeys(names, q), "requests": {"cpu": q, "memory": q}} for q in QUANTITIES]
    cases += [{"limits": {}, "requests": {"cpu": "2"}}, {"requests": {"memory": "8Gi"}}, {}]
    both = (
        "toYaml: |\n  {{- toYaml . | nindent 2 }}\n"
        'helper: |\n  {{- include "gen-common.resources" . | nindent 2 }}\n'
    )
    docs = [doc for doc in yaml.safe_load_all(_probe(tmp_path, both, cases)) if doc]
    assert len(docs) == len(cases)
    for case, doc in zip(cases, docs, strict=True):
        assert doc["helper"] == doc["toYaml"], case


SCALARS = [
    "", "a", "A", "abc-def", "qwen-2.5-3b", "google/gemma-4-31B-it", "/", "/gemma-2b-it", "_a", "a_b",
    "a.b.c", "a/b/c", "123", "0123", "1e3", "0x1f", ".inf", ".nan", "nan", "NaN", "-a", "-1", "2001-12-14",
    "1:30", "y", "Y", "n", "N", "yes", "Yes", "YES", "yEs", "no", "NO", "on", "On", "off", "OFF", "true",
    "True", "false", "null", "Null", "NULL", "~", "a b", "a: b", "a#b", "a,b", "é", "x" * 120, "<<", "=",
    8000, 1.5, True, None,
]  # fmt: skip


def test_scalar_helper_writes_what_to_yaml_writes(tmp_path):
    """gen-common.scalar writes plainly safe strings itself and leaves the rest to toYaml:
    the bytes must be toYaml's for every value, look-alikes of other YAML types included."""
    both = 'toYaml: {{ toYaml . }}\nhelper: {{ include "gen-common.scalar" . }}\n'
    docs = _probe(tmp_path, both, SCALARS).split("\n---\n")[1:]
    assert len(docs) == len(SCALARS)
    for value, doc in zip(SCALARS, docs, strict=True):
        to_yaml, helper = doc.strip("\n").split("\n")
        assert helper.removeprefix("helper: ") == to_yaml.removeprefix("toYaml: "), value
