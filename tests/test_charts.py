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
                            "target": {"group": "", "kind": "Service", "name": "a"},
                            "healthCheckPolicyName": "a",
                        }
                    ],
                },
                name="x",
                namespace="default",
            )
