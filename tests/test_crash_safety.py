"""Crash safety of `gen render -o OUT`: a SIGKILL at any moment leaves OUT complete.

A 300-model fleet is rendered into OUT (the old tree) and a user adds files of their own.
Then, again and again, `gen render` of a 301-model fleet into OUT is started in a child
process and SIGKILLed after a delay. Afterwards OUT must be exactly the complete old tree or
exactly the complete new tree (each compared with a tree rendered separately into a fresh
directory), and the user's files must be the very same files (same bytes, same inodes).

Kill points: spread evenly over the measured duration of a render; one after it has
finished; a few while the child writes files into its staging directory (timed from the
moment that directory appears); and a series timed from the moment the staging manifest is
written, which is when gen carries the user's files over and swaps the directories. The
write phase lasts a few tens of milliseconds, less than the run-to-run jitter, so only such
triggers hit it reliably.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from generator.pipeline import render_to_dir
from generator.render.writer import MANIFEST

from .conftest import ROOT
from .renderutil import snapshot

pytestmark = pytest.mark.slow  # `make test-fast` leaves these to `make test`

N_MODELS = 300
EVEN_KILLS = 4  # at 5%, 35%, 65%, 95% of the measured render time
WRITING_KILLS = 4  # while files are written into the staging directory
SWAP_KILLS_MS = [0, 0.25, 0.5, 1, 2, 4, 8, 16]  # after the staging manifest is written
USER_FILES = {
    "my-notes.txt": b"the user's notes\n",
    "manifests/default/zz-extra.yaml": b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: mine}\n",
    "mine/deep/config.json": b'{"mine": true}\n',
}


def fleet(n: int) -> str:
    """n NVIDIA L4 models shaped like examples/single-cluster-gpu (names <= 47 characters)."""
    lines = [
        "apiVersion: gen.llm-fleet.dev/v1alpha1",
        "kind: ModelFleet",
        "metadata: {name: big-fleet, namespace: default}",
        "gateway: {class: gke-l7-rilb, routing: body}",
        "models:",
    ]
    for i in range(n):
        lines += [
            f"  - name: model-{i:04d}-instruct",
            f"    modelId: org/model-{i:04d}",
            f"    source: hf://org/model-{i:04d}-instruct",
            "    accelerator: {type: nvidia-l4, count: 1}",
            "    replicas: {min: 2, max: 2}",
        ]
    return "\n".join(lines) + "\n"


def with_user_files(tree: dict[str, object]) -> dict[str, object]:
    full = dict(tree)
    for rel, data in USER_FILES.items():
        full[rel] = data
        for parent in Path(rel).parents:
            if str(parent) != ".":
                full[parent.as_posix()] = "dir"
    return full


def staging_dirs(parent: Path, name: str) -> list[Path]:
    return [p for p in parent.iterdir() if p.name.startswith(f".{name}.gen-")]


def start_render(spec: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "generator.cli", "render", str(spec), "-o", str(out), "-q"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_sigkill_leaves_the_old_or_the_new_tree(tmp_path):
    started = time.monotonic()
    big, big2 = tmp_path / "spec" / "models.yaml", tmp_path / "spec2" / "models.yaml"
    for path, n in ((big, N_MODELS), (big2, N_MODELS + 1)):
        path.parent.mkdir()
        path.write_text(fleet(n))

    # reference trees, each rendered into a fresh directory
    render_to_dir(big, tmp_path / "ref-old")
    render_to_dir(big2, tmp_path / "ref-new")
    old, new = snapshot(tmp_path / "ref-old"), snapshot(tmp_path / "ref-new")
    assert old != new
    old_full, new_full = with_user_files(old), with_user_files(new)

    # the user's output directory: the old tree plus files of their own
    pristine = tmp_path / "pristine"
    render_to_dir(big, pristine)
    for rel, data in USER_FILES.items():
        (pristine / rel).parent.mkdir(parents=True, exist_ok=True)
        (pristine / rel).write_bytes(data)
    assert snapshot(pristine) == old_full

    work = tmp_path / "work"
    work.mkdir()
    out = work / "out"

    def reset() -> dict[str, int]:
        shutil.rmtree(out, ignore_errors=True)
        for leftover in staging_dirs(work, "out"):
            shutil.rmtree(leftover)
        shutil.copytree(pristine, out)
        return {rel: os.stat(out / rel).st_ino for rel in USER_FILES}

    def wait_for_staging(proc: subprocess.Popen, manifest: bool = False) -> None:
        """Until the child's staging directory exists (and holds its manifest)."""
        while proc.poll() is None:
            found = staging_dirs(work, "out")
            if found and (not manifest or any((d / MANIFEST).exists() for d in found)):
                return
            time.sleep(0.0002)

    # measure one uninterrupted render of the new fleet over the old tree, and how long it
    # writes files into its staging directory
    reset()
    t0 = time.monotonic()
    proc = start_render(big2, out)
    wait_for_staging(proc)
    t_staging = time.monotonic()
    wait_for_staging(proc, manifest=True)
    writing = time.monotonic() - t_staging
    assert proc.wait(timeout=120) == 0, proc.stderr.read().decode()[-2000:]
    duration = time.monotonic() - t0
    assert snapshot(out) == new_full

    outcomes: list[tuple[str, str, int]] = []  # (kill point, "old"/"new", staging dirs left)

    def check(label: str, inodes: dict[str, int]) -> None:
        state = snapshot(out)
        assert state in (old_full, new_full), (
            f"{label}: OUT is neither the old nor the new tree; differs in "
            f"{sorted(k for k in set(state) | set(new_full) if state.get(k) != new_full.get(k))[:10]}"
        )
        for rel, ino in inodes.items():
            assert os.stat(out / rel).st_ino == ino, f"{label}: {rel} was rewritten"
        outcomes.append((label, "old" if state == old_full else "new", len(staging_dirs(work, "out"))))

    # kill points spread over the render's duration, and one after it finished
    for k in range(EVEN_KILLS + 1):
        inodes = reset()
        proc = start_render(big2, out)
        if k < EVEN_KILLS:
            delay = duration * (0.05 + 0.9 * k / (EVEN_KILLS - 1))
            time.sleep(delay)
            label = f"t={delay:.3f}s"
        else:
            proc.wait(timeout=120)
            label = "after exit"
        proc.send_signal(signal.SIGKILL)  # a no-op once the child has been reaped
        proc.wait(timeout=60)
        check(label, inodes)

    # kill points while the files are written, then around the carry-over and the swap
    points = [(False, writing * k / WRITING_KILLS) for k in range(WRITING_KILLS)]
    points += [(True, ms / 1000) for ms in SWAP_KILLS_MS]
    for after_manifest, offset in points:
        inodes = reset()
        proc = start_render(big2, out)
        wait_for_staging(proc, manifest=after_manifest)
        if offset:
            time.sleep(offset)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        check(f"{'manifest' if after_manifest else 'staging'}+{offset * 1000:.2f}ms", inodes)

    kinds = {state for _, state, _ in outcomes}
    interrupted = sum(1 for _, _, left in outcomes if left)
    elapsed = time.monotonic() - started
    print(
        f"\nrender of {N_MODELS + 1} models: {duration:.2f} s (writing the staging "
        f"directory: {writing * 1000:.0f} ms); {len(outcomes)} kills: "
        f"{sum(s == 'old' for _, s, _ in outcomes)} old, {sum(s == 'new' for _, s, _ in outcomes)} "
        f"new, {interrupted} interrupted mid-write; test {elapsed:.1f} s"
    )
    for label, state, left in outcomes:
        print(f"  {label:>14}: {state}{' (staging left)' if left else ''}")
    assert len(outcomes) >= 10
    assert kinds == {"old", "new"}
    assert interrupted >= 1, "no kill landed in the write phase"

    # after all that, a normal render still works and recovers the new tree
    reset()
    proc = start_render(big2, out)
    assert proc.wait(timeout=120) == 0
    assert snapshot(out) == new_full
