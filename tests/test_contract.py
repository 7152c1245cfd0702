"""The spec is a contract: whatever `gen validate` accepts renders with --strict, checks clean
and renders byte-identically again; whatever it rejects gets located errors, exit 1.

Specs are drawn from schemas/models.schema.json by tests/specgen.py (Hypothesis). The runs
here are derandomized and keep no example database, so CI sees the same examples every
time; `make fuzz` draws many more with fresh randomness (tests/fuzz.py). A failure found
by a draw becomes a regression case: tests/negative/<case>/ when the spec must be refused,
a test below when it must render.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings

from generator.pipeline import verify
from generator.render import render_spec
from generator.spec import SpecError, load_spec, validate_document
from generator.spec.loader import load_text

from . import specgen
from .contract import check_spec, dump

SETTINGS = {
    "derandomize": True,  # the same examples on every run: CI is reproducible
    "database": None,  # and nothing is written into the repository (.hypothesis/)
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
}


def _assert_contract(spec: dict[str, Any]) -> None:
    outcome = check_spec(spec)
    assert not outcome.failures, "\n".join(outcome.failures) + "\n--- spec ---\n" + outcome.text


@settings(max_examples=int(os.environ.get("GEN_CONTRACT_EXAMPLES", "20")), **SETTINGS)  # type: ignore[arg-type]
@given(spec=specgen.fleets())
def test_drawn_specs_keep_the_contract(spec: dict[str, Any]) -> None:
    _assert_contract(spec)


@pytest.mark.slow
@settings(max_examples=150, **SETTINGS)  # type: ignore[arg-type]
@given(spec=specgen.coherent_fleet())
def test_drawn_coherent_fleets_keep_the_contract(spec: dict[str, Any]) -> None:
    _assert_contract(spec)


# --- the strategy reaches every field ------------------------------------------------------


def schema_paths(node: Any, path: str = "") -> tuple[set[str], set[tuple[str, Any]]]:
    """Every property path of the schema (lists as []), and every (path, enum value)."""
    node = specgen.resolve(node)
    paths: set[str] = {path} if path else set()
    enums: set[tuple[str, Any]] = {(path, v) for v in node.get("enum", [])}
    for key, sub in node.get("properties", {}).items():
        p, e = schema_paths(sub, f"{path}.{key}" if path else key)
        paths |= p
        enums |= e
    if "items" in node:
        p, e = schema_paths(node["items"], path + "[]")
        paths |= p
        enums |= e
    return paths, enums


def spec_paths(value: Any, known: set[str], path: str = "") -> set[tuple[str, Any]]:
    out: set[tuple[str, Any]] = set()
    if isinstance(value, dict):
        for key, sub in value.items():
            p = f"{path}.{key}" if path else key
            if p in known:
                out.add((p, None))
                out |= spec_paths(sub, known, p)
    elif isinstance(value, list):
        for sub in value:
            out.add((path + "[]", None))
            out |= spec_paths(sub, known, path + "[]")
    elif isinstance(value, str | bool | int):
        out.add((path, value))
    return out


@pytest.mark.slow
@pytest.mark.slow
def test_the_strategy_draws_every_field_and_enum_value() -> None:
    paths, enums = schema_paths(specgen.schema())
    seen: set[tuple[str, Any]] = set()

    # 400 draws covered every value alone but once missed a rare one in the full parallel
    # suite: a margin, since the rarest values (nested optional enums) come last
    @settings(max_examples=700, **SETTINGS)  # type: ignore[arg-type]
    @given(spec=specgen.fleets())
    def draw(spec: dict[str, Any]) -> None:
        seen.update(spec_paths(spec, paths))

    draw()
    drawn = {p for p, _ in seen}
    assert sorted(paths - drawn) == [], "schema fields never drawn"
    assert sorted(enums - seen, key=str) == [], "enum values never drawn"


def test_the_strategy_draws_names_at_their_limits() -> None:
    lengths: set[int] = set()

    @settings(max_examples=150, **SETTINGS)  # type: ignore[arg-type]
    @given(name=specgen.dns_label())
    def draw(name: str) -> None:
        lengths.add(len(name))

    draw()
    assert {1, 47, 63} <= lengths


@pytest.mark.slow
@settings(max_examples=60, **SETTINGS)  # type: ignore[arg-type]
@given(spec=specgen.coherent_fleet())
def test_coherent_fleets_are_mostly_valid(spec: dict[str, Any]) -> None:
    """Guards the strategy itself: a coherent draw that is refused must be refused for a
    reason the strategy leaves to chance (not a strategy bug that hides the renderer)."""
    _, diags = validate_document(load_text(dump(spec), "models.yaml"))
    allowed = (
        "checkIntervalSec",
        "does not fit",
        "not in gen's model catalog",
        "derived name",
        "label value",
        "Helm release name",
        "hiddenSize",
        "would also be",
        "share a ServiceAccount",
        "tensor_parallel_size",
        "is longer than",
        "is not valid",
        "has host bits",
        "is not an IPv4 CIDR",
        "HTTPRoute rule",
        "is shorter than",
        "accepts a max_lora_rank of",  # the schema's 1..512 range is wider than vLLM's rank list
    )
    unexpected = [d.format() for d in diags if not any(a in d.message for a in allowed)]
    assert unexpected == []


# --- regressions: specs the draws found that must render --------------------------------

HEADER = "apiVersion: gen.llm-fleet.dev/v1alpha1\nkind: ModelFleet\nmetadata: {name: f}\n"


def _render(text: str, strict: bool = True) -> tuple[dict[str, bytes], list[Any]]:
    from generator.spec import Spec

    doc = load_text(text, "models.yaml")
    data, diags = validate_document(doc)
    assert data is not None, [d.format() for d in diags]
    _, files, resources = render_spec(Spec(doc, data))
    if strict:
        assert verify(resources, strict=True) == []
    return files, resources


def test_models_sharing_a_service_account_get_one_object() -> None:
    """Issue 20 case 10: a natural Workload Identity set-up; one ServiceAccount, two users."""
    text = HEADER + (
        "models:\n"
        "  - {name: a, source: hf://o/a, accelerator: {type: nvidia-l4}, serviceAccount: {name: sa}}\n"
        "  - {name: b, source: hf://o/b, accelerator: {type: nvidia-l4}, serviceAccount: {name: sa}}\n"
    )
    _, resources = _render(text)
    accounts = [r for r in resources if r.kind == "ServiceAccount"]
    assert [r.name for r in accounts] == ["sa"]
    users = [
        r.obj["spec"]["rayClusterConfig"]["headGroupSpec"]["template"]["spec"]["serviceAccountName"]
        for r in resources
        if r.kind == "RayService"
    ]
    assert users == ["sa", "sa"]
    assert check_spec(yaml.safe_load(text)).failures == []


def test_gcs_fuse_mount_with_trailing_slash_loads_the_bucket_root() -> None:
    """Issue 20 case 9's neighbour: `/data/` + gs://bucket is the mount itself, never ''."""
    text = HEADER + (
        "models:\n"
        "  - name: a\n"
        "    source: gs://bucket\n"
        "    accelerator: {type: nvidia-l4}\n"
        "    serviceAccount: {name: sa}\n"
        "    storage: {gcsFuse: {bucket: bucket, mountPath: /data/}}\n"
    )
    _, resources = _render(text)
    (ray,) = [r for r in resources if r.kind == "RayService"]
    assert 'model_source: "/data"\n' in ray.obj["spec"]["serveConfigV2"]


@pytest.mark.parametrize(
    "field",
    [
        "gateway: {healthCheck: {checkIntervalSec: 5, timeoutSec: 5}}",
        'gateway: {healthCheck: {path: "/-/healthz?full=1&x=%20"}}',
        "gateway: {modelHeader: " + "X" * 256 + "}",
    ],
)
def test_values_at_the_limits_render(field: str) -> None:
    text = HEADER + field + "\nmodels:\n  - {name: a, source: hf://o/a, accelerator: {type: nvidia-l4}}\n"
    _render(text)


# --- numbers through Helm (issue 20 "Numbers survive Helm": the charts' part, not yet done) -

MULTI_CLUSTER = (
    "gateway: {class: gke-l7-rilb-mc, routing: inference-pool}\n"
    "clusters: [{name: a, region: us-central1, role: config}, {name: b, region: us-east4}]\n"
)


def _number_out(field: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the GCPBackendPolicy's spec.default, the serve config's first llm_config) of model a."""
    text = HEADER + MULTI_CLUSTER
    text += f"models:\n  - name: a\n    source: hf://o/a\n    accelerator: {{type: nvidia-l4}}\n    {field}\n"
    files, _ = _render(text, strict=False)  # the values are compared below
    docs = {}
    for name in ("gcpbackendpolicy.yaml", "rayservice.yaml"):
        raw = files.get(f"manifests/a/{name}")
        docs[name] = next(d for d in yaml.safe_load_all(raw) if d) if raw else {}
    policy = docs["gcpbackendpolicy.yaml"].get("spec", {}).get("default", {})
    serve = yaml.safe_load(docs["rayservice.yaml"]["spec"]["serveConfigV2"])
    return policy, serve["applications"][0]["args"]["llm_configs"][0]


def _same(a: Any, b: Any) -> bool:
    import math

    if type(a) is not type(b) or a != b:
        return False
    return not isinstance(a, float) or math.copysign(1, a) == math.copysign(1, b)


# (the spec line, where its value lands, the value it must have there): the boundaries of
# Helm's float64 (2^31, 2^53 + 1, 10^22, 1e-7, -0.0, and 10^6, which %v prints as 1e+06)
NUMBER_CASES = [
    ("loadBalancing: {inFlight: {maxRequestsPerEndpoint: 1000000}}", "maxInFlightRequestsPerEndpoint", 10**6),
    (
        "loadBalancing: {inFlight: {maxRequestsPerEndpoint: 2147483647}}",
        "maxInFlightRequestsPerEndpoint",
        2**31 - 1,
    ),
    ("engineArgs: {seed: 2147483648}", "engine_kwargs.seed", 2**31),
    ("engineArgs: {seed: 9007199254740993}", "engine_kwargs.seed", 2**53 + 1),
    ("engineArgs: {seed: 9223372036854775807}", "engine_kwargs.seed", 2**63 - 1),
    ("engineArgs: {big: 1.0e+22}", "engine_kwargs.big", 1e22),
    ("engineArgs: {tiny: 1.0e-7}", "engine_kwargs.tiny", 1e-7),
    ("engineArgs: {neg: -0.0}", "engine_kwargs.neg", -0.0),
    ("engineArgs: {ratio: 0.1}", "engine_kwargs.ratio", 0.1),
    ("healthCheck: {periodS: 1000000}", "deployment_config.health_check_period_s", 10**6),
]


def _lookup(policy: dict[str, Any], llm: dict[str, Any], where: str) -> Any:
    if "." not in where:
        return policy.get(where)
    first, key = where.split(".")
    return llm.get(first, {}).get(key)


@pytest.mark.parametrize("field, where, value", NUMBER_CASES)
def test_numbers_reach_the_manifests_exactly(field: str, where: str, value: Any) -> None:
    """Issue 20: what the spec says arrives in the manifests with the same value and type
    (the charts print engine_kwargs from exact YAML text and integers with int64)."""
    policy, llm = _number_out(field)
    got = _lookup(policy, llm, where)
    assert _same(got, value), f"{field}: {where} is {got!r}, expected {value!r}"


def test_a_count_beyond_32_bits_is_refused_at_its_line(tmp_path) -> None:
    text = HEADER + MULTI_CLUSTER
    text += (
        "models:\n  - name: a\n    source: hf://o/a\n    accelerator: {type: nvidia-l4}\n"
        "    loadBalancing: {inFlight: {maxRequestsPerEndpoint: 9223372036854775807}}\n"
    )
    spec = tmp_path / "models.yaml"
    spec.write_text(text)
    with pytest.raises(SpecError) as exc:
        load_spec(spec)
    assert "maxRequestsPerEndpoint: must be at most 2147483647" in str(exc.value)


def test_a_number_below_helms_float_formatting_is_exact() -> None:
    """The bound the property test keeps to (specgen.SAFE_INT_MAX) survives Helm."""
    policy, _ = _number_out(
        f"loadBalancing: {{inFlight: {{maxRequestsPerEndpoint: {specgen.SAFE_INT_MAX}}}}}"
    )
    assert _same(policy["maxInFlightRequestsPerEndpoint"], specgen.SAFE_INT_MAX)
