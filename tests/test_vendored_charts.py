"""The rendered chart is self-contained: every chart under out/chart/ resolves its
dependencies from its own charts/ directory, so `helm dependency build` works on each
(offline) and no Chart.yaml points at a path that does not exist in the output.

The vendored subcharts are charts/ as committed, byte for byte: checked here once for every
example, which is why golden/<example>/ holds no copy of chart/charts/ (tests/test_golden.py)."""

from __future__ import annotations

import shutil

import pytest
import yaml

from generator.pipeline import render_to_dir

from .conftest import ROOT
from .renderutil import RENDERED, rendered

SPEC = ROOT / "examples" / "multiplexing-gcsfuse" / "models.yaml"  # all three subcharts
CHARTS = ROOT / "charts"
LIBRARY = "gen-common"
# In charts/ a subchart finds the library as its sibling; vendored, in its own charts/.
SIBLING = b"    repository: file://../gen-common\n"


def files_under(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def vendored_from_charts_dir() -> dict[str, bytes]:
    """What out/chart/charts/ must hold: each subchart of charts/ with the library in its
    charts/, and the library's sibling path dropped from its Chart.yaml."""
    library = files_under(CHARTS / LIBRARY)
    expected: dict[str, bytes] = {}
    for sub in sorted(p.name for p in CHARTS.iterdir() if p.is_dir() and p.name != LIBRARY):
        for rel, data in files_under(CHARTS / sub).items():
            if rel == "Chart.yaml":
                assert data.count(SIBLING) == 1, f"charts/{sub}/Chart.yaml"
                data = data.replace(SIBLING, b"")
            expected[f"chart/charts/{sub}/{rel}"] = data
        for rel, data in library.items():
            expected[f"chart/charts/{sub}/charts/{LIBRARY}/{rel}"] = data
    return expected


@pytest.mark.parametrize("example", RENDERED)
def test_vendored_subcharts_are_charts_dir_byte_for_byte(example):
    files, _ = rendered(example)
    vendored = {rel: data for rel, data in files.items() if rel.startswith("chart/charts/")}
    expected = vendored_from_charts_dir()
    assert sorted(vendored) == sorted(expected)
    for rel, data in expected.items():
        assert vendored[rel] == data, f"{rel} is not charts/{rel.removeprefix('chart/charts/')}"


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
