"""`gen check` on whole outputs: every rendered example and the hand-written positive
fixtures pass; every case of the negative corpus yields exactly its expected lines.

tests/check/negative/<case>/ is a copy of a rendered example's manifests (or of a
positive fixture) with one thing broken; expected.txt holds the exact stderr lines
of `gen check .` run inside it, notes excluded (they depend on what is installed).
Regenerate after an intended change with
`pytest tests/check/test_check_corpus.py --snapshot-update`, then review the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.check.ray_serve import ray_available
from generator.render import render_to_dir

from ..conftest import ROOT
from ..renderutil import RENDERED

HERE = Path(__file__).parent
NEGATIVE = HERE / "negative"
CASES = sorted(p.name for p in NEGATIVE.iterdir() if p.is_dir())
NEEDS_RAY = {"bad-llmconfig"}


def problem_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if not line.startswith("note: ")]


@pytest.mark.parametrize("example", RENDERED)
def test_rendered_example_passes(example, cli, tmp_path, monkeypatch):
    render_to_dir(ROOT / "examples" / example / "models.yaml", tmp_path / "out")
    monkeypatch.chdir(tmp_path)
    result = cli("check", "out")
    assert problem_lines(result.stderr) == []
    assert result.exit_code == 0
    assert result.stdout.startswith("Summary: ") and result.stdout.endswith(", 0 problems\n")


def test_positive_fixtures_pass(cli, monkeypatch):
    monkeypatch.chdir(HERE / "positive")
    result = cli("check", "multi-cluster", "tpu-dranet")
    assert problem_lines(result.stderr) == []
    assert result.exit_code == 0
    assert result.stdout == (
        "Summary: 32 resources checked (3 RayService, 3 Role, 3 RoleBinding, 3 ServiceAccount, "
        "2 AutoscalingMetric, 2 Deployment, 2 GCPBackendPolicy, 2 Gateway, 2 HTTPRoute, "
        "2 HealthCheckPolicy, 2 InferenceObjective, 2 InferencePool, 2 Service, 1 ComputeClass, "
        "1 ResourceClaimTemplate), 0 problems\n"
    )


def test_corpus_is_large_enough():
    assert len(CASES) >= 20


@pytest.mark.parametrize("case", CASES)
def test_negative_case(case, cli, monkeypatch, file_snapshot):
    if case in NEEDS_RAY and not ray_available():
        pytest.skip("needs the ray extra")
    monkeypatch.chdir(NEGATIVE / case)
    result = cli("check", ".")
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = problem_lines(result.stderr)
    assert "\n".join(lines) + "\n" == file_snapshot(name=f"tests/check/negative/{case}/expected.txt")
    assert lines[-1].startswith("Summary: ")
