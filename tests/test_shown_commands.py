"""Every command README.md, docs/getting-started.md, `make demo` and `gen render --help`
show a newcomer is run here, in a scratch directory, in the order shown (`cd` included).

Lines that need a cluster or the network are not run but checked: `helmfile -f FILE apply`
must name a file gen wrote, and `helm install NAME CHART -n NS -f VALUES` must install the
release gen rendered out/manifests/ as: the same chart, values, release name and namespace
give exactly the resources of out/manifests/<cluster>/ (labels and NetworkPolicy selectors
carry the release name, so any other name or namespace would not).
"""

from __future__ import annotations

import glob
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .conftest import ROOT

NOT_RUN = {
    # the suite itself (it is what runs this test)
    ("make", "test"),
}


def shell_blocks(markdown: str) -> list[list[str]]:
    """The ```sh blocks of a Markdown text, each as its command lines."""
    blocks = re.findall(r"^```sh\n(.*?)^```", markdown, flags=re.M | re.S)
    return [[ln for ln in b.splitlines() if ln.strip() and not ln.lstrip().startswith("#")] for b in blocks]


def demo_recipe() -> tuple[list[str], list[str]]:
    """`make demo`'s commands and the commands its echo lines show."""
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^demo:.*\n((?:\t.*\n)+)", makefile, flags=re.M)
    assert recipe, "Makefile has no demo target"
    run, shown = [], []
    for line in recipe.group(1).splitlines():
        line = line.strip()
        if line.startswith("@echo"):
            text = shlex.split(line[1:])[1]
            if text.startswith("  "):  # an indented line is a command to type
                shown.append(text.strip())
        else:
            run.append(line.replace("$(BIN)/", ""))
    return run, shown


def manifests(out: Path, cluster: str) -> list[str]:
    docs = []
    for path in sorted((out / "manifests" / cluster).glob("*.yaml")):
        if path.name != "kustomization.yaml":
            docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return sorted(json.dumps(d, sort_keys=True) for d in docs)


def helm_template(chart: Path, values: Path, release: str, namespace: str) -> list[str]:
    import helm_python

    from generator.render.manifests import render_chart

    loaded = helm_python.Chart.load(chart)
    try:
        resources = render_chart(
            loaded, yaml.safe_load(values.read_text()), release=release, namespace=namespace
        )
    finally:
        loaded.close()
    return sorted(json.dumps(r.obj, sort_keys=True) for r in resources)


def check_offline_only(argv: list[str], cwd: Path) -> None:
    """A command that needs a cluster: check what it names instead of running it."""
    if argv[0] == "helmfile":
        assert argv[1] == "-f" and argv[3:] == ["apply"], argv
        assert (cwd / argv[2]).is_file(), f"{argv[2]} was not written"
        return
    assert argv[:2] == ["helm", "install"], argv
    release, chart = argv[2], cwd / argv[3]
    opts = dict(zip(argv[4::2], argv[5::2], strict=True))
    assert set(opts) == {"-n", "-f"}, f"{shlex.join(argv)}: give the namespace (-n) and the values (-f)"
    values = cwd / opts["-f"]
    assert (chart / "Chart.yaml").is_file() and values.is_file(), argv
    cluster = values.name.removeprefix("values-").removesuffix(".yaml")
    expected = manifests(chart.parent, cluster)
    assert expected, f"no manifests for cluster {cluster}"
    assert helm_template(chart, values, release, opts["-n"]) == expected, (
        f"{shlex.join(argv)} does not install what {chart.parent}/manifests/{cluster}/ shows"
    )


def check_activate() -> None:
    """`source .venv/bin/activate` puts the gen of the environment running the tests on PATH."""
    bindir = Path(sys.executable).parent
    assert (bindir / "activate").is_file() and (bindir / "gen").is_file(), bindir
    result = subprocess.run(
        ["bash", "-c", f"source {shlex.quote(str(bindir / 'activate'))} && command -v gen && gen --version"],
        env={"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp")},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.splitlines()[0] == str(bindir / "gen")
    assert result.stdout.splitlines()[1].startswith("gen, version ")


class Session:
    """A newcomer's shell: a scratch directory that looks like a clone (examples/), a cwd."""

    def __init__(self, cli, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.cli, self.root, self.monkeypatch = cli, root, monkeypatch
        (root / "examples").symlink_to(ROOT / "examples")
        monkeypatch.chdir(root)
        self.ran: list[str] = []

    def gen(self, argv: list[str]) -> None:
        args = [a for arg in argv[1:] for a in (sorted(glob.glob(arg)) if "*" in arg else [arg])]
        result = self.cli(*args)
        assert result.exit_code == 0, (shlex.join(argv), result.output)

    def run(self, line: str) -> None:
        argv = shlex.split(line, comments=True)
        if not argv:
            return
        cwd = Path.cwd()
        if argv[0] == "cd":
            self.monkeypatch.chdir(argv[1])
        elif argv[0] == "gen":
            self.gen(argv)
        elif argv[:2] == ["make", "demo"]:
            commands, shown = demo_recipe()
            for command in commands:
                self.run(command)
            for command in shown:
                self.run(command)
        elif argv[:2] == ["source", ".venv/bin/activate"]:
            check_activate()
        elif argv[0] in ("helm", "helmfile"):
            check_offline_only(argv, cwd)
        elif tuple(argv) in NOT_RUN:
            return
        else:
            pytest.fail(f"{line!r}: a shown command this test neither runs nor checks")
        self.ran.append(line)


def test_readme_commands(cli, tmp_path, monkeypatch):
    session = Session(cli, tmp_path, monkeypatch)
    blocks = shell_blocks((ROOT / "README.md").read_text())
    for block in blocks:
        for line in block:
            session.run(line)
    assert "make demo" in " ".join(session.ran) and any(ln.startswith("helm install") for ln in session.ran)


def test_getting_started_commands(cli, tmp_path, monkeypatch):
    session = Session(cli, tmp_path, monkeypatch)
    blocks = shell_blocks((ROOT / "docs" / "getting-started.md").read_text())
    assert len(blocks) >= 4
    for block in blocks:
        for line in block:
            session.run(line)
    assert Path.cwd() == tmp_path / "fleet"
    assert any(ln.startswith("gen init") for ln in session.ran)
    assert any(ln.startswith("gen check") for ln in session.ran)


def test_render_help_examples(cli, tmp_path, monkeypatch):
    """`gen render --help`'s examples, on the models.yaml `gen init` writes by default."""
    session = Session(cli, tmp_path, monkeypatch)
    session.run("gen init")
    help_text = cli("render", "--help").stdout
    lines = [ln.strip() for ln in help_text.split("Examples:", 1)[1].splitlines()]
    for line in lines:
        session.run(line)
    assert sum(ln.startswith(("gen render", "helm install", "helmfile")) for ln in session.ran) == 4


def test_the_out_readme_install_commands(cli, tmp_path, monkeypatch):
    """out/README.md's own install block, run from out/."""
    session = Session(cli, tmp_path, monkeypatch)
    session.run("gen render examples/single-cluster-gpu/models.yaml -o out")
    install = (tmp_path / "out" / "README.md").read_text().split("## Install", 1)[1]
    session.run("cd out")
    block = shell_blocks(install)[0]
    for line in block:
        session.run(line)
    assert [ln.split()[0] for ln in session.ran[-2:]] == ["helmfile", "helm"]


def test_another_release_name_or_namespace_is_caught(cli, tmp_path, monkeypatch):
    """The check above can fail: `helm install fleet ...` (the name --help once showed) or a
    missing -n does not install what out/manifests/ shows."""
    Session(cli, tmp_path, monkeypatch).run("gen render examples/single-cluster-gpu/models.yaml -o out")
    good = "helm install ray-multi-model out/chart -n default -f out/chart/values-default.yaml"
    check_offline_only(shlex.split(good), tmp_path)
    for bad in (
        good.replace("ray-multi-model", "fleet"),
        good.replace("-n default", "-n other"),
    ):
        with pytest.raises(AssertionError, match="does not install"):
            check_offline_only(shlex.split(bad), tmp_path)
    with pytest.raises(AssertionError, match="give the namespace"):
        check_offline_only(shlex.split(good.replace("-n default ", "")), tmp_path)


def test_make_install_installs_gen_into_the_current_environment():
    # run as a top-level make even under `make test` (no "Entering directory" lines)
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", "install", "PYTHON=python3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    assert result.stdout.strip() == "python3 -m pip install ."


def test_gen_help_lists_every_command_and_readme_names_their_arguments(cli):
    """`gen --help` lists every command; README's CLI table names the arguments as each
    command's --help does (`[DIR]`, not `[PATH]`)."""
    top = cli("--help").stdout
    readme = (ROOT / "README.md").read_text()
    rows = re.findall(r"^\| `(gen [a-z]+(?: export)?)([^`]*)` \|", readme, flags=re.M)
    assert len(rows) >= 8
    for command, args in rows:
        assert command in top, f"gen --help does not show {command}"
        usage = cli(*command.split()[1:], "--help").stdout.splitlines()[0]
        positional = usage.split("[OPTIONS]", 1)[1].split()
        shown = re.sub(r"\[--[^]]*\]|--?[a-z-]+ [A-Z]+|--?[a-z-]+", "", args).split()
        assert shown == positional, (command, args, usage)


def test_init_list_shows_whole_descriptions(cli):
    listing = cli("init", "--list").stdout
    flat = " ".join(listing.split())  # wrapped to the terminal: compare the words
    assert "gke-west is the config cluster." in flat
    assert "picks the RayService by that header." in flat
    assert "(https://cloud.google.com/kubernetes-engine/docs/" in flat, "each names the guide it follows"
    for paragraph in re.split(r"\n(?=\S)", listing.strip()):
        assert paragraph.rstrip().endswith("."), paragraph
