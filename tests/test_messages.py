"""Validation messages say in words what is expected, with an example; never a raw regex,
a description cut mid-word, a whole 8 KB value, or the same problem twice."""

from __future__ import annotations

import json
import re
import textwrap

import pytest

from generator.diagnostics import MAX_MESSAGE, Issue, clip
from generator.spec.schema import PATTERN_WORDS, _expected, _first_sentence

from .conftest import ROOT

SCHEMA = json.loads((ROOT / "schemas" / "models.schema.json").read_text())


def patterns(node, path=()):
    if isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            yield path, node
        for key, value in node.items():
            yield from patterns(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from patterns(value, (*path, i))


PATTERNS = list(patterns(SCHEMA))


def test_the_schema_has_patterns():
    assert len(PATTERNS) >= 20


@pytest.mark.parametrize("path,sub", PATTERNS, ids=["/".join(map(str, p)) for p, _ in PATTERNS])
def test_every_pattern_of_the_schema_is_explained_in_words_with_an_example(path, sub):
    assert sub["pattern"] in PATTERN_WORDS, (
        f"{'/'.join(map(str, path))}: add the pattern to generator.spec.schema.PATTERN_WORDS "
        "(what a valid value looks like, in words, and an example)"
    )
    words, example = PATTERN_WORDS[sub["pattern"]]
    assert re.search(sub["pattern"], example.strip('"')), (words, example)  # the example is valid
    message = _expected(list(path), sub, sub["pattern"])
    example = (sub.get("examples") or [example])[0]  # the field's own example wins
    assert message == f"expected {words}, e.g. {example}"
    assert not any(c in words for c in "^$[]{}\\"), words  # no regex syntax


def test_a_pattern_without_words_falls_back_to_the_whole_first_sentence_and_an_example():
    sub = {"pattern": "^x$", "description": 'A Ray version such as "2.60.0" (quote it). More.'}
    assert _expected([], sub, "^x$") == 'expected a Ray version such as "2.60.0" (quote it) (docs/spec.md)'
    sub = {"pattern": "^x$", "description": "Google Cloud project ID. Only used...", "examples": ["p-1"]}
    assert _expected([], sub, "^x$") == "expected Google Cloud project ID, e.g. p-1 (docs/spec.md)"


@pytest.mark.parametrize(
    "text,first",
    [
        ("Ray Serve's health endpoint.", "Ray Serve's health endpoint"),  # not "ray Serve's"
        ("Google Cloud project ID. Only used to fill in", "Google Cloud project ID"),
        ('A Ray version such as "2.60.0" (quote it).', 'a Ray version such as "2.60.0" (quote it)'),
        ("An image, e.g. a.b/c. Then more.", "an image, e.g. a.b/c"),
    ],
)
def test_first_sentence(text, first):
    assert _first_sentence(text) == first


def test_no_message_is_longer_than_the_safety_net():
    d = Issue("f", 1, 1, "p", "x" * 400 + "y" * 8000 + "z" * 400)
    assert len(d.message) == MAX_MESSAGE + 1
    assert d.message.startswith("x" * 400) and d.message.endswith("z" * 400) and "…" in d.message


def test_clip():
    assert clip("abc") == "'abc'"
    long = clip("x" * 8000)
    assert len(long) < 90 and long.endswith("(8,000 characters)")


HEAD = """\
apiVersion: gen.llm-fleet.dev/v1alpha1
kind: ModelFleet
metadata: {name: f, namespace: default, project: My_Project}
"""


def run(cli, tmp_path, body: str) -> list[str]:
    spec = tmp_path / "models.yaml"
    spec.write_text(HEAD + textwrap.dedent(body))
    result = cli("validate", str(spec))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    return result.stderr.splitlines()[:-1]


def test_bad_spec_messages(cli, tmp_path):
    lines = run(
        cli,
        tmp_path,
        """\
        gateway:
          class: gke-l7-rilb
          routing: header
          modelHeader: "x model"
          healthCheck: {path: "health"}
        models:
          - name: m
            source: hf://o/m
            accelerator: {type: nvidia-l4}
            env: {"1X": a}
          - name: %s
            source: hf://o/m
            accelerator: {type: nvidia-l4}
        """
        % ("x" * 8000),
    )
    text = "\n".join(lines)
    for bad in ("expected google", "expected ray", "expected header carrying", "^", "$", "[0-9]"):
        assert bad not in text, bad
    by_path = {line.split(": ")[1]: line.split(": ", 2)[2] for line in lines}
    assert max(map(len, by_path.values())) < 250, "a long value is clipped"
    assert by_path["metadata.project"] == (
        "'My_Project' is not valid: expected a Google Cloud project ID: 6 to 30 lowercase "
        "letters, digits and '-', starting with a letter and not ending with '-', e.g. my-project"
    )
    assert by_path["gateway.healthCheck.path"] == (
        "'health' is not valid: expected an absolute URL path of ASCII letters, digits and URL "
        "punctuation, no spaces (GKE HealthCheckPolicy requestPath, at most 2,048 characters), "
        "e.g. /-/healthz"
    )
    assert by_path["gateway.modelHeader"].endswith("e.g. X-Gateway-Model-Name")
    assert by_path['models[0].env["1X"]'].startswith(
        "'1X' is not a valid name: expected an environment variable"
    )
    assert by_path["models[1].name"] == (
        "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…xxxxxxxxxxxxxxxxxx' (8,000 characters) "
        "is too long: at most 63 characters"
    )


def test_an_empty_value_is_one_error_that_says_what_is_expected(cli, tmp_path):
    lines = run(
        cli,
        tmp_path,
        """\
        gateway: {class: gke-l7-rilb, routing: header}
        security:
          networkPolicy: {operatorNamespace: ray-system, loadBalancerCIDRs: ["10.0.0/8"]}
        models:
          - name: m
            source: hf://o/m
            accelerator: {type: nvidia-l4}
            multiplexing:
              models:
                - {id: "", source: hf://o/a}
        """,
    )
    ids = [line for line in lines if ".id: " in line]
    assert len(ids) == 1, lines
    assert ids[0].endswith(
        "models[0].multiplexing.models[0].id: must not be empty: expected a model id: letters, "
        "digits and . _ : / @ + -, not starting with a symbol other than '/', e.g. google/gemma-2b-it"
    )
    cidr = next(line for line in lines if "loadBalancerCIDRs[0]" in line)
    assert cidr.endswith(
        "'10.0.0/8' is not an IPv4 CIDR (Expected 4 octets in '10.0.0'); write it like 10.129.0.0/23"
    )
