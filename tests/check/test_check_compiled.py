"""schemas/upstream is self-contained, documented, and compiled/ is up to date."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from generator.check import compile as compile_mod
from generator.check.paths import schemas_dir, upstream_dir
from generator.check.schema_index import load_index

UPSTREAM = upstream_dir()
REPO = Path(__file__).resolve().parents[2]


def test_paths_resolve_to_the_checkout() -> None:
    assert schemas_dir() == REPO / "schemas"
    assert (UPSTREAM / "index.yaml").is_file()


def test_compiled_schemas_are_fresh() -> None:
    stale = compile_mod.stale_files()
    assert not stale, f"stale compiled schemas {stale}; regenerate with: {compile_mod.COMMAND}"


def test_compile_check_cli_reports_a_stale_file(tmp_path: Path, monkeypatch, capsys) -> None:
    # Work on a copy so the real compiled/ is never touched.
    import shutil

    root = tmp_path / "upstream"
    shutil.copytree(UPSTREAM, root)
    (root / "compiled" / "ray.io_v1_RayService.json").write_text("{}\n", encoding="utf-8")
    monkeypatch.setattr(compile_mod, "upstream_dir", lambda: root)
    assert compile_mod.main(["--check"]) == 1
    assert capsys.readouterr().out == (
        "stale: compiled/ray.io_v1_RayService.json\nrun: python -m generator.check.compile\n"
    )
    assert compile_mod.main([]) == 0
    assert compile_mod.main(["--check"]) == 0


def test_every_source_is_used_documented_and_hashed() -> None:
    index = load_index()
    sources = {e.source for e in index.entries.values() if e.source} | {
        o for e in index.entries.values() for o in e.overlays
    }
    on_disk = {
        p.relative_to(UPSTREAM).as_posix()
        for d in ("crds", "handwritten", "overlays")
        for p in (UPSTREAM / d).rglob("*")
        if p.is_file()
    }
    assert sources == on_disk  # nothing vendored that is not used, nothing used that is missing
    readme = (UPSTREAM / "README.md").read_text(encoding="utf-8")
    for src in on_disk:
        assert src.removeprefix("crds/") in readme, f"{src} is not described in schemas/upstream/README.md"
    for entry in index.entries.values():
        if entry.source:
            doc = json.loads((UPSTREAM / "compiled" / entry.compiled_name).read_text(encoding="utf-8"))
            assert doc["source"]["path"] == entry.source
            assert (doc["apiVersion"], doc["kind"]) == (entry.api_version, entry.kind)


def test_upstream_copies_carry_their_pinned_identity() -> None:
    # A swapped file (other version, other kind) must not pass silently.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the RayService CRD is 1 MB
    crd = yaml.load((UPSTREAM / "crds/kuberay/ray.io_rayservices.yaml").read_bytes(), Loader=loader)
    assert crd["metadata"]["annotations"]["controller-gen.kubebuilder.io/version"] == "v0.16.5"
    gw = yaml.load(
        (UPSTREAM / "crds/gateway-api/standard/gateway.networking.k8s.io_httproutes.yaml").read_bytes(),
        Loader=loader,
    )
    assert gw["metadata"]["annotations"]["gateway.networking.k8s.io/channel"] == "standard"


def test_licences_present() -> None:
    assert "Apache License" in (UPSTREAM / "licenses/Apache-2.0.txt").read_text(encoding="utf-8")
    assert "datree" in (UPSTREAM / "licenses/datreeio-CRDs-catalog-MIT.txt").read_text(encoding="utf-8")


def test_handwritten_files_say_so() -> None:
    for rel in (
        "handwritten/gcpinferencepoolimport_v1.json",
        "handwritten/autoscalingmetric_v1beta1.json",
        "overlays/gcpbackendpolicy_v1.trafficDuration.json",
        "overlays/gcpbackendpolicy_v1.inFlight.json",
    ):
        assert json.loads((UPSTREAM / rel).read_text(encoding="utf-8"))["description"].startswith(
            "HAND-WRITTEN"
        )


def test_no_path_outside_the_repo() -> None:
    # A user's clone has no ../shared: neither code nor tests may point there.
    here = Path(__file__).resolve().parent
    files = (
        list((REPO / "generator" / "check").glob("*.py"))
        + list(here.glob("test_check_*.py"))
        + [here / "samples.py", UPSTREAM / "index.yaml"]
    )
    for f in files:
        if f == Path(__file__).resolve():
            continue  # this test names the pattern
        assert not re.search(r"shared/upstream|\.\./shared", f.read_text(encoding="utf-8")), f
