"""The one pipeline: gen render verifies its output with the same check API and the same
words as gen check on the written files, and every command reading an output directory
reports a broken one the same clean way."""

from __future__ import annotations

import copy

import pytest
import yaml

from generator.check.runner import check_dirs
from generator.pipeline import RenderError, diff_output, render_to_dir, verify
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

    def broken_render(spec, progress=None, worker=None):
        plan, files, resources = render_spec(spec)
        return plan, files, _dangling_route(resources)[0]

    monkeypatch.setattr(pipeline, "render_spec", broken_render)
    with pytest.raises(
        RenderError, match=r"manifests/[^:]+/httproute.yaml: HTTPRoute/[^:]+: .*nobody-serves-this"
    ):
        render_to_dir(SPEC, tmp_path / "out")
    assert not (tmp_path / "out").exists()


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
