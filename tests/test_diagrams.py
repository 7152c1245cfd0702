"""The fleet diagrams in the READMEs stay within what mermaid draws (maxTextSize 50,000
characters, maxEdges 500 by default: its config schema): a large fleet shows its first
models and says how many more there are. The chart README also stayed under the 5 MiB
Helm accepts for a chart file (a 10,000-model fleet on three clusters exceeded it)."""

from __future__ import annotations

import re
import sys

import pytest

from generator.plan import build_plan
from generator.render import _context
from generator.render.chart import MERMAID_MAX_EDGES, MERMAID_MAX_TEXT, diagram
from generator.spec import load_spec

from .conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
import make_specs


def _plan(tmp_path, models):
    spec = tmp_path / "fleet.yaml"
    spec.write_text(make_specs._dump(make_specs.validate_spec(models)), encoding="utf-8")
    plan = build_plan(load_spec(spec))
    assert plan.multi_cluster and len(plan.clusters) >= 3
    return plan


def _body(text):
    return text.partition("```mermaid\n")[2].rpartition("```")[0]


@pytest.mark.parametrize("template", ["diagram-chart.md.j2", "diagram-fleet.md.j2"])
def test_a_large_fleet_diagram_shows_what_mermaid_draws(tmp_path, template):
    plan = _plan(tmp_path, 300)
    text = diagram(template, plan, **_context(plan))
    body = _body(text)
    assert len(body) <= MERMAID_MAX_TEXT and body.count("-->") <= MERMAID_MAX_EDGES
    (more,) = re.findall(r"\.\.\. and ([\d,]+) more models", body)
    shown = [m.name for m in plan.models if f"RayService {m.name}" in body]
    assert shown == [m.name for m in plan.models[: len(shown)]]  # the first ones
    assert len(shown) + int(more.replace(",", "")) == len(plan.models)
    # close to the most that fit (sized from a small diagram, not searched for)
    most = max(n for n in range(len(plan.models) + 1) if _fits(_render(template, plan, n)) or n == 0)
    assert 0.9 * most <= len(shown) <= most


def _fits(text):
    body = _body(text)
    return len(body) <= MERMAID_MAX_TEXT and body.count("-->") <= MERMAID_MAX_EDGES


def _render(template, plan, n):
    from generator.render.chart import scaffold

    return scaffold(template, plan=plan, models=plan.models[:n], more=len(plan.models) - n, **_context(plan))


@pytest.mark.parametrize("template", ["diagram-chart.md.j2", "diagram-fleet.md.j2"])
def test_a_small_fleet_diagram_shows_every_model(tmp_path, template):
    plan = _plan(tmp_path, 12)
    body = _body(diagram(template, plan, **_context(plan)))
    assert "more models" not in body
    assert all(f"RayService {m.name}" in body for m in plan.models)
