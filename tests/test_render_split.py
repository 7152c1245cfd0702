"""A large fleet's chart rendered in two processes (the ray-llm subchart sliced by model,
generator/render SLICED) gives exactly one Helm render's resources, in the same order
(issue 19)."""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

import helm_python
import pytest

from generator import render
from generator.plan import build_plan
from generator.render import _context, _worker, render_plan
from generator.render.chart import umbrella_files
from generator.render.manifests import Resource, chart_archive, render_chart
from generator.spec import load_spec

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*/models.yaml"))
TWO_MODELS = Path(__file__).resolve().parents[1] / "examples" / "single-cluster-gpu" / "models.yaml"


def _single(plan) -> list[Resource]:  # type: ignore[no-untyped-def]
    """The reference: one Helm render of the whole umbrella chart per cluster."""
    archive = chart_archive(umbrella_files(plan, _context(plan), with_cluster_values=False), plan.fleet)
    out: list[Resource] = []
    for cluster in plan.clusters:
        with helm_python.Chart.load_archive(archive) as chart:
            rendered = render_chart(chart, cluster.values, release=plan.fleet, namespace=plan.namespace)
        out += [replace(r, cluster=cluster.name) for r in rendered]
    return out


@pytest.mark.parametrize("spec", EXAMPLES, ids=lambda p: p.parent.name)
def test_split_render_in_two_processes_is_one_render(spec: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = build_plan(load_spec(spec))
    expected = _single(plan)
    monkeypatch.setattr(render, "PROCESS_MIN_MODELS", 0)
    files, resources = render_plan(plan, worker=_worker.Worker())
    assert resources == expected
    files_here, resources_here = render_plan(plan)  # both halves in this process
    assert resources_here == expected
    assert files_here == files


def test_without_a_second_process_the_render_is_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    plan = build_plan(load_spec(TWO_MODELS))
    assert any(render._sliceable(c.values) for c in plan.clusters)
    expected = _single(plan)
    monkeypatch.setattr(render, "PROCESS_MIN_MODELS", 0)
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    worker = _worker.Worker()
    assert worker.proc is None
    _, resources = render_plan(plan, worker=worker)
    assert resources == expected


def test_helm_errors_from_the_second_process_are_helm_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    plan = build_plan(load_spec(EXAMPLES[0]))
    monkeypatch.setattr(render, "PROCESS_MIN_MODELS", 0)
    # the schemas stay with the engine (else this process finds the bad value first)
    monkeypatch.setattr(render.values_schema, "load", lambda files: None)

    def bad_first(values):  # type: ignore[no-untyped-def]
        models = values["ray-llm"]["models"]
        bad = {**models[0], "name": "Bad_Name"}
        return {**values, "ray-llm": {**values["ray-llm"], "models": [bad, *models, *models]}}

    broken = replace(plan, clusters=[replace(c, values=bad_first(c.values)) for c in plan.clusters])
    assert render._split_point(broken.clusters[0].values) >= 1  # the bad model is the second process's
    with pytest.raises(render.HelmRenderError, match="'/models/0/name': 'Bad_Name' does not match"):
        render_plan(broken, worker=_worker.Worker())


@pytest.mark.parametrize("build", ["render_spec", "validate_spec"])
def test_a_fleet_sliced_between_two_processes_is_one_render(
    build: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bench's synthetic fleets: every GPU and TPU shape, GCS Fuse, download Jobs,
    DRANET, service accounts, several clusters, on both sides of the split."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    import make_specs

    spec = tmp_path / "fleet.yaml"
    spec.write_text(make_specs._dump(getattr(make_specs, build)(24)), encoding="utf-8")
    plan = build_plan(load_spec(spec))
    assert any(render._split_point(c.values) >= 2 for c in plan.clusters)
    expected = _single(plan)
    monkeypatch.setattr(render, "PROCESS_MIN_MODELS", 0)
    files, resources = render_plan(plan, worker=_worker.Worker())
    assert [r.text for r in resources] == [r.text for r in expected]
    assert resources == expected
    assert files == render_plan(plan)[0]


@pytest.mark.parametrize("second_process", [True, False])
def test_each_resource_is_told_once_as_it_is_parsed(
    second_process: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = build_plan(load_spec(TWO_MODELS))
    monkeypatch.setattr(render, "PROCESS_MIN_MODELS", 0)
    told: list[Resource] = []
    worker = _worker.Worker() if second_process else None
    _, resources = render_plan(plan, worker=worker, on_parsed=told.extend)
    assert sorted(map(id, told)) == sorted(map(id, resources))
    assert len(told) == len(resources) > 0


def _environment(worker: _worker.Worker) -> dict[str, str]:
    """The environment the second process was started with (once it has started: until its
    exec, /proc shows the environment this process started with)."""
    assert worker.proc is not None
    for _ in range(500):
        raw = Path(f"/proc/{worker.proc.pid}/environ").read_bytes()
        env = dict(item.split("=", 1) for item in raw.decode().split("\0") if "=" in item)
        if "GEN_RENDER_WORKER_PATH" in env:
            return env
        time.sleep(0.01)
    raise AssertionError("the second process did not start")


@pytest.mark.skipif(
    not Path("/proc/self/environ").exists(), reason="reads the process environment from /proc"
)
def test_the_second_process_tunes_go_collector_unless_the_user_did(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOGC", raising=False)
    monkeypatch.delenv("GOMEMLIMIT", raising=False)
    worker = _worker.Worker()
    try:
        env = _environment(worker)
    finally:
        worker.close()
    assert {k: env.get(k) for k in _worker.GO_ENV} == _worker.GO_ENV
    monkeypatch.setenv("GOGC", "50")
    worker = _worker.Worker()
    try:
        assert _environment(worker)["GOGC"] == "50"
    finally:
        worker.close()


def test_a_worker_that_gets_no_job_exits() -> None:
    worker = _worker.Worker()
    proc = worker.proc
    worker.close()
    assert proc is not None and proc.returncode == 0


def test_a_second_process_that_dies_mid_answer_is_rendered_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parts already received are dropped and the job is rendered in this process."""
    plan = build_plan(load_spec(TWO_MODELS))
    assert any(render._sliceable(c.values) for c in plan.clusters)  # the second process gets a job
    expected = _single(plan)
    dying = (
        "import pickle, sys\n"
        "pickle.load(sys.stdin.buffer)\n"
        "pickle.dump(('part', 'x.yaml', []), sys.stdout.buffer)\n"
        "sys.stdout.buffer.flush()\n"
        "sys.stderr.write('boom')\n"
        "sys.exit(3)\n"
    )
    monkeypatch.setattr(_worker, "BOOTSTRAP", dying)
    monkeypatch.setattr(render, "PROCESS_MIN_MODELS", 0)
    worker = _worker.Worker()
    with pytest.raises(_worker.WorkerUnavailable, match="boom"):
        _worker.Worker().run(("job",))
    _, resources = render_plan(plan, worker=worker)
    assert resources == expected


def _echo_job(mine, receive, factor):  # type: ignore[no-untyped-def]
    """A follow-up job (run in the second process): what it rendered and what it was sent."""
    return [len(mine) * factor, receive(), [r.kind for r in mine[:2]]]


def _failing_job(mine, receive):  # type: ignore[no-untyped-def]
    raise ValueError("broken job")


def _follow_up_worker(monkeypatch: pytest.MonkeyPatch) -> tuple[_worker.Worker, list[Resource]]:
    plan = build_plan(load_spec(TWO_MODELS))
    monkeypatch.setattr(render, "PROCESS_MIN_MODELS", 0)
    worker = _worker.Worker(follow_up=("tests.test_render_split",))
    _, resources = render_plan(plan, worker=worker)
    assert worker.streamed and all(any(r is s for s in resources) for r in worker.streamed)
    return worker, resources


def test_a_follow_up_job_runs_on_what_the_second_process_rendered(monkeypatch: pytest.MonkeyPatch) -> None:
    worker, _ = _follow_up_worker(monkeypatch)
    pending = worker.then(_echo_job, 3)
    assert pending is not None
    pending.send("the readme")
    count, received, kinds = pending.result()
    assert count == 3 * len(worker.streamed)
    assert received == "the readme"
    assert kinds == [r.kind for r in worker.streamed[:2]]
    assert worker.then(_echo_job, 1) is None  # one follow-up
    worker.close()


def test_a_failing_follow_up_job_is_worker_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    worker, _ = _follow_up_worker(monkeypatch)
    pending = worker.then(_failing_job)
    assert pending is not None
    with pytest.raises(_worker.WorkerUnavailable, match="ValueError: broken job"):
        pending.result()
    worker.close()


def test_a_worker_waiting_for_a_follow_up_exits_when_dismissed(monkeypatch: pytest.MonkeyPatch) -> None:
    worker, _ = _follow_up_worker(monkeypatch)
    live = worker._live
    assert live is not None and live.poll() is None  # waiting for then() or close()
    worker.close()
    assert live.returncode == 0


def test_a_follow_up_nobody_reads_is_stopped_by_close(monkeypatch: pytest.MonkeyPatch) -> None:
    worker, _ = _follow_up_worker(monkeypatch)
    pending = worker.then(_echo_job, 1)  # waits for a message that never comes
    assert pending is not None and worker._following is not None
    proc = worker._following
    worker.close()
    assert proc.returncode is not None and proc.returncode != 0


_prepared: list[int] = []  # set in the second process by _prepare


def _prepare(mine):  # type: ignore[no-untyped-def]
    _prepared.append(len(mine))


def _report_prepared(mine, receive):  # type: ignore[no-untyped-def]
    return list(_prepared)


def test_prepare_runs_there_before_the_follow_up(monkeypatch: pytest.MonkeyPatch) -> None:
    plan = build_plan(load_spec(TWO_MODELS))
    monkeypatch.setattr(render, "PROCESS_MIN_MODELS", 0)
    worker = _worker.Worker(
        follow_up=("tests.test_render_split",), prepare=("tests.test_render_split", "_prepare")
    )
    render_plan(plan, worker=worker)
    pending = worker.then(_report_prepared)
    assert pending is not None
    assert pending.result() == [len(worker.streamed)]
    assert _prepared == []  # here, nothing ran it
    worker.close()


def test_values_files_the_second_process_did_not_send_are_dumped_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plan = build_plan(load_spec(TWO_MODELS))
    monkeypatch.setattr(render, "PROCESS_MIN_MODELS", 0)
    expected = render_plan(plan)[0]
    sent: list[str] = []
    run = _worker.Worker.run

    def run_without_dumping(self, args, on_parsed=None, dump=None, on_file=None):  # type: ignore[no-untyped-def]
        sent.extend(rel for rel, _, _ in dump or [])
        return run(self, args, on_parsed, None, on_file)

    monkeypatch.setattr(_worker.Worker, "run", run_without_dumping)
    files, _ = render_plan(plan, worker=_worker.Worker())
    assert sent == [f"values-{c.name}.yaml" for c in plan.clusters], (
        "the second process was asked to dump them"
    )
    assert files == expected
