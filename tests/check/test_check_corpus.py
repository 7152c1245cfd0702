"""`gen check` on whole outputs: every rendered example and the hand-written positive
fixtures pass; every case of the negative corpus yields exactly its expected lines.

tests/check/negative/<case>/patch.diff breaks a shared base in one place (a copy of a
rendered example's output under negative/base/, or a positive fixture; tests/check/
corpus_patch.py); expected.txt holds the exact stderr lines of `gen check .` run inside the
patched tree, notes excluded (they depend on what is installed). Regenerate after an
intended change with `make golden` (pytest --snapshot-update), then review the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.check.ray_serve import ray_available
from generator.pipeline import render_to_dir

from ..conftest import ROOT
from ..renderutil import RENDERED
from .corpus_patch import PATCH, PatchError, apply_patch, case_base, make_patch, materialize

HERE = Path(__file__).parent
NEGATIVE = HERE / "negative"
CASES = sorted(p.name for p in NEGATIVE.iterdir() if (p / PATCH).is_file())
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


def test_every_case_is_a_base_and_a_patch():
    assert {p.name for p in NEGATIVE.iterdir() if p.is_dir()} == {*CASES, "base"}
    for case in CASES:
        assert sorted(p.name for p in (NEGATIVE / case).iterdir()) == ["expected.txt", PATCH], case
        assert (NEGATIVE / case / PATCH).read_text().count("\n") <= 60, f"{case}: break the base in one place"


@pytest.mark.parametrize("base", sorted({case_base(case) for case in CASES}))
def test_every_base_passes(base, cli, monkeypatch):
    """So each case reports its own break and nothing of its base."""
    monkeypatch.chdir(HERE)
    result = cli("check", base)
    assert problem_lines(result.stderr) == []
    assert result.exit_code == 0


@pytest.mark.parametrize("case", CASES)
def test_negative_case(case, cli, monkeypatch, file_snapshot, tmp_path):
    if case in NEEDS_RAY and not ray_available():
        pytest.skip("needs the ray extra")
    monkeypatch.chdir(materialize(case, tmp_path / case))
    result = cli("check", ".")
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = problem_lines(result.stderr)
    assert "\n".join(lines) + "\n" == file_snapshot(name=f"tests/check/negative/{case}/expected.txt")
    assert lines[-1].startswith("Summary: ")


# ---------------------------------------------------------------- the patch helper
BASE = {"a.yaml": "one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\n", "gone.yaml": "x: 1\ny: 2\n"}
BROKEN = {"a.yaml": "one\n2\nthree\nfour\nfive\nsix\nseven\neight\nnine\n", "new.yaml": "kind: Service\n"}


def test_a_patch_applies_edits_additions_and_deletions():
    diff = make_patch(BASE, BROKEN)
    assert "--- /dev/null\n+++ b/new.yaml\n" in diff and "--- a/gone.yaml\n+++ /dev/null\n" in diff
    assert apply_patch(BASE, diff) == BROKEN
    assert apply_patch(BROKEN, make_patch(BROKEN, BASE)) == BASE
    assert apply_patch(BASE, "") == BASE


def test_a_line_break_is_only_a_newline():
    base = {"a.yaml": "name: a\u2028b\nport: 1\x0c\n"}
    broken = {"a.yaml": "name: a\u2028b\nport: 2\x0c\n"}
    assert apply_patch(base, make_patch(base, broken)) == broken


@pytest.mark.parametrize(
    "base, message",
    [
        ({**BASE, "a.yaml": BASE["a.yaml"].replace("two", "TWO")}, "a.yaml:2: the base does not match"),
        ({"a.yaml": BASE["a.yaml"]}, "gone.yaml: not in the base"),
    ],
)
def test_a_patch_refuses_a_base_it_does_not_match(base, message):
    with pytest.raises(PatchError, match=message):
        apply_patch(base, make_patch(BASE, BROKEN))


@pytest.mark.parametrize(
    "diff, message",
    [
        ("a.yaml\n", "expected '--- a/PATH' then"),
        ("--- a.yaml\n+++ b/a.yaml\n", "expected a/PATH"),
        ("--- a/a.yaml\n+++ b/a.yaml\n@@ -2,1 +2,1 @@\n-two\n", "ends early"),
        ("--- a/a.yaml\n+++ b/a.yaml\n@@ -2 +2 @@\n-two\n+2\n-three\n", "expected '--- a/PATH'"),
        ("--- a/a.yaml\n+++ b/a.yaml\n@@ two @@\n", "bad hunk header"),
    ],
)
def test_a_malformed_patch_is_refused(diff, message):
    with pytest.raises(PatchError, match=message):
        apply_patch(BASE, diff)
