"""CLI behaviour: exact exit codes and output of init, diff, render --check, help, version."""

from __future__ import annotations

import json

import pytest

from generator import __version__

from .conftest import ROOT

SPEC = ROOT / "examples" / "single-cluster-gpu" / "models.yaml"
# every file of the output except gen's own bookkeeping file, which lists them
OUTPUT_FILES = len(
    json.loads((ROOT / "golden" / "single-cluster-gpu" / ".gen-files.json").read_text())["files"]
)
RESOURCES = sum(
    text.count("\nkind: ")
    for text in (
        p.read_text()
        for p in (ROOT / "golden" / "single-cluster-gpu" / "manifests").rglob("*.yaml")
        if p.name != "kustomization.yaml"
    )
)


def test_version(cli):
    result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout == f"gen, version {__version__}\n"


@pytest.mark.parametrize("command", ["validate", "render", "diff", "init", "schema", "check"])
def test_every_command_has_help_with_an_example(cli, command):
    result = cli(command, "--help")
    assert result.exit_code == 0
    assert "Examples:" in result.stdout
    assert f"gen {command}" in result.stdout


def test_unknown_command_is_a_usage_error(cli):
    assert cli("frobnicate").exit_code == 2


def test_schema_prints_the_published_schema(cli):
    result = cli("schema")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == json.loads((ROOT / "schemas/models.schema.json").read_text())


def test_init_writes_spec_and_schema_and_refuses_to_overwrite(cli, tmp_path):
    result = cli("init", "--scenario", "path-routing", str(tmp_path / "f"))
    assert result.exit_code == 0
    spec = tmp_path / "f" / "models.yaml"
    assert spec.read_text().startswith("# yaml-language-server: $schema=models.schema.json\n")
    assert (tmp_path / "f" / "models.schema.json").exists()
    assert cli("validate", str(spec)).exit_code == 0
    spec.write_text("mine\n")
    result = cli("init", str(tmp_path / "f"))
    assert result.exit_code == 1
    assert result.stderr == f"gen: {spec} exists; use --force to overwrite it\n"
    assert spec.read_text() == "mine\n"
    assert cli("init", "--force", str(tmp_path / "f")).exit_code == 0


@pytest.mark.parametrize("name", ["models.yaml", "fleet.yml", "sub/dir/prod.yaml"])
def test_init_takes_a_spec_file_path(cli, tmp_path, name):
    spec = tmp_path / name
    result = cli("init", str(spec))
    assert result.exit_code == 0, result.stderr
    assert spec.is_file(), "a .yaml path is the spec, not a directory"
    assert (spec.parent / "models.schema.json").is_file()
    assert cli("validate", str(spec)).exit_code == 0
    assert sorted(p.name for p in spec.parent.iterdir() if p.is_file()) == sorted(
        {spec.name, "models.schema.json"}
    ), "no temporary files are left behind"


def test_init_into_an_existing_directory_named_like_a_file(cli, tmp_path):
    folder = tmp_path / "odd.yaml"
    folder.mkdir()
    assert cli("init", str(folder)).exit_code == 0
    assert (folder / "models.yaml").is_file()


def test_init_under_a_file_is_a_clear_error(cli, tmp_path):
    (tmp_path / "plain").write_text("x")
    result = cli("init", str(tmp_path / "plain" / "models.yaml"))
    assert result.exit_code == 1
    assert "is a file, not a directory" in result.stderr
    assert "Traceback" not in result.stderr


def test_init_unknown_scenario(cli, tmp_path):
    result = cli("init", "--scenario", "nope", str(tmp_path))
    assert result.exit_code == 2
    assert "unknown scenario 'nope'; choose from: multi-cluster," in result.stderr


def test_init_list(cli):
    result = cli("init", "--list")
    assert result.exit_code == 0
    assert [line.split()[0] for line in result.stdout.splitlines() if not line.startswith(" ")] == sorted(
        p.parent.name for p in (ROOT / "examples").glob("*/models.yaml")
    )


def test_diff_exit_codes_and_summary(cli, tmp_path):
    out = tmp_path / "out"
    result = cli("diff", str(SPEC), "-o", str(out))
    assert result.exit_code == 1
    assert result.stdout.splitlines()[-1] == f"Summary: {OUTPUT_FILES} files differ; {RESOURCES} added"
    assert cli("render", "-q", str(SPEC), "-o", str(out)).exit_code == 0
    result = cli("diff", str(SPEC), "-o", str(out))
    assert (result.exit_code, result.stdout) == (0, "Summary: no changes\n")
    result = cli("diff", "--format", "json", str(SPEC), "-o", str(out))
    assert json.loads(result.stdout) == {"changed": False, "files": [], "resources": {}}


def test_render_check(cli, tmp_path):
    out = tmp_path / "out"
    result = cli("render", "--check", str(SPEC), "-o", str(out))
    assert result.exit_code == 1
    assert f"is out of date: {OUTPUT_FILES} files would change" in result.stderr
    assert not out.exists()
    cli("render", str(SPEC), "-o", str(out))
    result = cli("render", "--check", str(SPEC), "-o", str(out))
    assert (result.exit_code, result.stdout) == (0, f"{out}/ is up to date\n")


def test_render_strict(cli, tmp_path):
    result = cli("render", "--strict", str(SPEC), "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.stderr


def test_progress_is_shown_only_on_a_terminal_after_a_second(monkeypatch):
    from generator import cli as cli_module

    shown = []
    monkeypatch.setattr(cli_module.click, "echo", lambda text, **kw: shown.append(text))
    ticks = iter([0.5, 2.0])
    progress = cli_module._Progress(True)
    progress._enabled = True  # as on a terminal
    progress._clock = lambda: next(ticks)
    progress._start = 0.0
    progress("validating")  # 0.5 s: too early
    progress("writing 10 files")  # 2.0 s: shown
    assert shown == ["\r\033[Kgen: writing 10 files (2.0 s)"]
    assert cli_module._Progress(True)._enabled is False  # stderr is not a terminal under pytest
    assert cli_module._Progress(False)._enabled is False
