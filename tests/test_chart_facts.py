"""Facts live once, in generator/catalog/: the charts receive them through values, and
each chart's values.yaml default must hold the catalog's value."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator import catalog

from .conftest import ROOT

CHARTS = ROOT / "charts"
SUBCHARTS = ("ray-llm", "inference-pool", "inference-gateway")


def _values(chart: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((CHARTS / chart / "values.yaml").read_text())
    return data


def _at(data: dict[str, Any], dotted: str) -> Any:
    for key in dotted.split("."):
        data = data[key]
    return data


def _ray() -> dict[str, Any]:
    ray: dict[str, Any] = catalog.releases()["ray"]
    return ray


def _epp() -> dict[str, Any]:
    epp: dict[str, Any] = catalog.releases()["endpointPicker"]
    return epp


def _head_ports() -> list[dict[str, Any]]:
    ports = [{"name": name, "containerPort": port} for name, port in _ray()["privatePorts"].items()]
    return [*ports, {"name": "serve", "containerPort": _ray()["servePort"]}]


# (chart, values path, the catalog's value)
FACTS: list[tuple[str, str, Callable[[], Any]]] = [
    *[(chart, "global.servePort", lambda: _ray()["servePort"]) for chart in SUBCHARTS],
    ("ray-llm", "headPorts", _head_ports),
    ("ray-llm", "networkPolicy.metricsPort", lambda: _ray()["metricsPort"]),
    ("ray-llm", "networkPolicy.dashboardAgentPort", lambda: _ray()["dashboardAgentPort"]),
    ("ray-llm", "dranet.deviceClassName", lambda: catalog.operations()["dranet"]["deviceClassName"]),
    ("ray-llm", "nodeLabels", catalog.node_labels),
    (
        "ray-llm",
        "annotationKeys.gcpServiceAccount",
        lambda: catalog.keys()["annotations"]["gcpServiceAccount"],
    ),
    ("ray-llm", "gcsFuseDriver", lambda: catalog.keys()["gcsFuseDriver"]),
    *[
        ("inference-pool", f"endpointPicker.image.{key}", lambda key=key: _epp()["image"][key])
        for key in ("registry", "repository", "tag")
    ],
    *[
        ("inference-pool", f"endpointPicker.{port}", lambda port=port: _epp()[port])
        for port in ("extProcPort", "healthPort", "metricsPort", "modelServerMetricsPort")
    ],
    ("inference-pool", "endpointPicker.engine", lambda: _epp()["engine"]),
    ("inference-pool", "annotationKeys.poolExport", lambda: catalog.keys()["annotations"]["poolExport"]),
    (
        "inference-pool",
        "objectiveApiVersion",
        lambda: catalog.releases()["inferenceObjectiveProfiles"]["gaie"]["apiVersion"],
    ),
    ("inference-gateway", "healthCheck.requestPath", lambda: _ray()["healthPath"]),
    ("inference-gateway", "gatewayAddresses", lambda: catalog.releases()["gatewayAddresses"]),
]


@pytest.mark.parametrize("chart, path, fact", FACTS, ids=[f"{c}:{p}" for c, p, _ in FACTS])
def test_values_default_is_the_catalog_fact(chart, path, fact):
    assert _at(_values(chart), path) == fact(), (
        f"charts/{chart}/values.yaml {path} disagrees with the catalog"
    )


@pytest.mark.parametrize("chart", SUBCHARTS)
def test_api_versions_are_the_catalog(chart):
    versions = _values(chart)["apiVersions"]
    assert versions == {kind: catalog.api_version(kind) for kind in versions}


def _templates(chart: str) -> dict[Path, str]:
    root = CHARTS / chart / "templates"
    return {path: path.read_text() for path in sorted(root.iterdir()) if path.suffix in (".yaml", ".tpl")}


@pytest.mark.parametrize("chart", SUBCHARTS)
def test_every_kind_a_template_names_has_its_api_version(chart):
    used = {
        kind
        for text in _templates(chart).values()
        for kind in re.findall(r"\.Values\.apiVersions\.(\w+)", text)
    }
    assert used, "the test reads the templates' apiVersions lookups"
    assert used <= set(_values(chart)["apiVersions"])


@pytest.mark.parametrize("chart", [*SUBCHARTS, "gen-common"])
def test_templates_state_no_api_version_or_group_literally(chart):
    literal_version = re.compile(r"^\s*apiVersion: (?!\{\{)", re.M)
    # an API group spelled out (x.k8s.io, x.gke.io, ray.io, ...) outside a label or annotation key
    literal_group = re.compile(r"\b(?:apiGroups?|group): *\[?\"?[a-z0-9.-]+\.(?:io|com)\b")
    for path, text in _templates(chart).items():
        assert not literal_version.search(text), (
            f"{path}: apiVersion literal; read it from .Values.apiVersions"
        )
        assert not literal_group.search(text), (
            f"{path}: API group literal; derive it from .Values.apiVersions"
        )


def test_the_pinned_ray_release_is_the_ray_llm_app_version():
    chart = yaml.safe_load((CHARTS / "ray-llm" / "Chart.yaml").read_text())
    assert chart["appVersion"] == _ray()["version"]


def test_the_pinned_epp_release_is_the_inference_pool_app_version():
    chart = yaml.safe_load((CHARTS / "inference-pool" / "Chart.yaml").read_text())
    assert chart["appVersion"] == _epp()["image"]["tag"]
