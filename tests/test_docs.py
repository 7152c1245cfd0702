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


def test_user_facing_text_names_guides_not_internal_seed_numbers():
    """Users never saw the "seeds": examples, docs, charts and emitted READMEs name the
    upstream guide a scenario follows, by title and link."""
    import re

    internal = re.compile(r"\bseeds? ?0\d\d\b|\bthe seed'?s?\b", re.IGNORECASE)
    roots = ["README.md", "docs", "examples", "charts", "golden", "generator/render/templates", "schemas"]
    found = []
    for root in roots:
        path = ROOT / root
        for f in [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()):
            if f.suffix in (".md", ".yaml", ".yml", ".tpl", ".json", ".j2", ".txt"):
                text = f.read_text(encoding="utf-8", errors="replace")
                found += [f"{f.relative_to(ROOT)}: {m.group(0)}" for m in internal.finditer(text)]
    assert not found, found
