"""`gen render`: spec -> umbrella chart, raw manifests per cluster and add-ons."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future
from pathlib import Path
from typing import Any

from .. import catalog
from ..plan import SUBCHARTS, Plan, build_plan
from ..spec import Spec
from . import values_schema
from .chart import (
    diagram,
    dump_values_file,
    dump_yaml,
    header,
    scaffold,
    umbrella_files,
    values_files,
)
from .manifests import HelmRenderError, Resource, by_template, chart_archive, iter_templates, kind_files
from .prerequisites import prerequisites


class RenderError(Exception):
    """Rendering failed for a reason other than an invalid spec."""


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
# Told each batch of Resources as soon as it is parsed (or received from the second
# process), from whichever thread has it, in no particular order: per-resource work done
# there overlaps the rest of the render (render_to_dir's early checks).
OnParsed = Callable[[list[Resource]], None]
OnFiles = Callable[[dict[str, bytes]], None]  # told output files (relative path -> bytes)


def quiet(_: object) -> None:
    return None


# A render is cut into chunks, each a Helm render of some subcharts for some models: the
# Helm engine (Go, called without the GIL) renders one chunk while Python parses another.
# The engine serializes renders within one process (measured: two threads render no
# faster than one), so a large fleet's chunks are shared with a second process: it renders
# the ray-llm subchart (the RayServices, most of the cost) for the first WORKER_SHARE of
# the models, this process the rest. Every ray-llm template is one `range` over
# .Values.models emitting each model's documents from that model alone, so a template
# rendered for consecutive slices of the models gives, concatenated, what it gives for
# all of them; each template's documents are put back in slice order.
# tests/test_render_split.py checks the result is one render's, document for document.
SLICED = "ray-llm"
PROCESS_MIN_MODELS = 300  # below this a second process costs more than it saves (~0.2 s start)
WORKER_SHARE = 0.72  # of the sliced models: balances the two processes (bench/issue19.md)

Chunk = tuple[dict[str, Any], tuple[str, ...]]  # values, the subcharts it renders
_Job = Future[dict[str, list[Resource]]]


# a chunk's render: archive, values, group (the subcharts it renders), fleet, namespace, cluster
GroupArgs = tuple[bytes, dict[str, Any], tuple[str, ...], str, str, str]


def render_group(args: GroupArgs, on_parsed: OnParsed | None = None) -> dict[str, list[Resource]]:
    """Render the subcharts of the group (the others disabled) for the cluster and parse
    the documents (iter_group's arguments)."""
    parts = iter_group(*args)
    if on_parsed is None:
        return by_template(parts)
    return by_template(_told(parts, on_parsed))


def _told(
    parts: Iterable[tuple[str, list[Resource]]], on_parsed: OnParsed
) -> Iterator[tuple[str, list[Resource]]]:
    for template, docs in parts:
        on_parsed(docs)
        yield template, docs


def iter_group(
    archive: bytes,
    values: dict[str, Any],
    group: tuple[str, ...],
    fleet: str,
    namespace: str,
    cluster: str,
    batch: int = 0,
) -> Iterator[tuple[str, list[Resource]]]:
    """render_group's parts as they come (manifests.iter_templates)."""
    import helm_python

    # a disabled subchart gets nothing else: its section would only be serialized, sent to
    # the engine and parsed there for nothing (all models' for a large fleet)
    values = {
        **values,
        **{sub: {"enabled": False} for sub in SUBCHARTS if sub in values and sub not in group},
    }
    # a fresh load per render: rendering drops subcharts whose condition is false from the
    # loaded chart object, which would leak into the next render
    try:
        loaded = helm_python.Chart.load_archive(archive)
    except helm_python.HelmError as exc:  # e.g. a chart file over Helm's 5 MiB limit
        raise HelmRenderError(str(exc)) from None
    with loaded:
        yield from iter_templates(
            loaded, values, release=fleet, namespace=namespace, cluster=cluster, batch=batch
        )


def _render_elsewhere(
    worker: Any, on_parsed: OnParsed | None, args: GroupArgs, plan: Plan, dumped: dict[str, bytes]
) -> dict[str, list[Resource]]:
    """render_group(*args) in the second process (the calling thread waits, without the
    GIL); in this one when the second process cannot run. The second process also dumps
    the plan's values files (into ``dumped``) while its engine renders."""
    from . import _worker

    try:
        status, answer = worker.run(args, on_parsed, values_files(plan), dumped.__setitem__)
    except _worker.WorkerUnavailable:
        return render_group(args, on_parsed)
    if status == "helm":
        raise HelmRenderError(answer)
    result: dict[str, list[Resource]] = answer
    return result


def _enabled(values: dict[str, Any], sub: str) -> bool:
    section = values.get(sub)
    return not isinstance(section, dict) or section.get("enabled", True) is not False


def _sliceable(values: dict[str, Any]) -> int:
    """How many models the ray-llm section has to slice (0: render it whole)."""
    section = values.get(SLICED)
    if not isinstance(section, dict) or not _enabled(values, SLICED):
        return 0
    models = section.get("models")
    return len(models) if isinstance(models, list) and len(models) >= 2 else 0


def _split_point(values: dict[str, Any]) -> int:
    """How many of the cluster's models the second process renders (0: no split)."""
    n = _sliceable(values)
    return min(n - 1, max(1, round(n * WORKER_SHARE))) if n else 0


def _sliced(values: dict[str, Any], start: int, stop: int | None) -> Chunk:
    section = values[SLICED]
    others = {sub: {"enabled": False} for sub in SUBCHARTS if sub in values and sub != SLICED}
    return {**values, **others, SLICED: {**section, "models": section["models"][start:stop]}}, (SLICED,)


def _chunks(values: dict[str, Any], with_worker: bool) -> tuple[list[Chunk], list[Chunk]]:
    """A cluster's chunks: (for the second process, for this one), in document order."""
    if not _sliceable(values):
        return [], [(values, tuple(SUBCHARTS))]
    others = tuple(sub for sub in SUBCHARTS if sub != SLICED)
    rest = [(values, others)] if any(_enabled(values, sub) for sub in others) else []
    if not with_worker:
        return [], [(values, (SLICED,)), *rest]
    k = _split_point(values)
    return [_sliced(values, 0, k)], [_sliced(values, k, None), *rest]


def _submit_renders(
    pool: Executor,
    worker: Any,
    archive: bytes,
    plan: Plan,
    on_parsed: OnParsed | None,
    dumped: dict[str, bytes],
) -> tuple[list[list[_Job]], bool]:
    """Each cluster's chunks as futures, in document order, and whether the second process
    has a chunk: the first WORKER_SHARE of the largest cluster's models, and the values
    files to dump (into ``dumped``: chart/ path -> bytes) while its engine renders."""
    split = -1
    if worker is not None:
        sizes = [_sliceable(c.values) for c in plan.clusters]
        split = max(range(len(sizes)), key=lambda i: sizes[i]) if any(sizes) else -1
    jobs: list[list[_Job]] = []
    for n, cluster in enumerate(plan.clusters):
        there, here = _chunks(cluster.values, n == split)
        where = (plan.fleet, plan.namespace, cluster.name)
        elsewhere = [(archive, *c, *where) for c in there]
        jobs.append(
            [pool.submit(_render_elsewhere, worker, on_parsed, args, plan, dumped) for args in elsewhere]
            + [pool.submit(render_group, (archive, *c, *where), on_parsed) for c in here]
        )
    return jobs, split >= 0


def _collect(plan: Plan, jobs: list[list[_Job]], progress: Progress) -> list[list[Resource]]:
    out = []
    for n, (cluster, row) in enumerate(zip(plan.clusters, jobs, strict=True), 1):
        progress(f"rendering cluster {cluster.name} ({n}/{len(plan.clusters)})")
        merged = by_template(part for future in row for part in future.result().items())
        out.append([r for t in sorted(merged) for r in merged[t]])
    return out


def _dump_missing(plan: Plan, dumped: dict[str, bytes]) -> None:
    """Dump into ``dumped`` each values file of the plan it does not hold yet (all of them
    when no second process dumped any)."""
    for rel, head_lines, values in values_files(plan):
        if rel not in dumped:
            dumped[rel] = dump_values_file(head_lines, values)


def start_worker(
    spec_path: str | Path, follow_up: tuple[str, ...] | None = None, prepare: tuple[str, str] | None = None
) -> Any:
    """A second render process for a spec that looks large (PROCESS_MIN_MODELS is checked
    again on the plan); None otherwise. Started before planning, so its start-up overlaps.
    ``follow_up``: the modules of a job it gets after rendering (_worker.Worker.then),
    ``prepare``: what it runs before that job arrives (_worker.Worker)."""
    from . import _worker

    try:
        large = Path(spec_path).stat().st_size >= PROCESS_MIN_MODELS * 150  # ~150 bytes a model at least
    except OSError:
        return None
    return _worker.Worker(follow_up, prepare) if large and (os.cpu_count() or 1) > 1 else None


def render_plan(
    plan: Plan,
    progress: Progress = quiet,
    worker: Any = None,
    on_parsed: OnParsed | None = None,
    on_rendered: OnParsed | None = None,
    on_files: OnFiles | None = None,
) -> tuple[dict[str, bytes], list[Resource]]:
    """Every output file (relative path -> bytes) and every rendered resource; ``worker``
    (start_worker) renders half the chart of a large fleet in a second process;
    ``on_parsed`` is told every resource once, as soon as it is parsed (OnParsed),
    ``on_rendered`` all of them in order once they are, before the README is written, and
    ``on_files`` each output file once, as soon as it is made (the chart's while the
    engine renders)."""
    from concurrent.futures import ThreadPoolExecutor

    ctx = _context(plan)
    chart = umbrella_files(plan, ctx, with_cluster_values=False)  # what Helm loads
    # the values are checked against the charts' schemas here while the engine renders
    # without them (values_schema: Helm compiles each schema anew on every render)
    checked = values_schema.load(chart)
    archive = chart_archive(values_schema.without_schemas(chart) if checked else chart, plan.fleet)
    head = header(plan.spec_name)
    resources: list[Resource] = []
    # The Helm engine renders in a thread (Go, via ctypes: the GIL is released) and, for a
    # large fleet, in a second process as well (see SLICED), while this thread checks the
    # values and writes values-<cluster>.yaml (the second process does, when there is one)
    # and the add-ons.
    if worker is not None and len(plan.models) < PROCESS_MIN_MODELS:
        worker.close()
        worker = None
    emit = on_files or quiet
    # values-<cluster>.yaml: YAML of every model, dumped by the second process when there
    # is one (it has the time while its engine renders; this one parses), else here
    dumped: dict[str, bytes] = {}
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="helm") as pool:
        jobs, there = _submit_renders(pool, worker, archive, plan, on_parsed, dumped)
        try:
            for cluster in plan.clusters:
                problem = values_schema.problems(checked, cluster.values) if checked else None
                if problem is not None:
                    raise HelmRenderError(f"values-{cluster.name}.yaml: {problem}")
            emit({f"chart/{rel}": data for rel, data in chart.items()})
            if not there:
                _dump_missing(plan, dumped)
                emit({f"chart/{rel}": data for rel, data in dumped.items()})
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
                emit(extra)
            rendered_all = _collect(plan, jobs, progress)
            if there:  # what the second process did not dump (it failed) is dumped here
                _dump_missing(plan, dumped)
                emit({f"chart/{rel}": data for rel, data in dumped.items()})
            chart.update(dumped)
        except BaseException:
            for row in jobs:
                for future in row:
                    future.cancel()
            raise
    files = {f"chart/{rel}": data for rel, data in sorted(chart.items())}
    for rendered in rendered_all:
        resources += rendered
    if on_rendered is not None:
        on_rendered(resources)
    for cluster, rendered in zip(plan.clusters, rendered_all, strict=True):
        manifests = {
            f"manifests/{cluster.name}/{rel}": data for rel, data in kind_files(rendered, head).items()
        }
        emit(manifests)
        files.update(manifests)
    # the README's prerequisites are derived from what was rendered
    prereqs = prerequisites(plan, resources)
    fleet_diagram = diagram("diagram-fleet.md.j2", plan, **ctx) if plan.multi_cluster else ""
    readme = {
        "README.md": scaffold(
            "README.md.j2", plan=plan, header=head, prereqs=prereqs, fleet_diagram=fleet_diagram, **ctx
        ).encode()
    }
    emit(readme)
    files.update(extra)
    files.update(readme)
    return files, resources


def render_spec(
    spec: Spec,
    progress: Progress = quiet,
    worker: Any = None,
    on_parsed: OnParsed | None = None,
    on_rendered: OnParsed | None = None,
    on_files: OnFiles | None = None,
) -> tuple[Plan, dict[str, bytes], list[Resource]]:
    plan = build_plan(spec)
    del spec  # the Document (a position for every node) is not needed while rendering
    try:
        files, resources = render_plan(plan, progress, worker, on_parsed, on_rendered, on_files)
    except HelmRenderError as exc:
        raise RenderError(f"the Helm engine rejected the generated chart: {exc}") from None
    return plan, files, resources
