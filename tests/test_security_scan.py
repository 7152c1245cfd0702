"""Security scan of the example output (issue 9): checkov's Kubernetes checks on every
golden/<example>/manifests/<cluster>/, against security/checkov-baseline.yaml.

checkov lives in its own venv (.venv-scan, from security/requirements.txt: its pins conflict
with gen's); GEN_SCAN_PYTHON may point at that venv's python (or its checkov). A missing
scanner is a failure, not a skip: `make test` creates the venv. Offline: the scan refuses and
reports any network access (security/checkov_driver.py). See security/README.md.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import yaml

from . import locks
from .conftest import ROOT

pytestmark = pytest.mark.slow  # `make test-fast` leaves these to `make test`

_spec = importlib.util.spec_from_file_location("gen_security_scan", ROOT / "security" / "scan.py")
scan = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = scan  # dataclasses resolve annotations through sys.modules
_spec.loader.exec_module(scan)

GOLDEN = ROOT / "golden"
BASELINE = ROOT / "security" / "checkov-baseline.yaml"
REQUIREMENTS = ROOT / "security" / "requirements.txt"


def _scanner_or_fail() -> tuple[Path, Path]:
    python, checkov = scan.scanner()
    if not python.is_file() or not checkov.is_file():
        pytest.fail(
            f"checkov is not installed at {checkov.parent}: run `make test`, or "
            "`python3 -m venv .venv-scan && .venv-scan/bin/pip install --require-hashes "
            "-r security/requirements.txt`, "
            "or set GEN_SCAN_PYTHON to the scan venv's python"
        )
    return python, checkov


@pytest.fixture(scope="module")
def findings() -> list:
    _scanner_or_fail()
    return scan.scan(GOLDEN)


@pytest.fixture(scope="module")
def baseline() -> list:
    return scan.load_baseline(BASELINE)


def test_scanner_is_the_pinned_checkov():
    python, _ = _scanner_or_fail()
    pins = locks.pins(REQUIREMENTS)
    import subprocess

    out = subprocess.run(
        [str(python), "-c", "from checkov.version import version; print(version)"],
        capture_output=True,
        text=True,
        timeout=60,
        env=scan.checkov_env(),
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == pins["checkov"]
    declared = yaml.safe_load(BASELINE.read_text())["scanner"]
    assert declared == f"checkov=={pins['checkov']}", "the baseline names the checkov it was made with"


def test_every_finding_is_explained_by_the_baseline(findings, baseline):
    unexplained, _ = scan.compare(findings, baseline)
    assert not unexplained, (
        "checkov findings not in security/checkov-baseline.yaml (fix the chart, or accept with a "
        "reason):\n" + "\n".join(f"  {f.key()}: {f.check_name}" for f in unexplained)
    )


def test_no_stale_baseline_entries(findings, baseline):
    _, stale = scan.compare(findings, baseline)
    assert not stale, "baseline entries that explain no finding any more (remove them):\n" + "\n".join(
        f"  {a.label()}: nothing matches {', '.join(parts)}" for a, parts in stale
    )


def test_scan_covers_every_cluster_and_the_ray_pods(findings):
    """checkov itself never looks inside a RayService: the scan must lift the Ray pod templates
    out, or the fleet's main workloads would pass unchecked."""
    clusters = {(e, c) for e, c, _ in scan.clusters(GOLDEN)}
    assert len(clusters) >= 6
    # CKV_K8S_21 (namespace) fails on every object of every example: a finding per cluster
    # shows every cluster was scanned.
    assert {(f.example, f.cluster) for f in findings} == clusters
    ray = {(f.example, f.cluster, f.kind) for f in findings if f.kind.startswith("RayService/")}
    for example, cluster in clusters:
        assert (example, cluster, "RayService/head") in ray, (example, cluster)
        assert (example, cluster, "RayService/worker") in ray, (example, cluster)


def test_driver_and_checkov_command_agree():
    """The one-process driver reports exactly what `checkov -d DIR --framework kubernetes`
    reports (on the example with the most kinds: Deployment, Job, RayService, NetworkPolicy)."""
    _scanner_or_fail()
    only = ["tpu-autopilot"]
    assert scan.scan(GOLDEN, only=only) == scan.scan(GOLDEN, cli=True, only=only)


def test_ray_pods_are_lifted_out_of_rayservices():
    rs = {
        "apiVersion": "ray.io/v1",
        "kind": "RayService",
        "metadata": {"name": "m", "namespace": "ns"},
        "spec": {
            "rayClusterConfig": {
                "headGroupSpec": {
                    "template": {
                        "metadata": {"labels": {"a": "b"}},
                        "spec": {"containers": [{"name": "ray-head", "image": "i:1"}]},
                    }
                },
                "workerGroupSpecs": [
                    {
                        "groupName": "g",
                        "template": {
                            "spec": {
                                "automountServiceAccountToken": False,
                                "containers": [{"name": "llm", "image": "i:1"}],
                            }
                        },
                    }
                ],
            }
        },
    }
    pods = scan.derived_pods(rs)
    assert [(role, p["metadata"]["name"]) for role, p in pods] == [("head", "m-head"), ("worker", "m-g")]
    head, worker = (p for _, p in pods)
    assert head["kind"] == "Pod" and head["metadata"]["namespace"] == "ns"
    assert head["metadata"]["labels"] == {"a": "b"}
    assert worker["spec"] == rs["spec"]["rayClusterConfig"]["workerGroupSpecs"][0]["template"]["spec"]
    assert scan.derived_pods({"kind": "Deployment", "metadata": {"name": "d"}, "spec": {}}) == []


def test_baseline_entries_are_well_formed(baseline):
    assert baseline, "security/checkov-baseline.yaml has no entries"
    seen = set()
    for a in baseline:
        key = (a.check_id, a.kinds, a.names, a.examples)
        assert key not in seen, f"duplicate baseline entry {a.label()}"
        seen.add(key)


def test_baseline_loader_rejects_entries_without_reason(tmp_path):
    bad = tmp_path / "b.yaml"
    bad.write_text("accepted:\n- {check: CKV_K8S_43, kind: Deployment, name: x, reason: ok}\n")
    with pytest.raises(ValueError, match="reason"):
        scan.load_baseline(bad)
    bad.write_text("accepted:\n- {check: CKV_K8S_43, kind: Deployment, name: x}\n")
    with pytest.raises(ValueError, match="keys"):
        scan.load_baseline(bad)


def test_compare_reports_unexplained_and_stale_patterns():
    f = scan.Finding("CKV_K8S_43", "Job", "default", "x-download", "tpu-autopilot", "c", "f", "n")
    a = scan.Accepted("CKV_K8S_43", ("Job", "Deployment"), ("*",), ("*",), "r" * 40)
    b = scan.Accepted("CKV_K8S_11", ("Job",), ("*",), ("*",), "r" * 40)
    unexplained, stale = scan.compare([f], [a, b])
    assert unexplained == []
    assert stale == [(a, ["kind 'Deployment'"]), (b, ["kind 'Job'", "name '*'", "example '*'"])]
    unexplained, _ = scan.compare([f], [b])
    assert unexplained == [f]
