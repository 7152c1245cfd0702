"""The `gen` command line: parse arguments, call the library, print, set the exit code.

Exit codes: 0 success, 1 invalid input or failed check, 2 usage error.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from . import __version__
from .diagnostics import Issue, SpecError, plural

EXAMPLES = {
    "validate": "  gen validate models.yaml\n  gen validate --format json examples/*/models.yaml",
    "render": "  gen render models.yaml -o out/\n"
    "  gen render models.yaml -o out/ --check   # CI: fail when out/ is stale\n"
    "  # then out/README.md: prerequisites, add-ons, and the chart under the release name\n"
    "  # metadata.name in namespace metadata.namespace (e.g. `gen init`'s models.yaml):\n"
    "  helmfile -f out/addons/helmfile.yaml apply\n"
    "  helm install ray-multi-model out/chart -n default -f out/chart/values-default.yaml",
    "diff": "  gen diff models.yaml -o out/\n  gen diff --format json models.yaml -o out/",
    "init": "  gen init --list\n  gen init --scenario multi-cluster fleet/",
    "schema": "  gen schema > models.schema.json",
    "describe": "  gen describe models.yaml\n  gen describe --format json models.yaml",
    "check": "  gen check out/\n  gen check --format json --kube-version 1.34 out/ gitops/clusters/prod/",
    "schemas export": "  gen schemas export kube-schemas/ && kubeconform -strict -schema-location "
    "'kube-schemas/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json' "
    "-skip Kustomization out/manifests/",
}


_F = TypeVar("_F", bound=Callable[..., Any])


# --format on every command that reports: text for people, one JSON document for tools
_format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format; json prints one report to stdout.",
)


def _epilog(name: str) -> str:
    return "\b\nExamples:\n" + EXAMPLES[name]


class _Progress:
    """Stage lines on stderr for renders that take longer than a second; only on a
    terminal (never in CI logs or pipes) and never with --quiet."""

    def __init__(self, enabled: bool) -> None:
        import time

        self._clock = time.monotonic
        self._start = self._clock()
        self._enabled = enabled and sys.stderr.isatty()
        self._shown = False

    def __call__(self, stage: str) -> None:
        elapsed = self._clock() - self._start
        if self._enabled and elapsed > 1.0:
            click.echo(f"\r\033[Kgen: {stage} ({elapsed:.1f} s)", err=True, nl=False)
            self._shown = True

    def done(self) -> None:
        if self._shown:
            click.echo("\r\033[K", err=True, nl=False)


def _print_diagnostics(diags: list[Issue], fmt: str) -> None:
    if fmt == "json":
        return
    for d in diags:
        click.echo(d.format(), err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="gen")
def main() -> None:
    """Generate Ray Serve LLM deployments for GKE from one models.yaml.

    \b
    gen init --scenario NAME DIR    start a models.yaml from an example scenario
    gen validate models.yaml        check the spec (schema + semantic rules)
    gen render models.yaml -o out   write a Helm umbrella chart + raw manifests
    gen describe models.yaml        per model: accelerators, parallelism, memory fit
    gen diff models.yaml -o out     what a render would change
    gen check out                   validate rendered output against upstream schemas
    gen schema                      print the spec's JSON Schema
    gen schemas export DIRECTORY    the pinned schemas in kubeconform's layout
    """


@main.command(epilog=_epilog("validate"), short_help="Check specs: JSON Schema and semantic rules.")
@click.argument("specs", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@_format_option
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on success.")
def validate(specs: tuple[Path, ...], fmt: str, quiet: bool) -> None:
    """Check SPECS against the published JSON Schema and gen's semantic rules.

    Every problem of every file is reported as FILE:LINE:COL: spec.path: message.
    """
    from .capacity import unchecked_notes
    from .spec import validate_file

    all_diags: list[Issue] = []
    report = []
    for path in specs:
        spec, diags = validate_file(path)
        all_diags += diags
        notes = [f"{path}: {n}" for n in unchecked_notes(spec.data)] if spec else []
        report.append(
            {"file": str(path), "valid": not diags, "errors": [d.as_dict() for d in diags], "notes": notes}
        )
        _print_diagnostics(diags, fmt)
        if fmt == "text" and not quiet:
            for note in notes:
                click.echo(f"note: {note}", err=True)
    bad = sum(1 for r in report if not r["valid"])
    if fmt == "json":
        click.echo(json.dumps({"files": report, "errors": len(all_diags)}, indent=2))
    elif all_diags:
        click.echo(
            f"Summary: {plural(len(all_diags), 'error')} in {plural(bad, 'file')} "
            f"({plural(len(specs), 'file')} checked)",
            err=True,
        )
    elif not quiet:
        click.echo(f"Summary: {plural(len(specs), 'file')} valid")
    sys.exit(1 if all_diags else 0)


@main.command(epilog=_epilog("render"), short_help="Write the chart, manifests and add-ons of a spec.")
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output directory (created; gen only replaces what it wrote there).",
)
@click.option(
    "--check",
    "check_only",
    is_flag=True,
    help="Write nothing; exit 1 when OUTPUT is not what a render would produce.",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Also validate every resource against the pinned upstream schemas (gen check).",
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on success.")
def render(spec: Path, output: Path, check_only: bool, strict: bool, quiet: bool) -> None:
    """Render SPEC into OUTPUT: chart/ (Helm umbrella chart), manifests/<cluster>/
    (the same resources as plain YAML) and addons/ (pinned upstream charts).

    Cross-references between the rendered resources are always checked first; nothing
    is written when anything is wrong. OUTPUT/README.md lists the prerequisites and the
    install commands: the Helm release name is metadata.name and its namespace
    metadata.namespace, which the labels and NetworkPolicy selectors use."""
    from .pipeline import RenderError, diff_output, render_to_dir

    try:
        if check_only:
            result = diff_output(spec, output)
            if result.changed:
                click.echo(
                    f"{output}/ is out of date: {plural(len(result.files), 'file')} "
                    f"would change; run `gen render {spec} -o {output}` "
                    "(`gen diff` shows how)",
                    err=True,
                )
                sys.exit(1)
            if not quiet:
                click.echo(f"{output}/ is up to date")
            return
        progress = _Progress(not quiet)
        try:
            rendered = render_to_dir(spec, output, strict=strict, progress=progress)
        finally:
            progress.done()
    except SpecError as exc:
        _print_diagnostics(exc.diagnostics, "text")
        click.echo(f"Summary: {plural(len(exc.diagnostics), 'error')}; nothing written", err=True)
        sys.exit(1)
    except RenderError as exc:
        click.echo(f"gen: {exc}", err=True)
        sys.exit(1)
    if not quiet:
        click.echo(
            f"Rendered {plural(rendered.resources, 'resource')} for "
            f"{plural(len(rendered.clusters), 'cluster')} into {output}/ "
            f"({plural(rendered.files, 'file')}); next: {output}/README.md"
        )


@main.command(epilog=_epilog("describe"), short_help="Per model: accelerators, parallelism, memory fit.")
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@_format_option
def describe(spec: Path, fmt: str) -> None:
    """Show what each model of SPEC gets: accelerators, parallelism and memory fit.

    Per served model, one replica: chips, tensor/pipeline parallelism, weights per chip,
    the tokens its KV cache holds, the configured context (max_model_len), the largest
    context that fits, and whether it fits. Models gen's catalog does not know (and that
    give no modelFacts) are listed as unknown. Exit 1 when the spec is invalid (a model
    that does not fit is a validation error).
    """
    from .capacity import as_json, fleet_capacity, table
    from .spec import validate_file

    loaded, diags = validate_file(spec)
    if loaded is None:
        _print_diagnostics(diags, "text")
        click.echo(f"Summary: {plural(len(diags), 'error')}; nothing to describe", err=True)
        sys.exit(1)
    capacities = fleet_capacity(loaded.data)
    if fmt == "json":
        click.echo(json.dumps({"file": str(spec), "models": as_json(capacities)}, indent=2))
    else:
        click.echo(table(capacities))


@main.command(epilog=_epilog("diff"), short_help="Show what a render would change.")
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The output directory to compare with.",
)
@_format_option
def diff(spec: Path, output: Path, fmt: str) -> None:
    """Show what `gen render SPEC -o OUTPUT` would change: a unified diff per file and
    the resources added, changed and removed. Exit 0 no change, 1 changes (like
    `git diff --exit-code`)."""
    from .pipeline import RenderError, diff_output

    try:
        result = diff_output(spec, output)
    except SpecError as exc:
        _print_diagnostics(exc.diagnostics, "text")
        click.echo(f"Summary: {plural(len(exc.diagnostics), 'error')}", err=True)
        sys.exit(1)
    except RenderError as exc:
        click.echo(f"gen: {exc}", err=True)
        sys.exit(1)
    if fmt == "json":
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        for change in result.files:
            click.echo(change.diff, nl=False)
        counts = {k: len(v) for k, v in result.resources.items()}
        summary = (
            ", ".join(f"{counts[k]} {k}" for k in ("added", "changed", "removed") if k in counts)
            or "no resource changes"
        )
        for status in ("added", "changed", "removed"):
            for key in result.resources.get(status, []):
                click.echo(f"{status}: {key}")
        click.echo(
            f"Summary: {plural(len(result.files), 'file')} differ; {summary}"
            if result.changed
            else "Summary: no changes"
        )
    sys.exit(1 if result.changed else 0)


@main.command(epilog=_epilog("init"), short_help="Start a models.yaml from an example scenario.")
@click.argument("path", metavar="[PATH]", required=False, default=".", type=click.Path(path_type=Path))
@click.option(
    "--scenario",
    default="single-cluster-gpu",
    show_default=True,
    help="Example scenario to start from (see --list).",
)
@click.option("--list", "list_only", is_flag=True, help="List the scenarios and exit.")
@click.option("--force", is_flag=True, help="Overwrite an existing models.yaml.")
def init(path: Path, scenario: str, list_only: bool, force: bool) -> None:
    """Write a commented starter spec for a scenario, and the spec's JSON Schema beside
    it (models.schema.json) for editor completion. PATH is the spec file to create (a
    name ending in .yaml or .yml, e.g. `gen init fleet.yaml`) or a directory to create
    models.yaml in (default: the current directory)."""
    from .bundled import spec_schema_path
    from .starters import scenarios, starter_spec

    known = scenarios()
    if list_only:
        import textwrap

        width = max(map(len, known))
        for name, about in known.items():
            lines = textwrap.wrap(about, max(40, 100 - width - 2)) or [""]
            click.echo(f"{name:<{width}}  {lines[0]}")
            for line in lines[1:]:
                click.echo(f"{'':<{width}}  {line}")
        return
    if scenario not in known:
        raise click.BadParameter(
            f"unknown scenario {scenario!r}; choose from: {', '.join(known)}", param_hint="--scenario"
        )
    # like `helm create` / `npm init`: a file name is the spec to write, anything else a directory
    is_file = path.suffix in (".yaml", ".yml") and not path.is_dir()
    target = path if is_file else path / "models.yaml"
    folder = target.parent
    if folder.exists() and not folder.is_dir():
        click.echo(f"gen: {folder} is a file, not a directory; give a new spec path or a directory", err=True)
        sys.exit(1)
    if target.exists() and not force:
        click.echo(f"gen: {target} exists; use --force to overwrite it", err=True)
        sys.exit(1)
    schema_file = folder / "models.schema.json"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _write_atomically(target, starter_spec(scenario))
        _write_atomically(schema_file, spec_schema_path().read_text(encoding="utf-8"))
    except OSError as exc:
        click.echo(f"gen: cannot write {target}: {exc.strerror or exc}", err=True)
        sys.exit(1)
    click.echo(f"Wrote {target} ({scenario}) and {schema_file}; next: gen validate {target}")


def _write_atomically(path: Path, text: str) -> None:
    """Write beside the target and rename over it: an interrupted init leaves no half file."""
    import os
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@main.command(epilog=_epilog("schema"), short_help="Print the spec's JSON Schema.")
def schema() -> None:
    """Print the JSON Schema of models.yaml (for editors and other tools)."""
    from .bundled import spec_schema_path

    click.echo(spec_schema_path().read_text(encoding="utf-8"), nl=False)


def _kube_version_option(f: _F) -> _F:
    from .catalog import releases

    DEFAULT_KUBE_VERSION = releases()["kubernetes"]["defaultVersion"]  # noqa: N806 (no heavy import)

    return click.option(
        "--kube-version",
        default=DEFAULT_KUBE_VERSION,
        show_default=True,
        help="Kubernetes minor for the schemas of built-in kinds (Service, Deployment, ...).",
    )(f)


@main.command(epilog=_epilog("check"), short_help="Check manifests against upstream schemas and GKE.")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str, allow_dash=True))
@_kube_version_option
@click.option(
    "--output",
    "output",
    type=click.Choice(["text", "json", "junit", "tap"]),
    default=None,
    help="Output format (default text); json, junit and tap print one report to stdout.",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default=None, help="Alias of --output.")
@click.option(
    "--ignore-missing-schemas",
    is_flag=True,
    help="Skip resources of kinds gen has no schema for (counted in the summary) instead of failing.",
)
@click.option(
    "--skip", "skip", multiple=True, metavar="KIND[,KIND]", help="Skip these kinds (or apiVersion/Kind)."
)
@click.option(
    "--reject", "reject", multiple=True, metavar="KIND[,KIND]", help="Fail on any resource of these kinds."
)
@click.option(
    "--skip-references",
    is_flag=True,
    help="Files are not applied together: no cross-reference, duplicate or GKE-lint checks.",
)
@click.option(
    "--assume",
    "assume",
    multiple=True,
    metavar="KIND/NAME",
    help="An object that exists elsewhere (references to it resolve); repeatable, or @FILE, one a line.",
)
@click.option(
    "--summary", is_flag=True, help="Print kubeconform's summary line (resources, valid, invalid, skipped)."
)
@click.option(
    "--kubeconform",
    "use_kubeconform",
    is_flag=True,
    help="Also run kubeconform (must be on PATH) against the pinned schemas.",
)
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="Also note what no offline check can cover (CEL rules only the API server evaluates).",
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on success, and no notes.")
def check(
    paths: tuple[str, ...],
    kube_version: str,
    output: str | None,
    fmt: str | None,
    ignore_missing_schemas: bool,
    skip: tuple[str, ...],
    reject: tuple[str, ...],
    skip_references: bool,
    assume: tuple[str, ...],
    summary: bool,
    use_kubeconform: bool,
    verbose: bool,
    quiet: bool,
) -> None:
    """Check Kubernetes manifests offline, as the API server would: strict upstream
    schemas (after its pruning and defaulting), CEL rules, Ray serve configs,
    cross-references within each cluster, GKE lints.

    PATHS are files, directories (searched recursively for *.yaml, *.yml, *.json) or -
    for stdin. A gen output directory (it has .gen-files.json) is checked per cluster,
    manifests/<cluster>/; any other directory is one cluster, and the files named
    directly are one cluster together. Every problem is reported as
    FILE:LINE:COL: Kind/name: path: message. Exit 0 clean, 1 problems, 2 usage or
    internal error.
    """
    from .check.kubeconform import KubeconformError
    from .check.runner import Options, UsageError, assume_option, kinds_option
    from .pipeline import check as check_paths

    if output and fmt and output != fmt:
        raise click.UsageError(f"--output {output} and --format {fmt} disagree (--format is an alias)")
    out_fmt = output or fmt or "text"
    try:
        options = Options(
            kube_version=kube_version,
            use_kubeconform=use_kubeconform,
            ignore_missing_schemas=ignore_missing_schemas,
            skip=kinds_option(skip),
            reject=kinds_option(reject),
            skip_references=skip_references,
            assume=assume_option(assume),
            verbose=verbose,
        )
        report = check_paths(paths, options)
    except UsageError as exc:
        raise click.UsageError(str(exc)) from None
    except KubeconformError as exc:
        click.echo(f"gen: {exc}", err=True)
        sys.exit(2)
    if out_fmt == "json":
        click.echo(json.dumps(report.as_dict(), indent=2))
    elif out_fmt == "tap":
        click.echo(report.tap())
    elif out_fmt == "junit":
        click.echo(report.junit())
    else:
        for issue in report.sorted_issues():
            click.echo(issue.format(), err=True)
        for err in report.internal_errors:
            click.echo(f"gen: {err}", err=True)
        if not quiet:
            for note in report.notes + (report.details if verbose else []):
                click.echo(f"note: {note}", err=True)
        if summary:
            click.echo(report.kubeconform_summary(), err=not report.ok)
        elif not report.ok:
            click.echo(report.summary(), err=True)
        elif not quiet:
            click.echo(report.summary())
    if out_fmt != "text":
        for err in report.internal_errors:
            click.echo(f"gen: {err}", err=True)
    sys.exit(report.exit_code)


@main.group(short_help="The pinned schemas: gen schemas export DIRECTORY.")
def schemas() -> None:
    """The pinned upstream schemas gen checks against: gen schemas export DIRECTORY."""


@schemas.command(
    "export", epilog=_epilog("schemas export"), short_help="Write the pinned schemas in kubeconform's layout."
)
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@_kube_version_option
def schemas_export(directory: Path, kube_version: str) -> None:
    """Write the pinned strict JSON schemas into DIRECTORY in kubeconform's layout:
    DIRECTORY/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json (core kinds
    under v1/, for the chosen Kubernetes version). Other files there are left alone."""
    from .check.export import SCHEMA_LOCATION, export_schemas
    from .check.runner import UsageError, kube_minor

    try:
        minor = kube_minor(kube_version)
    except UsageError as exc:
        raise click.UsageError(str(exc)) from None
    written = export_schemas(directory, minor)
    click.echo(
        f"Wrote {plural(len(written), 'schema')} (Kubernetes {minor}) to {directory}/; "
        f"kubeconform -schema-location '{directory}/{SCHEMA_LOCATION}'"
    )


if __name__ == "__main__":  # pragma: no cover
    main()
