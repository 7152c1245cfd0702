"""gateway-api's own CEL test cases (tests/fixtures/gateway-api-cel, extracted from its
tests/cel/*_test.go at the commit the pinned CRDs come from) give the API server's verdicts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.check.cel_rules import RuleSet
from generator.check.paths import upstream_dir
from generator.check.schema_index import load_index
from generator.check.schemas import validate_resource

CASES = yaml.safe_load(
    (Path(__file__).resolve().parents[1] / "fixtures" / "gateway-api-cel" / "cases.yaml").read_text("utf-8")
)


def _rules(api_version: str, kind: str) -> tuple[RuleSet, set[str]]:
    entry = load_index().entries[(api_version, kind)]
    with open(upstream_dir() / "compiled" / entry.compiled_name, encoding="utf-8") as f:
        compiled = json.load(f)
    return RuleSet(api_version, kind, compiled), {r.get("message", "") for r in compiled["rules"]}


RULES = {key: _rules(*key) for key in {(c["object"]["apiVersion"], c["object"]["kind"]) for c in CASES}}


def _matches(got: str, want: str) -> bool:
    # gateway-api's celErrorStringMatches: Kubernetes 1.32 says "more" where it said "longer".
    return want in got or want.replace("more", "longer") in got


@pytest.mark.parametrize("case", CASES, ids=[f"{c['test']}:{c['name']}" for c in CASES])
def test_gateway_api_cel_case(case: dict[str, Any]) -> None:
    obj, wanted = case["object"], case["wantErrors"]
    problems = validate_resource(obj)
    assert bool(problems) == bool(wanted), problems  # accepted or rejected, as the API server
    rules, cel_messages = RULES[(obj["apiVersion"], obj["kind"])]
    got = [message for _, message in rules.check_cel(obj)]
    for want in wanted:
        # A CEL rule's message must come from that rule; the other messages are the API
        # server's OpenAPI wording, which this checker words its own way.
        if any(_matches(m, want) for m in cel_messages):
            assert any(_matches(g, want) for g in got), (want, got)


def test_every_extracted_case_is_here() -> None:
    assert len(CASES) == 125
    assert sum(bool(c["wantErrors"]) for c in CASES) > 60
