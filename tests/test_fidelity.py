"""The single-cluster GPU example reproduces every field of seed 000/001's manifests."""

from __future__ import annotations

import pytest
import yaml

from .conftest import ROOT
from .fidelity import missing, with_parsed_serve_config
from .renderutil import rendered

SEEDS = ROOT / "tests" / "fixtures" / "seeds"


def _ours(kind: str) -> dict[str, dict]:
    _, resources = rendered("single-cluster-gpu")
    return {r.name: r.obj for r in resources if r.kind == kind}


@pytest.mark.parametrize("name", ["gemma-2b-it", "qwen-25-3b"])
def test_rayservice_matches_seed(name):
    seed = yaml.safe_load((SEEDS / f"{name}-rayservice.yaml").read_text())
    ours = _ours("RayService")[name]
    assert missing(with_parsed_serve_config(seed), with_parsed_serve_config(ours)) == []


def test_fidelity_check_can_fail():
    seed = yaml.safe_load((SEEDS / "gemma-2b-it-rayservice.yaml").read_text())
    ours = with_parsed_serve_config(_ours("RayService")["gemma-2b-it"])
    ours["spec"]["rayClusterConfig"]["workerGroupSpecs"][0]["replicas"] = 3
    assert missing(with_parsed_serve_config(seed), ours) == [
        ".spec.rayClusterConfig.workerGroupSpecs[0].replicas: reference has 2, gen has 3"
    ]


def test_healthcheckpolicies_match_seed():
    seeds = list(yaml.safe_load_all((SEEDS / "healthcheckpolicies.yaml").read_text()))
    ours = {p["spec"]["targetRef"]["name"]: p for p in _ours("HealthCheckPolicy").values()}
    assert sorted(ours) == sorted(s["spec"]["targetRef"]["name"] for s in seeds)
    for seed in seeds:
        assert missing(seed["spec"], ours[seed["spec"]["targetRef"]["name"]]["spec"]) == []


def test_gateway_matches_seed():
    seed = next(yaml.safe_load_all((SEEDS / "gateway-httproute.yaml").read_text()))
    ours = _ours("Gateway")[seed["metadata"]["name"]]
    assert missing(seed["spec"], ours["spec"]) == []


def test_every_seed_route_rule_is_rendered():
    """The seed has one HTTPRoute with a rule per model; gen renders one route per model
    (HTTPRoute allows at most 16 rules, and per-model routes scale to large fleets)."""
    seed = list(yaml.safe_load_all((SEEDS / "gateway-httproute.yaml").read_text()))[1]
    routes = _ours("HTTPRoute").values()
    for rule in seed["spec"]["rules"]:
        rule = {**rule, "backendRefs": [dict(b) for b in rule["backendRefs"]]}
        matching = [r for r in routes if not missing(rule, r["spec"]["rules"][0])]
        assert len(matching) == 1, rule
        assert matching[0]["spec"]["parentRefs"][0]["name"] == seed["spec"]["parentRefs"][0]["name"]
