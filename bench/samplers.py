"""The timed functions of bench/run.py, run by pyperf (one benchmark per invocation).

    python bench/samplers.py -o OUT.json --processes 5 --values 1 --warmups 0 --loops 1 \\
        --name NAME --kind KIND --params JSON

pyperf spawns ``--processes`` fresh worker processes (each re-runs this script), takes
``--values`` samples in each and writes every sample with its metadata (machine, load
average, CPU, Python, the command's peak RSS for commands) to OUT.json. In-process
kinds do their set-up and a warm-up outside the timed region on their first call in a
process; commands are timed as whole processes (pyperf's bench_command).
"""

from __future__ import annotations

import gc
import json
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyperf

_ready: dict[str, Any] = {}  # per-process set-up, made on the first call


def _once(key: str, make: Callable[[], Any]) -> Any:
    if key not in _ready:
        _ready[key] = make()
    return _ready[key]


def _render_once(spec: str, work: str) -> None:
    from generator.pipeline import render_to_dir

    out = Path(tempfile.mkdtemp(dir=work))
    try:
        render_to_dir(spec, out / "o")
    finally:
        shutil.rmtree(out, ignore_errors=True)


def render(loops: int, spec: str, warmup: str, work: str) -> float:
    """gen render in-process: generator.pipeline.render_to_dir into a fresh directory."""
    _once("warm", lambda: _render_once(warmup, work))  # imports, compiled schema, caches
    total = 0.0
    for _ in range(loops):
        out = Path(tempfile.mkdtemp(dir=work))
        gc.collect()
        t0 = time.perf_counter()
        from generator.pipeline import render_to_dir

        render_to_dir(spec, out / "o")
        total += time.perf_counter() - t0
        shutil.rmtree(out, ignore_errors=True)
    return total


def _values(chart: str) -> list[dict[str, Any]]:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return [
        yaml.load(p.read_text(encoding="utf-8"), Loader=loader)
        for p in sorted(Path(chart).glob("values-*.yaml"))
    ]


def helm(loops: int, chart: str, release: str, namespace: str) -> float:
    """The Helm engine alone on the chart gen wrote: load it, render each cluster's values."""
    import helm_python

    def once() -> None:
        with helm_python.Chart.load(chart) as loaded:
            for v in values:
                loaded.render(values=v, name=release, namespace=namespace, is_install=True)

    values = _once("values", lambda: _values(chart))
    _once("warm", once)
    total = 0.0
    for _ in range(loops):
        gc.collect()
        t0 = time.perf_counter()
        once()
        total += time.perf_counter() - t0
    return total


def peer(loops: int, chart: str, values: str, releases: int) -> float:
    """The peer's flow: the Helm engine rendering ``releases`` releases of the pinned
    llm-d-modelservice chart, one per model, each with its examples/values-pd.yaml
    (chart loaded once: the cheapest way for the peer)."""
    import helm_python
    import yaml

    peer_values = _once("values", lambda: yaml.safe_load(Path(values).read_text(encoding="utf-8")))
    loaded = _once("chart", lambda: helm_python.Chart.load(chart))
    _once("warm", lambda: loaded.render(values=peer_values, name="warm-up", namespace="default"))
    total = 0.0
    for _ in range(loops):
        gc.collect()
        t0 = time.perf_counter()
        for i in range(releases):
            loaded.render(values=peer_values, name=f"model-{i:05d}", namespace="default", is_install=True)
        total += time.perf_counter() - t0
    return total


def _resources(manifests: str) -> list[dict[str, Any]]:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    docs: list[dict[str, Any]] = []
    for path in sorted(Path(manifests).rglob("*.yaml")):
        if path.name != "kustomization.yaml":
            docs += [d for d in yaml.load_all(path.read_text(encoding="utf-8"), Loader=loader) if d]
    return docs


def schemas(loops: int, manifests: str, warmup_manifests: str) -> float:
    """generator.check.schemas.validate_resource over every resource of one output, the
    schemas compiled first on a different (small) output (cold per-node CEL memos)."""
    from generator.check.schemas import validate_resource

    docs = _once("docs", lambda: _resources(manifests))

    def compile_schemas() -> None:
        for d in {d["kind"]: d for d in _resources(warmup_manifests)}.values():
            validate_resource(d)

    _once("warm", compile_schemas)
    total = 0.0
    for _ in range(loops):
        t0 = time.perf_counter()
        for d in docs:
            validate_resource(d)
        total += time.perf_counter() - t0
    return total


TIMED = {"render": render, "helm": helm, "peer": peer, "schemas": schemas}


def main() -> None:
    def forward(cmd: list[str], args: Any) -> None:
        cmd.extend(["--name", args.name, "--kind", args.kind, "--params", args.params])

    runner = pyperf.Runner(add_cmdline_args=forward)
    runner.argparser.add_argument("--name", required=True)
    runner.argparser.add_argument("--kind", required=True, help="command or " + ", ".join(TIMED))
    runner.argparser.add_argument("--params", required=True, help="JSON: the kind's arguments")
    args = runner.parse_args()
    params = json.loads(args.params)
    if args.kind == "command":
        runner.bench_command(args.name, params["argv"])
    else:
        runner.bench_time_func(args.name, TIMED[args.kind], *params)


if __name__ == "__main__":
    main()
