"""`gen render`: spec -> umbrella chart, raw manifests per cluster and add-ons."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .. import catalog
from ..plan import Plan, build_plan
from ..prerequisites import prerequisites
from ..spec import Spec, load_spec
from .chart import cluster_values_files, dump_yaml, header, scaffold, umbrella_files
from .manifests import HelmRenderError, Resource, chart_archive, kind_files, render_chart
from .writer import OutputError, write_tree


class RenderError(Exception):
    """Rendering failed for a reason other than an invalid spec."""


@dataclass
class RenderResult:
    files: int
    resources: int
    clusters: list[str]


def _curls(plan: Plan) -> list[str]:
    out = []
    objective_header = catalog.releases()["endpointPicker"]["objectiveHeader"]
    for m in plan.models:
        for model_id in m.model_ids:
            prefix = m.path if plan.routing == "path" else ""
            hdr = f" -H '{plan.model_header}: {model_id}'" if plan.routing == "header" else ""
            if plan.pools and model_id in m.objective_by_id:
                hdr += f" -H '{objective_header}: {m.objective_by_id[model_id]}'"
            body = f'{{"model": "{model_id}", "messages": [{{"role": "user", "content": "Hello"}}]}}'
            out.append(
                f"curl http://${{GATEWAY_IP}}{prefix}/v1/chat/completions "
                f"-H 'Content-Type: application/json'{hdr} -d '{body}'"
            )
    return out


def _route_match(plan: Plan) -> Any:
    def match(m: Any) -> str:
        if plan.routing == "path":
            return f"PathPrefix {m.path}"
        if plan.routing == "inference-pool" and len(plan.models) == 1 and len(m.model_ids) == 1:
            return "every request"
        return f"{plan.model_header}: {', '.join(m.model_ids)}"

    return match


def _context(plan: Plan) -> dict[str, Any]:
    reach = "internal gateway: run from inside the VPC" if plan.internal else "external gateway"
    config = [c.name for c in plan.clusters if c.role == "config"]
    return {
        "curls": _curls(plan),
        "reach": reach,
        "route_match": _route_match(plan),
        "serve_port": catalog.releases()["ray"]["servePort"],
        "epp": catalog.releases()["endpointPicker"],
        "objective_header": catalog.releases()["endpointPicker"]["objectiveHeader"],
        "config_cluster": config[0] if config else plan.clusters[0].name,
        "regions": sorted({c.region for c in plan.clusters if c.region}),
    }


Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


def _helm_render_all(archive: bytes, plan: Plan, progress: Progress) -> list[list[Resource]]:
    import helm_python

    out = []
    for n, cluster in enumerate(plan.clusters, 1):
        progress(f"rendering cluster {cluster.name} ({n}/{len(plan.clusters)})")
        # a fresh load per cluster: rendering drops subcharts whose condition is false
        # from the loaded chart object, which would leak into the next cluster's render
        try:
            loaded = helm_python.Chart.load_archive(archive)
        except helm_python.HelmError as exc:  # e.g. a chart file over Helm's 5 MiB limit
            raise HelmRenderError(str(exc)) from None
        with loaded:
            rendered = render_chart(loaded, cluster.values, release=plan.fleet, namespace=plan.namespace)
        out.append([replace(r, cluster=cluster.name) for r in rendered])
    return out


def render_plan(plan: Plan, progress: Progress = _quiet) -> tuple[dict[str, bytes], list[Resource]]:
    """Every output file (relative path -> bytes) and every rendered resource."""
    from concurrent.futures import ThreadPoolExecutor

    ctx = _context(plan)
    chart = umbrella_files(plan, ctx, with_cluster_values=False)  # what Helm loads
    archive = chart_archive(chart, plan.fleet)
    head = header(plan.spec_name)
    resources: list[Resource] = []
    # The Helm engine (Go, via ctypes: the GIL is released) renders in a thread while
    # this one writes values-<cluster>.yaml (PyYAML), add-ons and README: the slowest
    # Python step and the Helm engine overlap on two cores.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="helm") as pool:
        future = pool.submit(_helm_render_all, archive, plan, progress)
        chart.update(cluster_values_files(plan))
        extra: dict[str, bytes] = {}
        if plan.addons:
            addons = []
            for _, addon in sorted(plan.addons.items()):
                values_file = f"{addon['releaseName']}-values.yaml"
                extra[f"addons/{values_file}"] = (head + dump_yaml(addon["values"])).encode()
                addons.append({**addon, "valuesFile": values_file})
            extra["addons/helmfile.yaml"] = scaffold(
                "helmfile.yaml.j2", header=head, addons=addons, namespace=plan.namespace
            ).encode()
        rendered_all = future.result()
    files = {f"chart/{rel}": data for rel, data in sorted(chart.items())}
    for cluster, rendered in zip(plan.clusters, rendered_all, strict=True):
        resources += rendered
        for rel, data in kind_files(rendered, head).items():
            files[f"manifests/{cluster.name}/{rel}"] = data
    # the README's prerequisites are derived from what was rendered
    prereqs = prerequisites(plan, resources)
    extra["README.md"] = scaffold("README.md.j2", plan=plan, header=head, prereqs=prereqs, **ctx).encode()
    files.update(extra)
    return files, resources


def verify(resources: list[Resource], *, strict: bool = False, readme: str | None = None) -> list[str]:
    """Problems in the rendered resources: cross-references, GKE lints and the operational
    checks always (cheap);
    with ``strict`` also every resource against the pinned upstream schemas and every
    serve config against Ray's own models. Formatted as ``cluster: Kind/name: ...``."""
    from ..check import operational
    from ..check.crossref import check_references

    scopes: dict[str, list[dict[str, Any]]] = {}
    for r in resources:
        scopes.setdefault(r.cluster, []).append(r.obj)
    readmes = dict.fromkeys(scopes, readme) if readme is not None else None
    findings = check_references(scopes) + operational.check_scopes(scopes, readmes)
    problems = [f"{f.scope}: {f.problem.format()}" for f in findings]
    problems += [f"{r.cluster}: {p.format()}" for r in resources for p in operational.check_resource(r.obj)]
    if strict:
        from ..check.ray_serve import ray_available, validate_serve_config
        from ..check.schemas import validate_resource

        for r in resources:
            problems += [f"{r.cluster}: {p.format()}" for p in validate_resource(r.obj)]
            if r.kind == "RayService" and ray_available():
                problems += [
                    f"{r.cluster}: RayService/{r.name}: spec.serveConfigV2.{p}"
                    for p in validate_serve_config(r.obj["spec"]["serveConfigV2"])
                ]
    return problems


def render_spec(spec: Spec, progress: Progress = _quiet) -> tuple[Plan, dict[str, bytes], list[Resource]]:
    plan = build_plan(spec)
    del spec  # the Document (a position for every node) is not needed while rendering
    try:
        files, resources = render_plan(plan, progress)
    except HelmRenderError as exc:
        raise RenderError(f"the Helm engine rejected the generated chart: {exc}") from None
    return plan, files, resources


def render_to_dir(
    spec_path: str | Path, output: str | Path, *, strict: bool = False, progress: Progress = _quiet
) -> RenderResult:
    """Validate, plan, render, verify and atomically write; raises SpecError or
    RenderError, and writes nothing then. ``progress`` is told each stage."""
    progress("validating")
    plan, files, resources = render_spec(load_spec(spec_path), progress)
    progress(f"checking {len(resources)} resources")
    readme = files.get("README.md")
    problems = verify(resources, strict=strict, readme=readme.decode() if readme else None)
    if problems:
        raise RenderError(
            "the rendered output is inconsistent (this is a bug in gen or its "
            "charts; please report it):\n  " + "\n  ".join(problems)
        )
    progress(f"writing {len(files)} files")
    try:
        write_tree(Path(output), files)
    except (OutputError, OSError) as exc:
        raise RenderError(str(exc)) from None
    return RenderResult(len(files), len(resources), [c.name for c in plan.clusters])
