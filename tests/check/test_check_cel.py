"""CEL x-kubernetes-validations of the pinned CRDs, evaluated with cel-cpp (cel-expr-python)."""

from __future__ import annotations

import copy

import pytest

from generator.check.cel_rules import RuleSet, escape_property
from generator.check.schemas import Problem, unevaluated_rules, validate_resource

ROUTE = {
    "apiVersion": "gateway.networking.k8s.io/v1",
    "kind": "HTTPRoute",
    "metadata": {"name": "llm"},
    "spec": {
        "parentRefs": [{"name": "gw"}],
        "rules": [
            {
                "matches": [{"path": {"type": "PathPrefix", "value": "/v1"}}],
                "backendRefs": [
                    {"group": "inference.networking.k8s.io", "kind": "InferencePool", "name": "pool"}
                ],
            }
        ],
    },
}
GATEWAY = {
    "apiVersion": "gateway.networking.k8s.io/v1",
    "kind": "Gateway",
    "metadata": {"name": "gw"},
    "spec": {
        "gatewayClassName": "gke-l7-rilb",
        "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}],
        "infrastructure": {"annotations": {"networking.gke.io/certmap": "x"}},
    },
}
POOL = {
    "apiVersion": "inference.networking.k8s.io/v1",
    "kind": "InferencePool",
    "metadata": {"name": "pool"},
    "spec": {
        "selector": {"matchLabels": {"app": "vllm"}},
        "targetPorts": [{"number": 8000}],
        "endpointPickerRef": {"name": "epp", "port": {"number": 9002}},
    },
}
POLICY = {
    "apiVersion": "networking.gke.io/v1",
    "kind": "GCPBackendPolicy",
    "metadata": {"name": "p"},
    "spec": {
        "targetRef": {"group": "networking.gke.io", "kind": "ServiceImport", "name": "svc"},
        "default": {"scopes": [{"selector": {"gke.io/zone": "us-central1-a"}, "maxRatePerEndpoint": 10}]},
    },
}


def with_(base: dict, path: tuple, key: object, value: object) -> dict:
    obj = copy.deepcopy(base)
    node = obj
    for p in path:
        node = node[p]
    node[key] = value  # type: ignore[index]  # mutating a parsed YAML tree of any shape
    return obj


def test_valid_objects_pass() -> None:
    for obj in (ROUTE, GATEWAY, POOL, POLICY):
        assert validate_resource(obj) == []


def test_escaped_property_is_visible_to_rules() -> None:
    # Same parent name in two namespaces is fine only if the rule sees `namespace`
    # (as p1.__namespace__); unescaped, both refs would look namespace-less and clash.
    obj = with_(
        ROUTE, ("spec",), "parentRefs", [{"name": "gw", "namespace": "a"}, {"name": "gw", "namespace": "b"}]
    )
    assert validate_resource(obj) == []


@pytest.mark.parametrize(
    "obj,expected",
    [
        # A relative path prefix.
        (
            with_(ROUTE, ("spec", "rules", 0, "matches", 0, "path"), "value", "v1"),
            [
                Problem(
                    "HTTPRoute",
                    "llm",
                    "spec.rules[0].matches[0].path",
                    "value must be an absolute path and start with '/' when type one of "
                    "['Exact', 'PathPrefix']",
                )
            ],
        ),
        # backendRef group/kind default to ""/Service (defaults applied before CEL), so port is required.
        (
            with_(ROUTE, ("spec", "rules", 0), "backendRefs", [{"name": "svc"}]),
            [
                Problem(
                    "HTTPRoute", "llm", "spec.rules[0].backendRefs[0]", "Must have port for Service reference"
                )
            ],
        ),
        # duration(): backendRequest longer than request.
        (
            with_(ROUTE, ("spec", "rules", 0), "timeouts", {"request": "10s", "backendRequest": "1m"}),
            [
                Problem(
                    "HTTPRoute",
                    "llm",
                    "spec.rules[0].timeouts",
                    "backendRequest timeout cannot be longer than request timeout",
                )
            ],
        ),
        # `namespace` is a CEL keyword: the rule reads it as p1.__namespace__.
        (
            with_(
                ROUTE,
                ("spec",),
                "parentRefs",
                [{"name": "gw", "namespace": "a"}, {"name": "gw", "namespace": "a"}],
            ),
            [
                Problem(
                    "HTTPRoute",
                    "llm",
                    "spec.parentRefs",
                    "sectionName must be unique when parentRefs includes 2 or more references "
                    "to the same parent",
                )
            ],
        ),
        (
            with_(
                GATEWAY,
                ("spec",),
                "listeners",
                [
                    {"name": "http", "port": 80, "protocol": "HTTP"},
                    {"name": "http", "port": 81, "protocol": "HTTP"},
                ],
            ),
            [
                Problem("Gateway", "gw", "spec.listeners", "Listener name must be unique within the Gateway"),
                Problem("Gateway", "gw", "spec.listeners[1]", "duplicate entry with key (name='http')"),
            ],
        ),
        # Map keys are not escaped: annotation keys hold '.' and '/'.
        (
            with_(GATEWAY, ("spec", "infrastructure"), "annotations", {"bad key!": "x"}),
            [
                Problem(
                    "Gateway",
                    "gw",
                    "spec.infrastructure.annotations",
                    "Annotation keys must be in the form of an optional DNS subdomain prefix "
                    "followed by a required name segment of up to 63 characters.",
                )
            ],
        ),
        (
            with_(POOL, ("spec",), "targetPorts", [{"number": 8000}, {"number": 8000}]),
            [Problem("InferencePool", "pool", "spec.targetPorts", "port number must be unique")],
        ),
        (
            with_(POOL, ("spec",), "endpointPickerRef", {"name": "epp"}),
            [
                Problem(
                    "InferencePool",
                    "pool",
                    "spec.endpointPickerRef",
                    "port is required when kind is 'Service' or unspecified (defaults to 'Service')",
                )
            ],
        ),
        (
            with_(POLICY, ("spec", "default", "scopes", 0), "selector", {"gke.io/rack": "r1"}),
            [
                Problem(
                    "GCPBackendPolicy",
                    "p",
                    "spec.default.scopes[0].selector",
                    "The selector key can only be one of gke.io/zone, gke.io/region or gke.io/cluster-name.",
                )
            ],
        ),
        (
            with_(POLICY, ("spec", "default"), "maxRatePerEndpoint", 5),
            [
                Problem(
                    "GCPBackendPolicy",
                    "p",
                    "spec.default",
                    "maxRatePerEndpoint cannot be specified for both default and scopes fields",
                )
            ],
        ),
    ],
)
def test_rule_violations(obj: dict, expected: list[Problem]) -> None:
    assert validate_resource(obj) == expected


def test_rule_on_missing_field_is_an_error_like_the_api_server() -> None:
    # tls.mode defaults to Terminate; with neither certificateRefs nor options the rule
    # reads a missing key, which cel-go (and so the API server) reports as an error.
    obj = with_(
        GATEWAY, ("spec",), "listeners", [{"name": "https", "port": 443, "protocol": "HTTPS", "tls": {}}]
    )
    problems = validate_resource(obj)
    assert [p.path for p in problems] == ["spec.listeners[0].tls"]
    assert problems[0].message.startswith("rule did not evaluate to true (")
    # Named by the rule's message, as the server does (gateway-api's tests/cel expect it).
    assert problems[0].message.endswith("certificateRefs or options must be specified when mode is Terminate")


def test_cel_skipped_when_schema_fails() -> None:
    # Like the API server: with a structural error the CEL pass does not run.
    obj = with_(POOL, ("spec",), "targetPorts", [{"number": 8000}, {"number": 8000, "bogus": 1}])
    assert validate_resource(obj) == [
        Problem("InferencePool", "pool", "spec.targetPorts[1].bogus", "unknown field")
    ]


def test_memoised_results_are_stable() -> None:
    bad = with_(POOL, ("spec",), "targetPorts", [{"number": 1}, {"number": 1}])
    first = validate_resource(bad)
    assert validate_resource(bad) == first
    assert validate_resource(POOL) == []


def test_unevaluated_rules_are_listed_not_faked() -> None:
    listed = [(u.api_version, u.kind, u.path, u.rule) for u in unevaluated_rules()]
    assert listed == [
        ("cloud.google.com/v1", "ComputeClass", "spec.autopilot.enabled", "self == oldSelf"),
        ("cloud.google.com/v1", "ComputeClass", "spec.autopilot", "self == oldSelf"),
        ("cloud.google.com/v1", "ComputeClass", "spec", "!has(oldSelf.autopilot) || has(self.autopilot)"),
        ("gateway.networking.k8s.io/v1", "GatewayClass", "spec.controllerName", "self == oldSelf"),
        ("ray.io/v1", "RayService", "spec.managedBy", "self == oldSelf"),
        (
            "ray.io/v1",
            "RayService",
            "spec.rayClusterConfig.gcsFaultToleranceOptions.backend",
            "self == oldSelf",
        ),
        ("ray.io/v1", "RayService", "spec.rayClusterConfig.managedBy", "self == oldSelf"),
    ]
    assert {u.reason for u in unevaluated_rules()} == {
        "transition rule (uses oldSelf): the API server checks it only on update"
    }
    assert [u.kind for u in unevaluated_rules("ray.io/v1", "RayService")] == ["RayService"] * 3


def test_escape_property() -> None:
    assert escape_property("namespace") == "__namespace__"
    assert escape_property("foo.bar-baz/q") == "foo__dot__bar__dash__baz__slash__q"
    assert escape_property("a__b") == "a__underscores__b"
    assert escape_property("plain") == "plain"


# cel-go's verdicts (the API server's), on a value typed like a schema'd object: True,
# False or "error", among them the cases where cel-python, which this checker used before, differed.
SELF = {
    "n": 90,
    "big": 2**63 - 1,
    "d": 3.5,
    "s": "n2d-standard-8",
    "t": "10s",
    "l": [{"y": 1}, {"y": 2}],
    "holes": [{"y": 1}, {}],
    "m": {"k1": "ab", "k2": "x"},
    "namespace": "a",
    "o": {"x": None},
    "empty": [],
}
SCHEMA = {"type": "object", "properties": {"d": {"type": "number"}}, "additionalProperties": True}
CEL_GO = [
    ("self.missing == 1 || true", True),
    ("self.missing == 1", "error"),
    ("true ? self.missing : true", "error"),
    ("!has(self.missing) && has(self.o.x)", True),
    ("has(self.__namespace__)", True),
    ("self.holes.exists(x, x.y == 1)", True),
    ("self.holes.all(x, x.y == 1)", "error"),
    ("self.holes.exists_one(x, x.y == 1)", "error"),
    ("self.l.exists_one(x, x.y == 2) && self.l.filter(x, x.y > 1).size() == 1", True),
    ("self.l.map(x, x.y) == [1, 2] && self.l == self.l", True),
    ("self.l[-1].y == 2", "error"),
    ("self.l[5].y == 1", "error"),
    ("self.big + 1 > 0", "error"),
    ("self.d == 3", False),
    ("self.d > 3 && self.n == 90.0", True),
    ("duration(self.t) > duration('1s') && duration('1h') == duration('60m')", True),
    ("duration('1d') > duration('1h')", "error"),
    ("duration('1x') > duration('1h')", "error"),
    ("self.s.split('-')[0] in ['n2d', 'c2d'] && self.s.split('-', 2).size() == 2", True),
    ("self.s.split('-', 0).size() == 0", True),
    ("'AbÇ'.lowerAscii() == 'abÇ' && ' a '.trim() == 'a' && 'ab'.upperAscii() == 'AB'", True),
    ("self.s.matches('^n2d-') && !self.s.contains('//') && self.s.endsWith('-8')", True),
    ("'['.matches('[')", "error"),
    ("self.s.all(c, true)", "error"),
    ("self.n.size() == 1", "error"),
    ("self.s > 1", "error"),
    ("'k1' in self.m && !('zz' in self.m) && self.m.all(k, k.startsWith('k'))", True),
    ("self.o.x == null && size(dyn(self)) == 11", True),
    ("self.n", "error"),
]


@pytest.mark.parametrize("text,expected", CEL_GO)
def test_verdicts_are_cel_gos(text: str, expected: object) -> None:
    rules = RuleSet("x/v1", "X", {"schema": SCHEMA, "rules": [{"rule": text, "path": [], "message": "no"}]})
    assert rules.unevaluated() == []
    problems = [message for _, message in rules.check_cel(SELF)]
    if expected is True:
        assert problems == []
    elif expected is False:
        assert problems == ["no"]
    else:
        assert len(problems) == 1 and problems[0].startswith("rule did not evaluate to true ("), problems


def test_message_expression_and_field_path() -> None:
    spec = {"rule": "self.n < 10", "path": [], "messageExpression": "'n is ' + string(self.n)"}
    rules = RuleSet("x/v1", "X", {"schema": SCHEMA, "rules": [{**spec, "fieldPath": ".l[0]"}]})
    assert list(rules.check_cel(SELF)) == [(["l", "0"], "n is 90")]


@pytest.mark.parametrize(
    "rule,reason",
    [
        ("isIP(self.s)", "uses isIP(), a Kubernetes CEL library function this checker does not implement"),
        (
            "self.l.isSorted()",
            "uses isSorted(), a Kubernetes CEL library function this checker does not implement",
        ),
        ("self.s ==", "does not compile in Kubernetes' CEL environment: 1:10: Syntax error: "),
        ("self == oldSelf", "transition rule (uses oldSelf): the API server checks it only on update"),
    ],
)
def test_rules_this_checker_cannot_run_are_listed_with_the_reason(rule: str, reason: str) -> None:
    rules = RuleSet("x/v1", "X", {"schema": SCHEMA, "rules": [{"rule": rule, "path": ["spec"]}]})
    [unevaluated] = rules.unevaluated()
    assert (unevaluated.path, unevaluated.rule) == ("spec", rule)
    assert unevaluated.reason.startswith(reason), unevaluated.reason
    assert list(rules.check_cel({"spec": SELF})) == []


def test_split_inside_a_real_rule() -> None:
    # ComputeClass: "ConfidentialNodeType SEV_SNP only supports N2D" uses machineType.split('-')[0].
    cc = {
        "apiVersion": "cloud.google.com/v1",
        "kind": "ComputeClass",
        "metadata": {"name": "cc"},
        "spec": {
            "nodePoolConfig": {"confidentialNodeType": "SEV_SNP"},
            "priorities": [{"machineType": "n2d-standard-8"}],
        },
    }
    assert validate_resource(cc) == []
    cc["spec"]["priorities"] = [{"machineType": "c3-standard-8"}]
    assert [p.message for p in validate_resource(cc)] == ["ConfidentialNodeType SEV_SNP only supports N2D"]
