"""The one pipeline: gen render verifies its output with the same check API and the same
words as gen check on the written files, and every command reading an output directory
reports a broken one the same clean way."""

from __future__ import annotations

import copy

import pytest
import yaml

from generator.check import runner
from generator.check.runner import check_dirs
from generator.pipeline import EarlyChecks, RenderError, diff_output, render_to_dir, verify
from generator.render import render_spec
from generator.render.writer import MANIFEST, write_tree
from generator.spec import load_spec

from .conftest import ROOT

SPEC = ROOT / "examples" / "single-cluster-gpu" / "models.yaml"


def _dangling_route(resources):
    """A copy of the resources with the first HTTPRoute's first backend renamed."""
    broken = copy.deepcopy(resources)
    route = next(r for r in broken if r.kind == "HTTPRoute")
    route.obj["spec"]["rules"][0]["backendRefs"][0]["name"] = "nobody-serves-this"
    return broken, route


def test_render_and_check_word_a_problem_alike(tmp_path):
    _, files, resources = render_spec(load_spec(SPEC))
    broken, route = _dangling_route(resources)
    out = tmp_path / "out"
    in_memory = verify(broken, output=str(out))
    assert in_memory, "a dangling backendRef is found before writing"

    # the same break in the written files, found by gen check
    rel = f"manifests/{route.cluster}/httproute.yaml"
    docs = list(yaml.safe_load_all(files[rel]))
    target = next(d for d in docs if d and d["metadata"]["name"] == route.name)
    target["spec"]["rules"][0]["backendRefs"][0]["name"] = "nobody-serves-this"
    files[rel] = yaml.safe_dump_all(docs, sort_keys=False).encode()
    write_tree(out, files)
    on_disk = [i for i in check_dirs([str(out)]).sorted_issues() if i.check == "reference"]

    def words(issue):
        return (issue.file, issue.kind, issue.name, issue.path, issue.message, issue.check)

    assert [words(i) for i in in_memory] == [words(i) for i in on_disk]
    # gen check knows lines; the in-memory check names the file only
    assert all(i.line for i in on_disk) and not any(i.line for i in in_memory)


def test_render_refuses_inconsistent_output_and_writes_nothing(tmp_path, monkeypatch):
    from generator import pipeline

    staged = []

    def broken_render(spec, progress=None, worker=None, on_parsed=None, on_rendered=None, on_files=None):
        def stage(files):
            staged.extend(files)
            on_files(files)

        plan, files, resources = render_spec(spec, on_files=stage)
        return plan, files, _dangling_route(resources)[0]

    monkeypatch.setattr(pipeline, "render_spec", broken_render)
    with pytest.raises(
        RenderError, match=r"manifests/[^:]+/httproute.yaml: HTTPRoute/[^:]+: .*nobody-serves-this"
    ):
        render_to_dir(SPEC, tmp_path / "out")
    assert "chart/Chart.yaml" in staged, "files were written into the staging tree before the check"
    assert list(tmp_path.iterdir()) == [], "neither the output nor its staging tree is left"


def _oversized_pod(resources):
    """A copy of the resources where the first RayService's worker pods ask for more
    memory than their node has (a per-resource operational problem)."""
    broken = copy.deepcopy(resources)
    service = next(r for r in broken if r.kind == "RayService")
    group = service.obj["spec"]["rayClusterConfig"]["workerGroupSpecs"][0]
    for container in group["template"]["spec"]["containers"]:
        container["resources"]["requests"]["memory"] = container["resources"]["limits"]["memory"] = "100Ti"
    return broken, service


@pytest.mark.parametrize("strict", [False, True])
def test_early_checks_change_nothing_verify_reports(monkeypatch, strict):
    """Resources the per-resource checks passed while rendering are not checked again;
    one they found a problem in is, and is reported exactly as without them."""
    _, files, resources = render_spec(load_spec(SPEC))
    broken, service = _oversized_pod(resources)
    readme = files["README.md"].decode()
    expected = verify(broken, strict=strict, readme=readme)
    assert [i.name for i in expected if i.check == "operational"] == [service.name]

    early = EarlyChecks(strict)
    early(broken[: len(broken) // 2])
    early(broken[len(broken) // 2 :])
    assert not early.passed(service.obj, strict)
    assert all(early.passed(r.obj, strict) for r in broken if r is not service)
    assert not early.passed(broken[0].obj, not strict)  # checked for the other mode only

    calls = []
    real = runner.resource_result
    monkeypatch.setattr(runner, "resource_result", lambda doc, *a: calls.append(doc.obj) or real(doc, *a))
    assert verify(broken, strict=strict, readme=readme, early=early) == expected
    assert calls == [service.obj]
    calls.clear()
    assert verify(broken, strict=not strict, readme=readme, early=early) == verify(
        broken, strict=not strict, readme=readme
    )
    assert len(calls) == 2 * len(broken)


def test_render_runs_the_per_resource_checks_while_rendering(tmp_path, monkeypatch):
    from generator import pipeline

    told = []
    real = pipeline.EarlyChecks.__call__
    monkeypatch.setattr(
        pipeline.EarlyChecks, "__call__", lambda self, batch: told.extend(batch) or real(self, batch)
    )
    result = render_to_dir(SPEC, tmp_path / "out")
    assert len(told) == result.resources


@pytest.mark.parametrize("content", [b"{not json", b'{"files": 3}', b"[]", b"\xff\xfe"])
def test_a_corrupt_file_manifest_is_an_error_not_a_traceback(tmp_path, cli, content):
    out = tmp_path / "out"
    render_to_dir(SPEC, out)
    (out / MANIFEST).write_bytes(content)
    with pytest.raises(RenderError, match="corrupt; delete it"):
        diff_output(SPEC, out)
    for args in (("diff", str(SPEC), "-o", str(out)), ("render", str(SPEC), "-o", str(out), "--check")):
        result = cli(*args)
        assert result.exit_code == 1, args
        assert "corrupt; delete it" in result.stderr
        assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("source", "waits"),
    [
        ("gs://my-weights-bucket/google/gemma-4-31B-it-copy", False),  # beside the download
        ("gs://my-weights-bucket/google/gemma-4-31B-it", True),  # the downloaded weights
    ],
)
def test_models_sharing_a_bucket_with_a_download_render(tmp_path, source, waits):
    """A download Job writes one model's directory: a second model reading another
    directory of the same bucket does not race it, one reading that directory waits for
    the Job too, and gen renders both fleets (it refused them as inconsistent output)."""
    spec = yaml.safe_load((ROOT / "examples" / "tpu-multihost-dranet" / "models.yaml").read_text())
    first = spec["models"][0]
    second = {
        **{k: copy.deepcopy(v) for k, v in first.items() if k not in ("download", "chatUI")},
        "name": "second-model",
        "modelId": "google/gemma-4-31B-it-copy",
        "source": source,
    }
    spec["models"].append(second)
    path = tmp_path / "models.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    render_to_dir(path, tmp_path / "out", strict=True)
    scope = tmp_path / "out" / "manifests" / "ray-llm-cluster"
    (job,) = yaml.safe_load_all((scope / "job.yaml").read_text())
    services = {d["metadata"]["name"]: d for d in yaml.safe_load_all((scope / "rayservice.yaml").read_text())}

    def waits_for(name):
        spec = services[name]["spec"]["rayClusterConfig"]["workerGroupSpecs"][0]["template"]["spec"]
        return [
            next(e["value"] for e in c["env"] if e["name"] == "MARKER")
            for c in spec.get("initContainers", [])
        ]

    marker = "/data/google/gemma-4-31B-it/.gen-download-complete"
    assert waits_for(first["name"]) == [marker]
    assert waits_for("second-model") == ([marker] if waits else [])
    assert job["metadata"]["name"].startswith(f"{first['name']}-download-")


def test_a_model_reading_two_downloads_waits_for_both(tmp_path):
    spec = yaml.safe_load((ROOT / "examples" / "tpu-multihost-dranet" / "models.yaml").read_text())
    first = spec["models"][0]

    def like_first(**changes):
        model = {k: copy.deepcopy(v) for k, v in first.items() if k not in ("download", "chatUI")}
        return {**model, **changes}

    spec["models"] += [
        like_first(
            name="model-b",
            modelId="b",
            source="gs://my-weights-bucket/google/gemma-4-31B-it-b",
            download={"enabled": True, "from": "hf://google/gemma-4-31B-it-b"},
        ),
        like_first(name="model-c", modelId="c", source="gs://my-weights-bucket/google"),  # both, below it
    ]
    path = tmp_path / "models.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    render_to_dir(path, tmp_path / "out")
    docs = yaml.safe_load_all((tmp_path / "out/manifests/ray-llm-cluster/rayservice.yaml").read_text())
    service = next(d for d in docs if d["metadata"]["name"] == "model-c")
    pod = service["spec"]["rayClusterConfig"]["workerGroupSpecs"][0]["template"]["spec"]
    assert [(c["name"], c["env"][0]["value"]) for c in pod["initContainers"]] == [
        ("wait-for-weights", "/data/google/gemma-4-31B-it/.gen-download-complete"),
        ("wait-for-weights-2", "/data/google/gemma-4-31B-it-b/.gen-download-complete"),
    ]


def _with_second_process(monkeypatch):
    """Every render below gets a second process (and so checks its output there)."""
    from generator import render

    monkeypatch.setattr(render, "PROCESS_MIN_MODELS", 0)


def _spy_remote(monkeypatch):
    """The results of _RemoteVerify.finish (None: verified here instead)."""
    from generator import pipeline

    results = []
    real = pipeline._RemoteVerify.finish

    def finish(self, readme):
        results.append(real(self, readme))
        return results[-1]

    monkeypatch.setattr(pipeline._RemoteVerify, "finish", finish)
    return results


def _bench_fleet(tmp_path, build):
    """One of the bench's synthetic fleets (several clusters, pools and objectives for
    validate_spec), 24 models."""
    import sys

    sys.path.insert(0, str(ROOT / "bench"))
    import make_specs

    spec = tmp_path / f"{build}.yaml"
    spec.write_text(make_specs._dump(getattr(make_specs, build)(24)), encoding="utf-8")
    return spec


def _tree(root):
    return {p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("build", ["render_spec", "validate_spec"])
def test_checked_in_the_second_process_the_output_is_the_same(tmp_path, monkeypatch, build):
    spec = _bench_fleet(tmp_path, build)
    render_to_dir(spec, tmp_path / "here")
    _with_second_process(monkeypatch)
    results = _spy_remote(monkeypatch)
    render_to_dir(spec, tmp_path / "there")
    assert results == [[]]  # checked there, nothing found
    assert _tree(tmp_path / "here") == _tree(tmp_path / "there")


def test_the_second_process_reports_a_problem_as_this_one_does(tmp_path, monkeypatch):
    from generator import pipeline

    def broken_render(spec, progress=None, worker=None, on_parsed=None, on_rendered=None, on_files=None):
        def break_then_tell(resources):
            route = next(r for r in resources if r.kind == "HTTPRoute")  # rendered here: sent whole
            route.obj["spec"]["rules"][0]["backendRefs"][0]["name"] = "nobody-serves-this"
            if on_rendered is not None:
                on_rendered(resources)

        return render_spec(spec, progress, worker, on_parsed, break_then_tell, on_files)

    monkeypatch.setattr(pipeline, "render_spec", broken_render)
    with pytest.raises(RenderError) as here:
        render_to_dir(SPEC, tmp_path / "here")
    _with_second_process(monkeypatch)
    results = _spy_remote(monkeypatch)
    with pytest.raises(RenderError) as there:
        render_to_dir(SPEC, tmp_path / "there")
    assert results and results[0], "checked in the second process, which found the dangling reference"
    assert "nobody-serves-this" in str(there.value)
    assert str(there.value).replace("/there/", "/here/") == str(here.value)
    assert not (tmp_path / "there").exists()


def test_the_second_process_reads_the_readme_written_meanwhile(tmp_path, monkeypatch):
    """The objective rule reads the README, which is written while the second process
    already checks: a README that never names the objectives is reported there."""
    from generator import pipeline

    _with_second_process(monkeypatch)
    results = _spy_remote(monkeypatch)
    real = pipeline._RemoteVerify.finish
    monkeypatch.setattr(pipeline._RemoteVerify, "finish", lambda self, readme: real(self, "no headers here"))
    with pytest.raises(RenderError, match="x-gateway-inference-objective"):
        render_to_dir(_bench_fleet(tmp_path, "validate_spec"), tmp_path / "out")
    assert results and results[0] and all(i.check == "operational" for i in results[0])
