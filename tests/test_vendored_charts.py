"""The rendered chart is self-contained: every chart under out/chart/ resolves its
dependencies from its own charts/ directory, so `helm dependency build` works on each
(offline) and no Chart.yaml points at a path that does not exist in the output."""

from __future__ import annotations

import shutil

import pytest
import yaml

from generator.pipeline import render_to_dir

from .conftest import ROOT

SPEC = ROOT / "examples" / "multiplexing-gcsfuse" / "models.yaml"  # all three subcharts


@pytest.fixture(scope="module")
def chart(tmp_path_factory):
    out = tmp_path_factory.mktemp("vendored") / "out"
    render_to_dir(SPEC, out)
    return out / "chart"


def charts_in(chart):
    return sorted(p.parent for p in chart.rglob("Chart.yaml"))


def test_every_dependency_is_vendored_where_its_chart_looks(chart):
    assert len(charts_in(chart)) == 7  # umbrella, 3 subcharts, the library in each
    for chart_dir in charts_in(chart):
        meta = yaml.safe_load((chart_dir / "Chart.yaml").read_text())
        for dep in meta.get("dependencies", []):
            repo = dep.get("repository", "")
            assert repo == "", f"{chart_dir}/Chart.yaml: {dep['name']} from {repo!r}"
            vendored = chart_dir / "charts" / dep["name"] / "Chart.yaml"
            assert vendored.is_file(), f"{chart_dir}: {dep['name']} is not in its charts/"
            assert yaml.safe_load(vendored.read_text())["version"] == dep["version"]


def test_helm_dependency_build_works_on_every_chart(chart, tmp_path):
    from helm_python import chart as helm_chart
    from helm_python import registry

    copy = tmp_path / "chart"
    shutil.copytree(chart, copy)  # the build writes Chart.lock
    for chart_dir in charts_in(copy):
        if not yaml.safe_load((chart_dir / "Chart.yaml").read_text()).get("dependencies"):
            continue
        statuses = {d["name"]: d["status"] for d in helm_chart.dependency_list(chart_dir)}
        assert set(statuses.values()) == {"unpacked"}, (chart_dir, statuses)
        registry.dependency_build(chart_dir)  # raised "directory .../gen-common not found"
