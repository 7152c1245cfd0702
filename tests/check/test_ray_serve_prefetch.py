"""gen check validates a large output's serve configs in a second process while it does
the other checks (ray_prefetch.py, issue 19): the report is exactly the in-process one,
problems and their positions included, and a child that dies changes nothing."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from generator.check import loader, ray_prefetch, runner
from generator.check.ray_serve import ray_available

pytestmark = pytest.mark.skipif(not ray_available(), reason="needs the ray extra")

ROOT = Path(__file__).resolve().parents[2]
SOURCE = next((ROOT / "golden/single-cluster-gpu/manifests").glob("*/rayservice.yaml"))


def _fleet(tmp_path: Path, count: int) -> Path:
    """``count`` RayServices; every fifth with a serve-config problem Ray reports."""
    first = SOURCE.read_text(encoding="utf-8").split("\n---\n")[1]
    docs = []
    for i in range(count):
        doc = first.replace('"gemma-2b-it"', f'"gemma-{i}"')  # names, labels, model id
        if i % 5 == 0:
            doc = doc.replace(
                "log_engine_metrics: true", "log_engine_metrics: true\n          max_replcas: 2"
            )
        if i % 7 == 0:
            doc = doc.replace('accelerator_type: "L4"', 'accelerator_type: "L5"')
        docs.append(doc)
    path = tmp_path / "fleet.yaml"
    path.write_text("\n---\n".join(docs), encoding="utf-8")
    return path


def _report(path: Path) -> Any:
    report = runner.check_paths([str(path)])
    return (report.issues, report.notes, report.internal_errors, report.ray_version)


def _in_process(path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    with monkeypatch.context() as m:
        m.setattr(ray_prefetch, "MIN_RAYSERVICES", 10**9)
        return _report(path)


def _forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Forks despite Ray's models built by earlier tests of this process; counts the children."""
    monkeypatch.setattr(loader, "ray_models_built", lambda: False)
    children: list[int] = []
    real = ray_prefetch._Child.send

    def send(self: ray_prefetch._Child, texts: list[str]) -> None:
        children.append(len(texts))
        real(self, texts)

    monkeypatch.setattr(ray_prefetch._Child, "send", send)
    return children


def test_the_second_process_reports_exactly_what_in_process_validation_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _fleet(tmp_path, 30)
    children = _forks(monkeypatch)
    forked = _report(path)
    assert children == [30]
    expected = _in_process(path, monkeypatch)
    assert forked == expected
    serve = [i for i in forked[0] if i.check == "serve-config"]
    assert len(serve) >= 6 + 5  # every fifth: unknown field; every seventh: accelerator type
    assert all(i.line and i.line > 1 for i in serve)


def test_a_child_that_dies_leaves_the_report_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _fleet(tmp_path, 25)
    expected = _in_process(path, monkeypatch)
    children = _forks(monkeypatch)
    monkeypatch.setattr(ray_prefetch, "_serve", lambda conn: os._exit(3))
    assert _report(path) == expected
    assert children == [25]


def test_few_rayservices_are_validated_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    children = _forks(monkeypatch)
    _report(_fleet(tmp_path, ray_prefetch.MIN_RAYSERVICES - 1))
    assert children == []
