"""`gen check` on other projects' own examples and fixtures (tests/check/upstream/):
every file alone gets the verdict tests/check/upstream/expected.yaml gives it, and no
input makes gen crash. Also kubeconform's acceptance tests (acceptance.bats) that apply
to gen's interface: summary line, --skip, --reject, stdin, TAP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from generator.cli import main

UPSTREAM = Path(__file__).parent / "upstream"
EXPECTED: dict[str, Any] = yaml.safe_load((UPSTREAM / "expected.yaml").read_text(encoding="utf-8"))


def corpus_files(project: str) -> list[str]:
    root = UPSTREAM / project
    return sorted(
        p.relative_to(root).as_posix() for p in root.rglob("*") if p.suffix in (".yaml", ".yml", ".json")
    )


def run(*args: str, cwd: Path, stdin: str | None = None):
    import os

    old = Path.cwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(main, ["check", *args], input=stdin, catch_exceptions=False)
    finally:
        os.chdir(old)


def rule_for(project: str, rel: str) -> dict[str, Any]:
    for rule in EXPECTED[project]["rules"]:
        if rel.startswith(rule["prefix"]):
            return dict(rule)
    raise AssertionError(f"{project}/{rel}: no rule in expected.yaml")


def assert_verdict(result, want: int, label: str) -> None:
    assert result.exit_code != 2, f"{label}: usage or internal error:\n{result.output}"
    assert "Traceback" not in result.output
    assert result.exit_code == want, f"{label}: want exit {want}, got {result.exit_code}:\n{result.output}"


def test_every_file_has_a_verdict():
    assert sorted(EXPECTED["kubeconform"]) == corpus_files("kubeconform")
    for project in ("gateway-api", "kuberay"):
        for rel in corpus_files(project):
            rule_for(project, rel)
    assert len(corpus_files("gateway-api")) >= 100
    assert len(corpus_files("kuberay")) >= 15


@pytest.mark.parametrize("rel", sorted(EXPECTED["kubeconform"]))
def test_kubeconform_fixture(rel: str) -> None:
    entry = EXPECTED["kubeconform"][rel]
    strict, ignoring = entry.get("gen", entry["kubeconform"])
    root = UPSTREAM / "kubeconform"
    assert_verdict(run(rel, cwd=root), strict, rel)
    assert_verdict(
        run("--ignore-missing-schemas", rel, cwd=root), ignoring, f"{rel} --ignore-missing-schemas"
    )


@pytest.mark.parametrize("rel", sorted(EXPECTED["kubeconform"]))
def test_kubeconform_strict_verdict_per_resource(rel: str) -> None:
    """kubeconform judges every resource on its own; so does gen with --skip-references
    (no duplicate or cross-reference checks). Then gen's verdict is kubeconform's strict
    one on every fixture."""
    root = UPSTREAM / "kubeconform"
    strict = EXPECTED["kubeconform"][rel]["kubeconform"][0]
    assert_verdict(run("--skip-references", rel, cwd=root), strict, f"{rel} --skip-references")


@pytest.mark.parametrize("rel", corpus_files("gateway-api"))
def test_gateway_api_file(rel: str) -> None:
    rule = rule_for("gateway-api", rel)
    result = run(*EXPECTED["gateway-api"]["flags"], rel, cwd=UPSTREAM / "gateway-api")
    assert_verdict(result, rule["exit"], rel)


def test_gateway_api_examples_are_mostly_checked_not_skipped() -> None:
    """GRPCRoute, TCPRoute, UDPRoute, TLSRoute, BackendTLSPolicy and ListenerSet have no
    pinned schema and are skipped; everything else is validated."""
    root = UPSTREAM / "gateway-api"
    files = [f for f in corpus_files("gateway-api") if f.startswith("examples/standard/")]
    result = run(*EXPECTED["gateway-api"]["flags"], "examples/standard", cwd=root)
    assert result.exit_code == 0, result.output
    summary = result.output.splitlines()[-1]
    checked = int(summary.split()[1])
    assert checked >= len(files), summary


@pytest.mark.parametrize("rel", corpus_files("kuberay"))
def test_kuberay_sample(rel: str) -> None:
    rule = rule_for("kuberay", rel)
    if "xfail" in rule:
        pytest.xfail(rule["xfail"])
    result = run(*EXPECTED["kuberay"]["flags"], rel, cwd=UPSTREAM / "kuberay")
    assert_verdict(result, rule["exit"], rel)


def test_fixed_workers_are_headroom_for_serve_autoscaling():
    """kuberay's llm-serve sample: one fixed 4-GPU worker for 1..4 replicas of 1 GPU. The
    GPUs are idle only below Serve's maximum: headroom, not waste (no Ray autoscaler)."""
    result = run("ray-operator/config/samples/ray-service.llm-serve.yaml", cwd=UPSTREAM / "kuberay")
    assert result.exit_code == 0, result.output


# kubeconform's acceptance.bats, where gen's interface matches kubeconform's.
KC = UPSTREAM / "kubeconform"


@pytest.mark.parametrize(
    "args, summary",
    [
        (
            ["fixtures/valid.yaml"],
            "Summary: 1 resource found in 1 file - Valid: 1, Invalid: 0, Errors: 0, Skipped: 0",
        ),
        (
            ["fixtures/folder"],
            "Summary: 7 resources found in 2 files - Valid: 7, Invalid: 0, Errors: 0, Skipped: 0",
        ),
        (
            ["fixtures/multi_valid.yaml"],
            "Summary: 6 resources found in 1 file - Valid: 6, Invalid: 0, Errors: 0, Skipped: 0",
        ),
        (
            ["fixtures/list_valid.yaml"],
            "Summary: 6 resources found in 1 file - Valid: 6, Invalid: 0, Errors: 0, Skipped: 0",
        ),
        (
            ["fixtures/list_invalid.yaml"],
            "Summary: 2 resources found in 1 file - Valid: 1, Invalid: 1, Errors: 0, Skipped: 0",
        ),
        (
            ["fixtures/multi_with_list.yaml"],
            "Summary: 2 resources found in 1 file - Valid: 2, Invalid: 0, Errors: 0, Skipped: 0",
        ),
        (
            ["--skip", "ReplicationController", "fixtures/valid.yaml"],
            "Summary: 1 resource found in 1 file - Valid: 0, Invalid: 0, Errors: 0, Skipped: 1",
        ),
        (
            ["--skip", "v1/ReplicationController", "fixtures/valid.yaml"],
            "Summary: 1 resource found in 1 file - Valid: 0, Invalid: 0, Errors: 0, Skipped: 1",
        ),
        (
            ["--skip", "v2/ReplicationController", "fixtures/valid.yaml"],
            "Summary: 1 resource found in 1 file - Valid: 1, Invalid: 0, Errors: 0, Skipped: 0",
        ),
        (
            ["fixtures/missing_kind.yaml"],
            "Summary: 0 resource found in 1 file - Valid: 0, Invalid: 0, Errors: 1, Skipped: 0",
        ),
        (
            ["fixtures/blank.yaml"],
            "Summary: 0 resource found in 1 file - Valid: 0, Invalid: 0, Errors: 0, Skipped: 0",
        ),
        (
            ["fixtures/comment.yaml"],
            "Summary: 0 resource found in 1 file - Valid: 0, Invalid: 0, Errors: 0, Skipped: 0",
        ),
        (
            ["fixtures/list_empty_valid.yaml"],
            "Summary: 0 resource found in 1 file - Valid: 0, Invalid: 0, Errors: 0, Skipped: 0",
        ),
    ],
)
def test_kubeconform_summary_line(args: list[str], summary: str) -> None:
    result = run("--summary", *args, cwd=KC)
    assert summary in result.output.splitlines()


def test_reject_a_kind() -> None:
    result = run("--reject", "ReplicationController", "fixtures/valid.yaml", cwd=KC)
    assert result.exit_code == 1
    assert "prohibited resource kind ReplicationController" in result.output


def test_stdin() -> None:
    text = (KC / "fixtures" / "list_invalid.yaml").read_text()
    result = run("--summary", "-", cwd=KC, stdin=text)
    assert result.exit_code == 1
    assert result.output.splitlines()[0].startswith("<stdin>:26:5: ReplicationController/bob: spec.replicas:")
    valid = run("-", cwd=KC, stdin=(KC / "fixtures" / "valid.yaml").read_text())
    assert valid.exit_code == 0


def test_tap_output() -> None:
    result = run("--output", "tap", "fixtures/valid.yaml", cwd=KC)
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "TAP version 13",
        "ok 1 - fixtures/valid.yaml (v1/ReplicationController//bob)",
        "1..1",
    ]


def test_junit_output_is_xml_with_one_case_per_resource() -> None:
    import xml.etree.ElementTree as ET

    result = run("--output", "junit", "fixtures/multi_invalid.yaml", cwd=KC)
    assert result.exit_code == 1
    root = ET.fromstring(result.stdout)
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == 6
    assert [c.get("name") for c in cases if c.find("failure") is not None] == ["Service/redis-master"]


def test_unconventional_keys_do_not_crash() -> None:
    result = run("--output", "json", "fixtures/unconventional_keys.yaml", cwd=KC)
    assert result.exit_code == 0
    assert '"valid": true' in result.stdout
