"""gen check splits a large directory's files with a forked child that parses and checks
part of them (loader._read_files, issue 19): the report must be exactly the one a single
process gives, problems, positions, errors, notes and their order included, and a child
that fails must change nothing."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from generator.check import forked, loader, operational, ray_prefetch, runner
from generator.check.ray_serve import ray_available

from .test_ray_serve_prefetch import _fleet

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "golden"

BROKEN = {
    "a-bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\nkey: [unclosed\n",
    "b-list.yaml": (
        "apiVersion: v1\nkind: List\nitems:\n"
        "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: one}\n  data: {a: 1}\n"
        "- kind: ConfigMap\n  metadata: {name: two}\n"
        "- apiVersion: v1\n  kind: Service\n  metadata: {name: svc}\n  spec:\n    ports:\n"
        "    - port: 80\n      targetPort: http\n    selector: {app: nobody}\n"
    ),
    "c-dup.yaml": (
        "---\n# comment only\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dup\n"
        "  name: dup2\ndata: &d {x: '1'}\nbinaryData: *d\n---\n- not a mapping\n"
        "---\napiVersion: v1\nKind: Secret\n"
    ),
    "d-latin1.yaml": None,  # written as bytes below
    "e-kustomize.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n",
    "f-unknown.yaml": "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 3}\n",
    "g-deploy.yaml": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector:\n"
        "    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n"
        "    spec:\n      containers:\n      - name: web\n        image: nginx\n        ports:\n"
        "        - containerPort: '80'\n        bogus: true\n"
    ),
    "h-route.yaml": (
        "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\nspec:\n"
        "  rules:\n  - backendRefs:\n    - name: web-svc\n      port: 80\n"
    ),
    # the largest file stays in this process: the child reads every other one
    "z-big.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n"
    + "".join(f"  k{i}: v{i}\n" for i in range(2000)),
}


def _broken_dir(tmp_path: Path, names: tuple[str, ...] = tuple(BROKEN)) -> Path:
    root = tmp_path / "-".join(names)[:40]
    root.mkdir()
    for name in names:
        text = BROKEN[name]
        if text is None:
            (root / name).write_bytes(b"apiVersion: v1\nkind: ConfigMap\ndata: {a: caf\xe9}\n")
        else:
            (root / name).write_text(text, encoding="utf-8")
    return root


def _report(paths: list[str], options: runner.Options | None = None) -> Any:
    report = runner.check_paths(paths, options)
    return (
        report.issues,
        report.notes,
        report.internal_errors,
        report.details,
        report.resources_seen,
        dict(report.kinds),
        dict(report.skipped),
        report.files,
        report.as_dict(),
    )


def _children(monkeypatch: pytest.MonkeyPatch, split: bool) -> list[bool]:
    """Split every directory (or none); whether each child's result came back."""
    monkeypatch.setattr(loader, "SPLIT_MIN_BYTES", 0 if split else 10**12)
    results: list[bool] = []
    real = forked.Child.result

    def result(self: forked.Child) -> bytes | None:
        data = real(self)
        results.append(data is not None)
        return data

    monkeypatch.setattr(forked.Child, "result", result)
    return results


def _same(paths: list[str], monkeypatch: pytest.MonkeyPatch, options: runner.Options | None = None) -> Any:
    with monkeypatch.context() as m:
        _children(m, split=False)
        single = _report(paths, options)
    results = _children(monkeypatch, split=True)
    split = _report(paths, options)
    assert results and all(results), "the directory was not split, or a child failed"
    assert split == single
    return split


@pytest.mark.skipif(not forked.available(), reason="fork")
@pytest.mark.parametrize("name", ["single-cluster-gpu", "multi-cluster", "path-routing"])
def test_a_split_gen_output_reports_what_one_process_does(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _same([str(GOLDEN / name)], monkeypatch)


@pytest.mark.skipif(not forked.available(), reason="fork")
def test_errors_lists_duplicates_and_positions_survive_the_split(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _broken_dir(tmp_path)
    found = _same([str(root)], monkeypatch)
    issues, notes = found[0], found[1]
    assert any("duplicate key" in i.message for i in issues)
    assert any(i.check == "yaml" for i in issues)
    assert any("kustomization" in n for n in notes)
    assert any(i.line and i.line > 1 for i in issues if i.file.endswith("g-deploy.yaml"))
    readable = _broken_dir(tmp_path, ("g-deploy.yaml", "h-route.yaml", "z-big.yaml"))  # references judged
    issues = _same([str(readable)], monkeypatch)[0]
    assert any(i.check == "reference" and i.line == 7 for i in issues if i.file.endswith("h-route.yaml"))
    options = runner.Options(
        skip=frozenset({"Service"}), reject=frozenset({"Secret"}), ignore_missing_schemas=True
    )
    _same([str(root), str(GOLDEN / "path-routing")], monkeypatch, options)


@pytest.mark.skipif(not forked.available(), reason="fork")
def test_a_resource_that_breaks_a_check_is_an_internal_error_either_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = operational.check_resource

    def breaks(obj: dict[str, Any]) -> Any:
        if obj.get("kind") == "Deployment":
            raise RuntimeError("boom")
        return real(obj)

    monkeypatch.setattr(operational, "check_resource", breaks)
    found = _same([str(_broken_dir(tmp_path))], monkeypatch)
    assert any("boom" in e for e in found[2])


@pytest.mark.skipif(not forked.available(), reason="fork")
def test_a_child_that_dies_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "out"
    shutil.copytree(GOLDEN / "multi-cluster", root)
    with monkeypatch.context() as m:
        _children(m, split=False)
        expected = _report([str(root)])
    results = _children(monkeypatch, split=True)
    monkeypatch.setattr(forked, "_run", lambda job, conn: os._exit(3))
    assert _report([str(root)]) == expected
    assert results and not any(results)


def test_small_directories_are_read_in_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[int] = []
    monkeypatch.setattr(forked.Child, "__init__", lambda self, job: started.append(1))
    runner.check_paths([str(GOLDEN / "single-cluster-gpu")])
    assert started == []


@pytest.mark.skipif(not (forked.available() and ray_available()), reason="fork and the ray extra")
def test_serve_configs_sent_early_to_rays_child_report_what_one_process_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "fleet"
    root.mkdir()
    _fleet(root, 30).rename(root / "b-rayservices.yaml")  # the largest: read here, sent early
    second = _fleet(tmp_path, 6).read_text(encoding="utf-8").replace("gemma-", "other-")
    (root / "a-rayservices.yaml").write_text(second, encoding="utf-8")  # the child's share
    with monkeypatch.context() as m:
        _children(m, split=False)
        m.setattr(ray_prefetch, "MIN_RAYSERVICES", 10**9)
        expected = _report([str(root)])
    monkeypatch.setattr(loader, "ray_models_built", lambda: False)
    batches: list[tuple[str, int]] = []
    real_early, real_send = ray_prefetch._Child.send_early, ray_prefetch._Child.send

    def early(self: ray_prefetch._Child, texts: list[str]) -> None:
        batches.append(("early", len(texts)))
        real_early(self, texts)

    def send(self: ray_prefetch._Child, texts: list[str]) -> None:
        batches.append(("last", len(texts)))
        real_send(self, texts)

    monkeypatch.setattr(ray_prefetch._Child, "send_early", early)
    monkeypatch.setattr(ray_prefetch._Child, "send", send)
    results = _children(monkeypatch, split=True)
    found = _report([str(root)])
    assert results == [True]
    assert batches == [("early", 30), ("last", 36)]
    assert found == expected
    assert sum(i.check == "serve-config" for i in found[0]) >= (6 + 5) + (2 + 1)
