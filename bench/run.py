"""gen benchmarks: every target of issue 10 as a ratio against a baseline measured in
the same run (the machine is shared and noisy), median of several samples.

    .venv/bin/python bench/run.py            # what `make bench` runs (~5 minutes)
    .venv/bin/python bench/run.py --quick    # 3 samples everywhere, no 10k render samples
    .venv/bin/python bench/run.py --only p2,p4

Writes bench/results/<name>.json per measurement, prints the table and regenerates
bench/README.md. Exit status 0 even when a target fails (the table says so); 2 on usage
errors. Heavy work runs in child processes (``run.py --worker ...``) so every
measurement starts from a clean interpreter and peak memory is per measurement.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import gc
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
SPECS = BENCH / ".specs"
WORK = BENCH / ".out"
BIN = Path(sys.executable).parent
GEN = BIN / "gen"
CHECK_JSONSCHEMA = BIN / "check-jsonschema"
SCHEMA = ROOT / "schemas" / "models.schema.json"
EXAMPLE = ROOT / "examples" / "single-cluster-gpu" / "models.yaml"
GIB = 1024**3

sys.path.insert(0, str(BENCH))
import make_specs  # noqa: E402  (bench/ is not a package)

# --------------------------------------------------------------------------- helpers


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        mem = 0
    return {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu": cpu,
        "memory_bytes": mem,
        "loadavg": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


def git_state() -> dict[str, Any]:
    def run(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=20
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    return {
        "head": run("rev-parse", "--short", "HEAD"),
        "dirty": bool(run("status", "--porcelain", "--", "generator", "charts", "schemas")),
    }


def timed_child(cmd: list[str], timeout: float = 600) -> tuple[float, int, int, str]:
    """(wall seconds, exit code, peak RSS bytes of that child alone, stderr tail)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    wall = time.perf_counter() - start
    # (no per-child RSS here: children whose peak matters go through peak_rss_child)
    return wall, proc.returncode, 0, err.decode(errors="replace")[-2000:]


def peak_rss_child(cmd: list[str], timeout: float = 900) -> tuple[float, int, int, str]:
    """Run ``cmd`` and return (wall, exit code, peak RSS in bytes of that child, stderr tail),
    with os.wait4 so the peak is this child's own (ru_maxrss is KiB on Linux)."""
    with tempfile.TemporaryFile() as errf:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=errf)
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.01)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        errf.seek(0)
        err = errf.read().decode(errors="replace")[-2000:]
    scale = 1 if sys.platform == "darwin" else 1024
    return wall, proc.returncode, usage.ru_maxrss * scale, err


def compile_bytecode() -> None:
    """Write the .pyc files of the venv and of generator/ once, as `pip install` (or any
    first import without PYTHONDONTWRITEBYTECODE) leaves them: without them every new
    process compiles what it imports (Ray alone: ~1 s), which no installed gen pays."""
    import sysconfig

    targets = [sysconfig.get_paths()["purelib"], str(ROOT / "generator")]
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "-j", "0", *targets],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=900,
        check=False,
    )


def worker(kind: str, **params: Any) -> dict[str, Any]:
    """Run ``run.py --worker`` in a fresh interpreter; returns its JSON report."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, json.dumps(params)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"worker {kind} failed (exit {proc.returncode}): {proc.stderr.strip()[-1500:]}")
    report: dict[str, Any] = json.loads(lines[-1])
    return report


# --------------------------------------------------------------------------- workers
# Each runs in its own process and prints one JSON line.


def _render_out(tag: str) -> Path:
    WORK.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{tag}-", dir=WORK))


def _spec_identity(spec: Path) -> tuple[str, str]:
    import yaml

    with open(spec, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    meta = data.get("metadata", {})
    return meta["name"], meta.get("namespace", "default")


def _helm_render_dir(
    chart_dir: Path, clusters: dict[str, dict[str, Any]], release: str, namespace: str
) -> int:
    """The Helm engine alone: load the chart gen wrote, render it once per cluster with
    that cluster's values. Returns the number of non-empty rendered templates."""
    import helm_python

    n = 0
    with helm_python.Chart.load(str(chart_dir)) as chart:
        for values in clusters.values():
            out = chart.render(values=values, name=release, namespace=namespace, is_install=True)
            n += sum(1 for v in out.values() if v.strip())
    return n


def _cluster_values(out: Path) -> dict[str, dict[str, Any]]:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    values = {}
    for path in sorted((out / "chart").glob("values-*.yaml")):
        with open(path, encoding="utf-8") as fh:
            values[path.stem[len("values-") :]] = yaml.load(fh, Loader=loader)
    return values


def w_render(spec: str, samples: int, warmup: str, baseline: bool, keep: bool) -> dict[str, Any]:
    """gen render in-process (generator.pipeline.render_to_dir: load + validate + plan +
    umbrella chart + Helm render + split + atomic write), alternating with the Helm
    engine alone on the chart and values gen produced."""
    from generator.pipeline import render_to_dir

    spec_p = Path(spec)
    if warmup:  # imports, compiled schema, Jinja environment, catalog: paid once per process
        w = _render_out("warmup")
        render_to_dir(warmup, w)
        shutil.rmtree(w, ignore_errors=True)
    release, namespace = _spec_identity(spec_p)
    gen_s: list[float] = []
    helm_s: list[float] = []
    info: dict[str, Any] = {}
    last: Path | None = None
    for _ in range(samples):
        out = _render_out(spec_p.stem)
        gc.collect()  # every sample starts from the same heap: nothing left from the last
        t0 = time.perf_counter()
        result = render_to_dir(spec_p, out)
        gen_s.append(time.perf_counter() - t0)
        info.update(resources=result.resources, files=result.files, clusters=len(result.clusters))
        del result
        if baseline:
            values = _cluster_values(out)  # outside the timed region
            gc.collect()
            t0 = time.perf_counter()
            templates = _helm_render_dir(out / "chart", values, release, namespace)
            helm_s.append(time.perf_counter() - t0)
            info["helm_templates"] = templates
            del values
        if last is not None:
            shutil.rmtree(last, ignore_errors=True)
        last = out
    if last is not None and keep:
        info["output"] = str(last)
    elif last is not None:
        shutil.rmtree(last, ignore_errors=True)
    info["maxrss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"gen": gen_s, "helm": helm_s, "info": info}


def _load_resources(manifests: Path) -> list[dict[str, Any]]:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    docs: list[dict[str, Any]] = []
    for path in sorted(manifests.rglob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        with open(path, encoding="utf-8") as fh:
            docs += [d for d in yaml.load_all(fh, Loader=loader) if isinstance(d, dict)]
    return docs


def _checker() -> Callable[[dict[str, Any]], list[Any]]:
    """generator.check's per-resource entry point (adapts to its current API)."""
    from generator.check import schemas

    fn = getattr(schemas, "validate_resource", None)
    if fn is not None:
        return fn  # type: ignore[no-any-return]  # attribute looked up by name on a module
    many = schemas.validate_resources
    return lambda obj: many([obj])


def w_check(manifests: str, warmup_manifests: str) -> dict[str, Any]:
    """Resources per second of generator.check on one rendered output, in a fresh process.

    Schemas are compiled first on resources of a *different* (small) render, so the
    timed pass pays per-resource work only and starts with cold per-node CEL memos, as a
    `gen check` of a new output would."""
    check = _checker()
    docs = _load_resources(Path(manifests))
    warm = _load_resources(Path(warmup_manifests))
    t0 = time.perf_counter()
    for d in {d["kind"]: d for d in warm}.values():
        check(d)
    compile_s = time.perf_counter() - t0
    problems = 0
    per_kind: dict[str, list[float]] = {}
    t0 = time.perf_counter()
    for d in docs:
        t1 = time.perf_counter()
        if check(d):
            problems += 1
        per_kind.setdefault(d["kind"], []).append(time.perf_counter() - t1)
    elapsed = time.perf_counter() - t0
    t0 = time.perf_counter()
    for d in docs:  # second pass: what the memo makes of repeated content
        check(d)
    second = time.perf_counter() - t0
    return {
        "resources": len(docs),
        "seconds": elapsed,
        "compile_seconds": compile_s,
        "second_pass_seconds": second,
        "invalid": problems,
        "per_kind_rate": {k: round(len(v) / sum(v)) for k, v in sorted(per_kind.items())},
    }


def _peer_render(chart: Any, values: dict[str, Any], releases: int, namespace: str) -> int:
    """The peer's flow: one Helm release of llm-d-modelservice per model, its
    examples/values-pd.yaml each, rendered by the Helm engine (chart loaded once: the
    cheapest way for the peer). Returns the number of non-empty rendered templates."""
    n = 0
    for i in range(releases):
        out = chart.render(values=values, name=f"model-{i:05d}", namespace=namespace, is_install=True)
        n += sum(1 for v in out.values() if v.strip())
    return n


def w_peer(spec: str, samples: int, warmup: str, chart: str, values: str, releases: int) -> dict[str, Any]:
    """gen render of N models (in-process, as P1) alternating with the Helm engine
    rendering N releases of the peer chart."""
    import helm_python
    import yaml

    from generator.pipeline import render_to_dir

    w = _render_out("warmup")
    render_to_dir(warmup, w)
    shutil.rmtree(w, ignore_errors=True)
    with open(values, encoding="utf-8") as fh:
        peer_values = yaml.safe_load(fh)
    gen_s: list[float] = []
    peer_s: list[float] = []
    info: dict[str, Any] = {}
    with helm_python.Chart.load(chart) as loaded:
        _peer_render(loaded, peer_values, 1, "default")  # warm-up
        for _ in range(samples):
            out = _render_out(Path(spec).stem)
            gc.collect()
            t0 = time.perf_counter()
            result = render_to_dir(spec, out)
            gen_s.append(time.perf_counter() - t0)
            info.update(gen_resources=result.resources)
            shutil.rmtree(out, ignore_errors=True)
            gc.collect()
            t0 = time.perf_counter()
            info["peer_templates"] = _peer_render(loaded, peer_values, releases, "default")
            peer_s.append(time.perf_counter() - t0)
    return {"gen": gen_s, "peer": peer_s, "info": info}


def w_check_process(manifests_root: str, samples: int) -> dict[str, Any]:
    """Wall time of whole `gen check DIR` processes (Ray serve-config validation included)."""
    walls = []
    for _ in range(samples):
        wall, code, _, err = timed_child([str(GEN), "check", manifests_root])
        if code != 0:
            raise RuntimeError(f"gen check exited {code}: {err.strip()[-600:]}")
        walls.append(wall)
    return {"walls": walls}


WORKERS = {"render": w_render, "check": w_check, "peer": w_peer, "check_process": w_check_process}


# --------------------------------------------------------------------------- measurements


class Bench:
    def __init__(self, samples: int, big_samples: int, quick: bool) -> None:
        self.samples = samples
        self.big_samples = big_samples
        self.quick = quick
        self.results: list[dict[str, Any]] = []
        self.machine = machine()
        self.git = git_state()
        self.specs: dict[str, Path] = {}
        self.render_1k_output: Path | None = None
        self.render_10_output: Path | None = None
        self.render_1k_gen: list[float] = []
        self.p0_samples = 3 if quick else 5

    # -- bookkeeping
    def record(
        self,
        name: str,
        title: str,
        *,
        unit: str,
        samples: dict[str, list[float]],
        value: float | None,
        target_op: str,
        target: float,
        method: str,
        baseline: str = "",
        info: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> dict[str, Any]:
        ok = None
        if value is not None and error is None and value == value:  # not NaN
            ok = (
                value <= target
                if target_op == "<="
                else (value < target if target_op == "<" else value >= target)
            )
        res = {
            "name": name,
            "title": title,
            "method": method,
            "baseline": baseline,
            "unit": unit,
            "samples": samples,
            "median": {k: median(v) for k, v in samples.items() if v},
            "value": value,
            "target": {"op": target_op, "value": target},
            "pass": bool(ok) if ok is not None else False,
            "error": error,
            "info": info or {},
            "machine": self.machine,
            "git": self.git,
            "loadavg_after": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
            "time": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        }
        self.results.append(res)
        RESULTS.mkdir(parents=True, exist_ok=True)
        tmp = RESULTS / f"{name}.json.tmp"
        tmp.write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
        tmp.replace(RESULTS / f"{name}.json")
        shown = "ERROR" if error else ("pass" if ok else "FAIL")
        print(f"  {name}: {fmt_value(res)} (target {target_op} {fmt_num(target, unit)}) {shown}", flush=True)
        if error:
            print(f"    {error.splitlines()[-1][:300]}", flush=True)
        return res

    def guard(
        self,
        name: str,
        title: str,
        unit: str,
        target_op: str,
        target: float,
        method: str,
        fn: Callable[[], None],
    ) -> None:
        try:
            fn()
        except Exception as exc:  # one broken measurement must not hide the others
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            self.record(
                name,
                title,
                unit=unit,
                samples={},
                value=None,
                target_op=target_op,
                target=target,
                method=method,
                error=detail,
            )

    # -- specs
    def make_specs(self) -> None:
        t0 = time.perf_counter()
        sizes = (10, 100, 1000) if self.quick else (10, 100, 1000, 10000)
        self.specs = make_specs.write_specs(SPECS, sizes, ("body",))
        self.specs.update(
            {
                k: v
                for k, v in make_specs.write_specs(SPECS, (100,), ("header", "path")).items()
                if k.startswith("render-")
            }
        )
        bad = []
        for key, path in sorted(self.specs.items()):
            if key.endswith("-10000"):
                continue  # checked by the measurements themselves (they take seconds)
            proc = subprocess.run(
                [str(GEN), "validate", "-q", str(path)], cwd=ROOT, capture_output=True, text=True
            )
            if proc.returncode != 0:
                bad.append(f"{key}: {proc.stderr.strip().splitlines()[-1:]}")
        print(
            f"specs in {SPECS.relative_to(ROOT)} ({time.perf_counter() - t0:.1f}s)"
            + (f"; NOT VALID: {bad}" if bad else ""),
            flush=True,
        )

    # -- P1
    def p1(self, key: str, samples: int) -> None:
        name = f"p1-render-vs-helm-{key.removeprefix('render-')}"
        title = f"P1 render {key.removeprefix('render-')} models vs Helm engine alone"
        method = (
            "gen: in-process generator.pipeline.render_to_dir(spec, fresh dir) after a "
            "warm-up render of the 10-model spec (imports, caches); baseline: "
            "helm_python.Chart.load(<out>/chart) + Chart.render(values-<cluster>.yaml, "
            "name=<fleet>, namespace=<ns>, is_install=True) per cluster, samples "
            "alternating"
        )

        def run() -> None:
            r = worker(
                "render",
                spec=str(self.specs[key]),
                samples=samples,
                warmup=str(self.specs["render-10"]),
                baseline=True,
                keep=key in ("render-1000", "render-10"),
            )
            ratio = median(r["gen"]) / median(r["helm"])
            if key == "render-1000":
                self.render_1k_gen = r["gen"]
                self.render_1k_output = Path(r["info"]["output"])
            self.record(
                name,
                title,
                unit="x",
                samples={"gen_s": r["gen"], "helm_s": r["helm"]},
                value=ratio,
                target_op="<=",
                target=1.5,
                method=method,
                baseline="Helm engine (helm-python-sdk) render of the same chart+values",
                info=r["info"],
            )

        self.guard(name, title, "x", "<=", 1.5, method, run)

    # -- P2
    def p2(self, label: str, spec: Path) -> None:
        name = f"p2-validate-cold-{label}"
        title = f"P2 gen validate cold start ({label}) vs check-jsonschema"
        method = (
            "wall time of a new process each: `gen validate -q SPEC` vs "
            "`check-jsonschema --schemafile schemas/models.schema.json SPEC`, alternating"
        )

        def run() -> None:
            gen_s, cj_s = [], []
            n = self.samples + 2
            for _ in range(n):
                w, code, _, err = timed_child([str(GEN), "validate", "-q", str(spec)])
                if code != 0:
                    raise RuntimeError(f"gen validate exited {code}: {err.strip()[-300:]}")
                gen_s.append(w)
                w, code, _, err = timed_child([str(CHECK_JSONSCHEMA), "--schemafile", str(SCHEMA), str(spec)])
                if code != 0:
                    raise RuntimeError(f"check-jsonschema exited {code}: {err.strip()[-300:]}")
                cj_s.append(w)
            self.record(
                name,
                title,
                unit="x",
                samples={"gen_s": gen_s, "check_jsonschema_s": cj_s},
                value=median(gen_s) / median(cj_s),
                target_op="<=",
                target=0.5,
                method=method,
                baseline="check-jsonschema 0.39 (same file, same schema)",
                info={"spec": str(spec.relative_to(ROOT))},
            )

        self.guard(name, title, "x", "<=", 0.5, method, run)

    # -- P3 validate
    def p3_validate(self) -> None:
        name, title = "p3-validate-scaling", "P3 gen validate 1000 -> 10000 models"
        method = (
            "cold `gen validate -q` (new process) on the mixed GPU/TPU, 3-cluster specs "
            "validate-1000 and validate-10000, alternating; value = median(10k)/median(1k)"
        )

        def run() -> None:
            small, big, rss = [], [], []
            for _ in range(self.samples):
                for spec, acc in ((self.specs["validate-1000"], small), (self.specs["validate-10000"], big)):
                    w, code, peak, err = peak_rss_child([str(GEN), "validate", "-q", str(spec)])
                    if code != 0:
                        raise RuntimeError(f"gen validate {spec.name} exited {code}: {err.strip()[-300:]}")
                    acc.append(w)
                    if acc is big:
                        rss.append(peak)
            self.record(
                name,
                title,
                unit="x",
                samples={"validate_1000_s": small, "validate_10000_s": big},
                value=median(big) / median(small),
                target_op="<=",
                target=11,
                method=method,
                baseline="the same command at 1000 models",
                info={"peak_rss_10000_bytes": max(rss)},
            )

        self.guard(name, title, "x", "<=", 11, method, run)

    # -- P3 render + peak RSS
    def p3_render(self) -> None:
        name, title = "p3-render-scaling", "P3 gen render 1000 -> 10000 models"
        method = (
            "in-process render_to_dir as in P1 (warm-up render first); value = "
            "median(render-10000)/median(render-1000); the 1000 samples are P1's"
        )

        def run() -> None:
            if not self.render_1k_gen:
                raise RuntimeError("no render-1000 samples (P1 at 1000 models failed)")
            r = worker(
                "render",
                spec=str(self.specs["render-10000"]),
                samples=self.big_samples,
                warmup=str(self.specs["render-10"]),
                baseline=False,
                keep=False,
            )
            self.record(
                name,
                title,
                unit="x",
                samples={"render_1000_s": self.render_1k_gen, "render_10000_s": r["gen"]},
                value=median(r["gen"]) / median(self.render_1k_gen),
                target_op="<=",
                target=11,
                method=method,
                baseline="render of 1000 models",
                info=r["info"],
            )

        self.guard(name, title, "x", "<=", 11, method, run)

    def rss(self) -> None:
        name, title = "rss-render-10000", "Peak RSS of `gen render` 10000 models"
        method = (
            "`gen render SPEC -o DIR` as a child process; peak RSS of that child from "
            "os.wait4() rusage (ru_maxrss)"
        )

        def run() -> None:
            out = _render_out("rss")
            try:
                w, code, peak, err = peak_rss_child(
                    [str(GEN), "render", "-q", str(self.specs["render-10000"]), "-o", str(out / "o")]
                )
            finally:
                shutil.rmtree(out, ignore_errors=True)
            info = {"wall_s": w, "exit_code": code}
            error = None
            if code != 0:
                error = f"gen render exited {code}: {err.strip()[-600:]}"
            self.record(
                name,
                title,
                unit="GiB",
                samples={"peak_rss_bytes": [peak]},
                value=peak / GIB,
                target_op="<",
                target=1.0,
                method=method,
                baseline="absolute target (1 GiB)",
                info=info,
                error=error,
            )

        self.guard(name, title, "GiB", "<", 1.0, method, run)

    # -- P4
    def p4(self) -> None:
        name, title = "p4-check-rate", "P4 (schemas alone) resources/s on the 1000-model output"
        method = (
            "fresh process per sample; schemas compiled on a 10-model render first; "
            "timed: generator.check.schemas.validate_resource over every resource of "
            "the render-1000 output (cold per-node CEL memo)"
        )

        def run() -> None:
            if self.render_1k_output is None:
                raise RuntimeError("no render-1000 output (P1 at 1000 models failed)")
            warm = self.render_10_output or self.render_1k_output
            rates, compile_s, second = [], [], []
            info: dict[str, Any] = {}
            for _ in range(self.samples):
                r = worker(
                    "check",
                    manifests=str(self.render_1k_output / "manifests"),
                    warmup_manifests=str(warm / "manifests"),
                )
                rates.append(r["resources"] / r["seconds"])
                compile_s.append(r["compile_seconds"])
                second.append(r["resources"] / r["second_pass_seconds"])
                info = {
                    "resources": r["resources"],
                    "invalid": r["invalid"],
                    "per_kind_rate_last": r["per_kind_rate"],
                }
            info["compile_s_median"] = median(compile_s)
            info["second_pass_rate_median"] = median(second)
            self.record(
                name,
                title,
                unit="res/s",
                samples={"rate": rates},
                value=median(rates),
                target_op=">=",
                target=2000,
                method=method,
                baseline="absolute target (2000 resources/s)",
                info=info,
            )

        self.guard(name, title, "res/s", ">=", 2000, method, run)

    # -- P0
    def p0(self, n: int) -> None:
        name, title = f"p0-render-vs-peer-{n}", f"P0 gen render {n} models vs peer chart, {n} releases"
        method = (
            f"in-process generator.pipeline.render_to_dir(render-{n}) as in P1 (after a warm-up "
            f"render), alternating with the Helm engine (helm-python-sdk) rendering {n} releases "
            "of the pinned llm-d-modelservice chart (bench/peer/), one per model, each with its "
            "examples/values-pd.yaml (chart loaded once)"
        )

        def run() -> None:
            sys.path.insert(0, str(BENCH / "peer"))
            import peer

            root = peer.ensure(os.environ.get("GEN_BENCH_PEER_GIT_DIR"))
            del root
            r = worker(
                "peer",
                spec=str(self.specs[f"render-{n}"]),
                samples=self.p0_samples,
                warmup=str(self.specs["render-10"]),
                chart=str(peer.CHART),
                values=str(peer.VALUES),
                releases=n,
            )
            self.record(
                name,
                title,
                unit="x",
                samples={"gen_s": r["gen"], "peer_s": r["peer"]},
                value=median(r["gen"]) / median(r["peer"]),
                target_op="<=",
                target=0.10,
                method=method,
                baseline=f"llm-d-modelservice @ {peer.COMMIT[:12]} ({peer.REPO}), Helm engine, {n} releases",
                info={**r["info"], "peer_commit": peer.COMMIT},
            )

        self.guard(name, title, "x", "<=", 0.10, method, run)

    # -- P4, whole process
    def p4_process(self) -> None:
        name, title = "p4-check-process", "P4 `gen check` whole process on the 1000-model output"
        method = (
            "wall time of `gen check DIR` as a new process (load, schemas, CEL, cross-references, "
            "operational checks, Ray serve-config validation, report) on the render-1000 "
            "output; value = resources / median wall"
        )

        def run() -> None:
            if self.render_1k_output is None:
                raise RuntimeError("no render-1000 output (P1 at 1000 models failed)")
            resources = sum(
                1
                for path in (self.render_1k_output / "manifests").rglob("*.yaml")
                if path.name != "kustomization.yaml"
                for line in path.read_text(encoding="utf-8").splitlines()
                if line.startswith("kind: ")
            )
            r = worker("check_process", manifests_root=str(self.render_1k_output), samples=self.samples)
            self.record(
                name,
                title,
                unit="res/s",
                samples={"wall_s": r["walls"]},
                value=resources / median(r["walls"]),
                target_op=">=",
                target=2000,
                method=method,
                baseline="absolute target (2000 resources/s)",
                info={"resources": resources},
            )

        self.guard(name, title, "res/s", ">=", 2000, method, run)

    # -- all
    def run(self, only: set[str]) -> None:
        def want(p: str) -> bool:
            return not only or p in only

        self.make_specs()
        if want("p1") or want("p3") or want("p4") or want("p0"):
            print("P1/P3/P4 render", flush=True)
            self.p1("render-10", self.samples)
            self.render_10_output = self._kept("p1-render-vs-helm-10")
            for key in ("render-100", "render-header-100", "render-path-100", "render-1000"):
                if want("p1") or key == "render-1000":
                    self.p1(key, self.samples)
        if want("p2"):
            print("P2 validate cold start", flush=True)
            self.p2("example", EXAMPLE)
            self.p2("1000", self.specs["validate-1000"])
        if want("p3") and not self.quick:
            print("P3 scaling", flush=True)
            self.p3_validate()
            self.p3_render()
        if want("p4"):
            print("P4 check", flush=True)
            self.p4()
            self.p4_process()
        if want("p0"):
            print("P0 peer chart", flush=True)
            self.p0(1000)
        if want("rss") and not self.quick:
            print("Peak RSS", flush=True)
            self.rss()
        for p in (self.render_1k_output, self.render_10_output):
            if p is not None:
                shutil.rmtree(p, ignore_errors=True)

    def _kept(self, name: str) -> Path | None:
        for r in self.results:
            if r["name"] == name and r["info"].get("output"):
                return Path(r["info"]["output"])
        return None


# --------------------------------------------------------------------------- reporting


def fmt_num(v: float | None, unit: str) -> str:
    if v is None or v != v:
        return "-"
    if unit == "x":
        return f"{v:.2f}x"
    if unit == "res/s":
        return f"{v:,.0f}/s"
    if unit == "GiB":
        return f"{v:.2f} GiB"
    return f"{v:.3g} {unit}"


def fmt_value(r: dict[str, Any]) -> str:
    return fmt_num(r["value"], r["unit"])


def _medians(r: dict[str, Any]) -> str:
    parts = []
    for k, v in r["median"].items():
        if k.endswith("_s"):
            parts.append(f"{k[:-2]} {v:.3f}s (n={len(r['samples'][k])})")
        elif k == "peak_rss_bytes":
            parts.append(f"{v / 2**20:,.0f} MiB")
        elif k == "rate":
            parts.append(f"n={len(r['samples'][k])}")
    return "; ".join(parts)


def table(results: list[dict[str, Any]]) -> str:
    rows = ["| measurement | value | target | result | medians / notes |", "|---|---|---|---|---|"]
    for r in results:
        status = "**ERROR**" if r["error"] else ("pass" if r["pass"] else "**FAIL**")
        notes = _medians(r)
        if r["error"]:
            last = r["error"].strip().splitlines()[-1].replace("|", "/")
            notes = "; ".join(x for x in (notes, last[:160]) if x)
        rows.append(
            f"| {r['title']} | {fmt_value(r)} | {r['target']['op']} "
            f"{fmt_num(r['target']['value'], r['unit'])} | {status} | {notes} |"
        )
    return "\n".join(rows)


README = """# bench/ — performance benchmarks (issues 10 and 19)

{targets}

## Latest results

{stamp}

{table}

## Running

```sh
make bench                                   # = .venv/bin/python bench/run.py  (~8 min on 2 shared cores)
.venv/bin/python bench/run.py --quick        # 3 samples, no 10k render/RSS (~3 min)
.venv/bin/python bench/run.py --only p0,p4   # a subset: p0 p1 p2 p3 p4 rss
.venv/bin/python bench/run.py --readme-only  # rewrite this file from bench/results/*.json
.venv/bin/python bench/make_specs.py         # just write the synthetic specs
.venv/bin/python bench/profiling.py          # cProfile (+ py-spy if installed) of the slow paths
.venv/bin/python bench/peer/peer.py          # fetch the pinned peer chart of P0 (bench/peer/README.md)
```

Synthetic specs (`bench/make_specs.py`, deterministic, written to `bench/.specs/`, never
committed): `render-N.yaml` for N = 10, 100, 1000, 10000 (one implicit cluster, every NVIDIA
GPU type and valid count of the catalog, body routing; `render-header-100`, `render-path-100`
for the other routings), and `validate-N.yaml` (three clusters behind a multi-cluster gateway,
mixed GPU and every TPU type/topology, GCS Fuse, DRANET, multiplexing, objectives: the
whole validated surface; rendered by P3/RSS only through the `render-N` specs).

Every number is a ratio against a baseline measured in the same run, samples alternating,
median of {samples} (the 10000-model cases: {big} samples; P0: {p0} samples). Raw samples,
machine info and method per measurement: `bench/results/<name>.json`. Before measuring,
run.py writes the .pyc files of the venv and of generator/ (`compileall`): this machine sets
PYTHONDONTWRITEBYTECODE, so without them every new process compiled what it imported (Ray
alone ~1 s), which no installed gen pays.

{issue19}
"""


# What issue 19's changes bought, measured: kept in its own file (markdown tables are wide)
ISSUE19 = (BENCH / "issue19.md").read_text(encoding="utf-8")

# The targets table of bench/README.md: (id, what, baseline, target).
TARGETS = [
    (
        "P0",
        "`gen render` of 1000 models, in-process as P1",
        "the peer's flow: the Helm engine rendering 1000 releases of the llm-d-modelservice chart "
        "(pinned, `bench/peer/`), one per model, its `examples/values-pd.yaml`",
        "<= 0.10x",
    ),
    (
        "P1",
        "`gen render` end to end, in-process `generator.pipeline.render_to_dir` "
        "(after one warm-up render; interpreter start not included)",
        "Helm engine alone: `helm_python.Chart.load(out/chart)` + `Chart.render(values-<cluster>.yaml)`",
        "<= 1.5x",
    ),
    (
        "P2",
        "`gen validate -q` cold start (new process)",
        "`check-jsonschema --schemafile schemas/models.schema.json` (new process)",
        "<= 0.5x",
    ),
    (
        "P3",
        "validate (cold process) and render (in-process) at 10000 models",
        "the same at 1000 models",
        "<= 11x",
    ),
    (
        "P4",
        "`gen check DIR` as a whole process (Ray serve-config validation included) on the 1000-model output",
        "absolute",
        ">= 2000/s",
    ),
    (
        "P4 (schemas)",
        "`generator.check.schemas.validate_resource` on every resource of the 1000-model output, "
        "fresh process per sample, schemas compiled beforehand",
        "absolute",
        ">= 2000/s",
    ),
    (
        "RSS",
        "peak RSS of the `gen render` child process, 10000 models (os.wait4 rusage: the largest of "
        "that process and its children; the second render process of large fleets peaks "
        "separately, see below)",
        "absolute",
        "< 1 GiB",
    ),
]


def targets_table() -> str:
    rows = ["| id | what | baseline | target |", "|---|---|---|---|"]
    rows += ["| " + " | ".join(row) + " |" for row in TARGETS]
    return "\n".join(rows)


ORDER = [
    "p0-render-vs-peer-1000",
    "p1-render-vs-helm-10",
    "p1-render-vs-helm-100",
    "p1-render-vs-helm-header-100",
    "p1-render-vs-helm-path-100",
    "p1-render-vs-helm-1000",
    "p2-validate-cold-example",
    "p2-validate-cold-1000",
    "p3-validate-scaling",
    "p3-render-scaling",
    "p4-check-process",
    "p4-check-rate",
    "rss-render-10000",
]


def saved_results() -> list[dict[str, Any]]:
    """bench/results/*.json in table order (for --readme-only)."""
    found = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in RESULTS.glob("*.json")}
    return [found[n] for n in ORDER if n in found] + [found[n] for n in sorted(found) if n not in ORDER]


def write_readme(results: list[dict[str, Any]], samples: int, big: int, started: float | None) -> None:
    m = results[0]["machine"] if results else machine()
    git = results[0]["git"] if results else git_state()
    when = results[-1]["time"].replace("T", " ")[:16] if results else ""
    load = results[-1].get("loadavg_after") if results else None
    stamp = (
        f"Run {when} UTC, git {git['head']}{' (+ uncommitted changes)' if git['dirty'] else ''}, "
        f"{m['nproc']} CPUs ({m['cpu'] or 'unknown CPU'}), Python {m['python']}"
        + (f", load average at the end {load[0]:.1f}" if load else "")
        + (f", whole run {time.time() - started:.0f}s" if started else "")
        + ". "
        "The machine is shared: absolute times vary by 2x between runs, the ratios less."
    )
    text = README.format(
        samples=samples,
        big=big,
        p0=3 if samples <= 3 else 5,
        targets=targets_table(),
        stamp=stamp,
        table=table(results),
        issue19=ISSUE19.strip(),
    )
    (BENCH / "README.md").write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="gen benchmarks (issue 10)")
    ap.add_argument("--worker", nargs=2, metavar=("KIND", "JSON"), help=argparse.SUPPRESS)
    ap.add_argument("--samples", type=int, default=5, help="samples per measurement (default 5)")
    ap.add_argument(
        "--big-samples", type=int, default=3, help="samples of the 10000-model cases (default 3: time budget)"
    )
    ap.add_argument("--quick", action="store_true", help="3 samples, skip the 10000-model cases")
    ap.add_argument("--only", default="", help="comma-separated subset of p0,p1,p2,p3,p4,rss")
    ap.add_argument("--no-readme", action="store_true", help="do not rewrite bench/README.md")
    ap.add_argument(
        "--readme-only",
        action="store_true",
        help="rewrite bench/README.md from bench/results/*.json, measure nothing",
    )
    args = ap.parse_args(argv)
    if args.readme_only:
        saved = saved_results()
        write_readme(saved, max(args.samples, 1), max(args.big_samples, 1), None)
        print(table(saved))
        return 0

    if args.worker:
        kind, params = args.worker
        print(json.dumps(WORKERS[kind](**json.loads(params))))
        return 0

    only = {s.strip() for s in args.only.split(",") if s.strip()}
    unknown = only - {"p0", "p1", "p2", "p3", "p4", "rss"}
    if unknown:
        ap.error(f"unknown measurement(s): {', '.join(sorted(unknown))}")
    samples = 3 if args.quick else max(args.samples, 1)
    big = max(args.big_samples, 1)
    started = time.time()
    compile_bytecode()
    bench = Bench(samples, big, args.quick)
    m = bench.machine
    print(
        f"gen bench: {m['nproc']} CPUs, Python {m['python']}, git {bench.git['head']}"
        f"{' (dirty)' if bench.git['dirty'] else ''}; {samples} samples "
        f"({big} for 10k)",
        flush=True,
    )
    bench.run(only)
    print()
    print(table(bench.results))
    print(
        f"\n{sum(r['pass'] for r in bench.results)}/{len(bench.results)} targets met; "
        f"{time.time() - started:.0f}s; results in {RESULTS.relative_to(ROOT)}/"
    )
    if not args.no_readme and not only:
        write_readme(bench.results, samples, big, started)
    shutil.rmtree(WORK, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
