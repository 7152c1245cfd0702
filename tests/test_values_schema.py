"""gen checks its chart values against the charts' values.schema.json itself
(render/values_schema.py) and renders with the Helm engine on the chart without them; the
check must give Helm's verdict, which the engine gives here on the chart with them."""

from __future__ import annotations

import copy
from pathlib import Path

import helm_python
import pytest

from generator.plan import build_plan
from generator.render import _context, umbrella_files
from generator.render import values_schema as vs
from generator.render.manifests import chart_archive
from generator.spec import load_spec

EXAMPLES = sorted(p.parent.name for p in Path("examples").glob("*/models.yaml"))


def _chart(example: str):
    plan = build_plan(load_spec(f"examples/{example}/models.yaml"))
    return plan, umbrella_files(plan, _context(plan), with_cluster_values=False)


def _helm_accepts(chart, plan, values) -> bool:
    """Whether Helm's values checks pass: coalescing and the schemas (a template may
    still fail on odd values)."""
    with helm_python.Chart.load_archive(chart_archive(chart, plan.fleet)) as loaded:
        try:
            loaded.render(values=values, name=plan.fleet, namespace=plan.namespace, is_install=True)
        except helm_python.HelmError as exc:
            return not any(m in str(exc) for m in ("of the schema", "type mismatch on"))
    return True


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_examples_values_meet_the_schemas_as_helm_finds(example):
    plan, chart = _chart(example)
    root = vs.load(chart)
    assert root is not None
    for cluster in plan.clusters:
        assert vs.problems(root, cluster.values) is None
        assert _helm_accepts(chart, plan, cluster.values)


def _set(path, value):
    def change(values):
        node = values
        for key in path[:-1]:
            node = node[key]
        if value is KeyError:
            del node[path[-1]]
        else:
            node[path[-1]] = value

    return change


MUTATIONS = {
    "a model name that is a number": _set(("ray-llm", "models", 0, "name"), 123),
    "an unknown key in a subchart": _set(("ray-llm", "bogus"), 1),
    "a required model key missing": _set(("ray-llm", "models", 0, "image"), KeyError),
    "a global of the wrong type": _set(("global", "servePort"), "http"),
    "an unknown global": _set(("global", "bogus"), 1),
    "a subchart section that is not a map": _set(("inference-gateway",), "off"),
    "a null that removes a subchart default": _set(("ray-llm", "networkPolicy"), None),
    "a null inside a model (kept: lists are not coalesced)": _set(("ray-llm", "models", 0, "image"), None),
    "an unknown key in a disabled subchart (not validated)": _set(
        ("inference-gateway",), {"enabled": False, "x": 1}
    ),
    "an unknown key in an enabled subchart": _set(("inference-gateway", "x"), 1),
    "an unknown top-level key": _set(("bogus",), {}),
}


@pytest.mark.parametrize("what", MUTATIONS)
def test_a_broken_value_gets_helms_verdict(what):
    plan, chart = _chart("multi-cluster")
    values = copy.deepcopy(plan.clusters[0].values)
    MUTATIONS[what](values)
    helm = _helm_accepts(chart, plan, values)
    ours = vs.problems(vs.load(chart), values) is None
    assert ours == helm, f"Helm {'accepts' if helm else 'rejects'} it"


def test_a_violation_names_the_chart_and_the_value():
    plan, chart = _chart("single-cluster-gpu")
    values = copy.deepcopy(plan.clusters[0].values)
    values["ray-llm"]["models"][0]["name"] = 123
    message = vs.problems(vs.load(chart), values)
    assert message is not None
    assert "ray-llm:\n- at '/models/0/name': 123 is not of type \"string\"" in message


def test_a_chart_with_features_the_port_lacks_keeps_its_schemas_with_the_engine():
    _, chart = _chart("single-cluster-gpu")
    aliased = dict(chart)
    aliased["Chart.yaml"] = chart["Chart.yaml"].replace(b"condition: ray-llm.enabled", b"alias: llm")
    assert vs.load(chart) is not None and vs.load(aliased) is None
    assert all(not rel.endswith("values.schema.json") for rel in vs.without_schemas(chart))


def test_render_refuses_values_that_break_a_schema_before_the_engine_sees_them(monkeypatch):
    from dataclasses import replace

    from generator import render

    plan, _ = _chart("single-cluster-gpu")
    cluster = plan.clusters[0]
    values = copy.deepcopy(cluster.values)
    values["ray-llm"]["models"][0]["name"] = 123
    broken = replace(plan, clusters=[replace(cluster, values=values)])
    with pytest.raises(
        render.HelmRenderError, match=r"(?s)values-default.yaml: .*ray-llm:\n- at '/models/0/name'"
    ):
        render.render_plan(broken)
