"""Generated docs are never stale."""

from __future__ import annotations

from generator import specdoc

from .conftest import ROOT


def test_spec_reference_is_current():
    current = (ROOT / "docs" / "spec.md").read_text()
    assert current == specdoc.render(), f"docs/spec.md is stale: run {specdoc.COMMAND}"


def test_spec_reference_documents_every_field():
    text = specdoc.render()
    for field in (
        "`models[].accelerator.topology`",
        "`gateway.routing`",
        "`models[].multiplexing.models[].id`",
        "`clusters[].role`",
    ):
        assert field in text
