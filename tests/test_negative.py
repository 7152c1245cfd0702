"""The negative corpus: one broken spec per rule, each with its exact error lines.

tests/negative/<case>/models.yaml is validated from inside its folder and must exit 1
with exactly the lines of expected.txt on stderr (a file snapshot, tests/snapshots.py;
regenerate: make golden, then review).
"""

from __future__ import annotations

import pytest

from .conftest import ROOT

NEGATIVE = ROOT / "tests" / "negative"
CASES = sorted(p.name for p in NEGATIVE.iterdir() if (p / "models.yaml").exists())


def test_corpus_is_large_enough():
    assert len(CASES) >= 25


@pytest.mark.parametrize("case", CASES)
def test_negative_case(case, cli, monkeypatch, file_snapshot):
    monkeypatch.chdir(NEGATIVE / case)
    result = cli("validate", "models.yaml")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert result.stderr == file_snapshot(name=f"tests/negative/{case}/expected.txt")
    lines = result.stderr.splitlines()
    assert lines[-1].startswith("Summary: ")
    assert all(line.startswith("models.yaml:") for line in lines[:-1])


def test_secret_value_is_never_echoed(cli, monkeypatch):
    monkeypatch.chdir(NEGATIVE / "hf-token-pasted")
    result = cli("validate", "models.yaml")
    assert "hf_AbCdEf" not in result.output
    assert "looks like a Hugging Face token" in result.stderr


def test_json_format(cli, monkeypatch):
    import json

    monkeypatch.chdir(NEGATIVE / "min-greater-than-max")
    result = cli("validate", "--format", "json", "models.yaml")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["errors"] == 1
    error = report["files"][0]["errors"][0]
    assert error == {
        "file": "models.yaml",
        "line": 9,
        "column": 21,
        "path": "models[0].replicas.min",
        "message": "min (3) is greater than max (2)",
        # the same shape as a gen check problem: no resource, found by the spec rules
        "kind": None,
        "name": None,
        "check": "spec",
        "document": "",
    }


def test_missing_file_is_a_usage_error(cli, tmp_path):
    result = cli("validate", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 1
    assert "cannot read file" in result.stderr


def test_no_arguments_is_a_usage_error(cli):
    result = cli("validate")
    assert result.exit_code == 2
    assert "Missing argument" in result.stderr
