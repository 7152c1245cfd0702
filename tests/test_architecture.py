"""The layering of docs/architecture.md holds: the import-linter contracts in
pyproject.toml (render and check independent, one direction from cli down to the
catalog, no import cycle inside any package)."""

from __future__ import annotations

import tomllib

import grimp
from importlinter import cli

from .conftest import ROOT

PYPROJECT = ROOT / "pyproject.toml"


def test_the_import_contracts_are_kept(capsys):
    code = cli.lint_imports(config_filename=str(PYPROJECT), no_cache=True, no_logo=True)
    assert code == 0, capsys.readouterr().out


def test_the_contracts_cover_the_pipeline():
    contracts = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]["contracts"]
    kinds = {c["type"] for c in contracts}
    assert {"independence", "layers", "acyclic_siblings"} <= kinds
    independent = next(c for c in contracts if c["type"] == "independence")["modules"]
    assert set(independent) == {"generator.render", "generator.check"}


def test_render_and_check_meet_only_in_the_pipeline():
    graph = grimp.build_graph("generator", cache_dir=None)
    on_render = graph.find_downstream_modules("generator.render", as_package=True)
    on_check = graph.find_downstream_modules("generator.check", as_package=True)
    assert not on_render & {m for m in graph.modules if m.startswith("generator.check")}
    assert not on_check & {m for m in graph.modules if m.startswith("generator.render")}
    # the modules that use both: the pipeline and the CLI on top of it
    assert on_render & on_check == {"generator.pipeline", "generator.cli"}
