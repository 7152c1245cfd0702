"""Profile gen's slow paths: cProfile always, py-spy (sampling, wall clock) when installed.

    .venv/bin/python bench/profiling.py                  # validate-10000 render-1000 render-10000 check-1000
    .venv/bin/python bench/profiling.py render-1000      # one target
    .venv/bin/python bench/profiling.py --no-pyspy ...

Writes bench/.prof/<target>.prof (pstats), <target>.txt (top functions by cumulative
and own time) and, with py-spy, <target>.pyspy.txt (raw collapsed stacks) plus a summary
of where the wall time goes (inclusive, self, and the deepest generator/ line).
Specs come from bench/make_specs.py (bench/.specs/).
"""

from __future__ import annotations

import argparse
import collections
import io
import os
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PROF = BENCH / ".prof"
SPECS = BENCH / ".specs"
sys.path.insert(0, str(BENCH))
import make_specs  # noqa: E402 - importable only after bench/ is put on sys.path above

TARGETS = ("validate-10000", "render-1000", "render-10000", "check-1000")


def _spec(name: str) -> Path:
    n = int(name.rsplit("-", 1)[1])
    key = f"{'validate' if name.startswith('validate') else 'render'}-{n}"
    return make_specs.write_specs(SPECS, (n,), ("body",))[key]


def _child_code(target: str, tmp: str) -> str:
    """Python source that performs ``target`` once (what both profilers run)."""
    if target.startswith("validate"):
        return (
            "import sys; from generator.cli import main\n"
            f"sys.argv = ['gen', 'validate', '-q', {str(_spec(target))!r}]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
        )
    if target.startswith("render"):
        return (
            "from generator.pipeline import render_to_dir\n"
            f"render_to_dir({str(_spec(target))!r}, {tmp + '/out'!r})\n"
        )
    if target.startswith("check"):
        n = int(target.rsplit("-", 1)[1])
        spec = make_specs.write_specs(SPECS, (n,), ("body",))[f"render-{n}"]
        return (
            "import yaml, pathlib\n"
            "from generator.pipeline import render_to_dir\n"
            "from generator.check.schemas import validate_resource\n"
            f"render_to_dir({str(spec)!r}, {tmp + '/out'!r})\n"
            "docs = []\n"
            f"for p in sorted(pathlib.Path({tmp + '/out/manifests'!r}).rglob('*.yaml')):\n"
            "    if p.name != 'kustomization.yaml':\n"
            "        docs += [d for d in yaml.load_all(p.read_text(), Loader=yaml.CSafeLoader) if d]\n"
            "import cProfile as _c\n"
            "for d in {d['kind']: d for d in docs}.values():\n"
            "    validate_resource(d)\n"
            "__PROFILE_FROM_HERE__\n"
            "for d in docs:\n"
            "    validate_resource(d)\n"
        )
    raise SystemExit(f"unknown target {target!r}; known: {', '.join(TARGETS)}")


def run_cprofile(target: str) -> str:
    tmp = tempfile.mkdtemp(prefix="prof-", dir=str(BENCH))
    try:
        code = _child_code(target, tmp)
        setup, _, measured = code.partition("__PROFILE_FROM_HERE__\n")
        if not measured:
            setup, measured = "", code
        prof_path = PROF / f"{target}.prof"
        runner = (
            "import cProfile, sys\n"
            f"exec(compile({setup!r}, 'setup', 'exec'), globals())\n"
            "pr = cProfile.Profile(); pr.enable()\n"
            f"exec(compile({measured!r}, 'measured', 'exec'), globals())\n"
            f"pr.disable(); pr.dump_stats({str(prof_path)!r})\n"
        )
        subprocess.run([sys.executable, "-c", runner], cwd=ROOT, check=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out = io.StringIO()
    stats = pstats.Stats(str(prof_path), stream=out)
    stats.strip_dirs()
    out.write(f"=== {target}: cumulative\n")
    stats.sort_stats("cumulative").print_stats(35)
    out.write(f"=== {target}: own time\n")
    stats.sort_stats("tottime").print_stats(25)
    text = out.getvalue()
    (PROF / f"{target}.txt").write_text(text, encoding="utf-8")
    return text


def _short(frame: str, with_line: bool = False) -> str:
    m = re.match(r"(.*) \((.*?):(\d+)\)$", frame)
    if not m:
        return frame or "<native / interpreter>"
    fn, path, line = m.groups()
    path = re.sub(r".*/site-packages/", "", path)
    path = re.sub(r".*/lib/python3\.\d+/", "stdlib/", path)
    path = path.replace(str(ROOT) + "/", "")
    return f"{path}:{fn}" + (f":{line}" if with_line else "")


def summarize_pyspy(raw: Path, top: int = 25) -> str:
    incl: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    deepest: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text(encoding="utf-8").splitlines():
        stack, _, n_s = line.rpartition(" ")
        if not n_s.isdigit():
            continue
        n = int(n_s)
        total += n
        frames = stack.split(";")
        seen = set()
        for f in frames:
            k = _short(f)
            if k not in seen:
                incl[k] += n
                seen.add(k)
        own[_short(frames[-1])] += n
        for f in reversed(frames):
            k = _short(f, True)
            if k.startswith("generator/") or "/generator/" in k:
                deepest[k] += n
                break
    out = [f"py-spy samples: {total}"]
    for title, counter in (("inclusive", incl), ("self", own), ("deepest generator/ line", deepest)):
        out.append(f"--- {title}")
        out += [f"{v / total * 100:5.1f}%  {k}" for k, v in counter.most_common(top)]
    return "\n".join(out) + "\n"


def run_pyspy(target: str, pyspy: str) -> str | None:
    tmp = tempfile.mkdtemp(prefix="prof-", dir=str(BENCH))
    raw = PROF / f"{target}.pyspy.txt"
    try:
        code = _child_code(target, tmp).replace("__PROFILE_FROM_HERE__\n", "")
        proc = subprocess.run(
            [pyspy, "record", "-r", "250", "-f", "raw", "-o", str(raw), "--", sys.executable, "-c", code],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0 or not raw.is_file():
            print(f"py-spy failed for {target}: {proc.stderr.strip()[-400:]}", file=sys.stderr)
            return None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    text = summarize_pyspy(raw)
    (PROF / f"{target}.pyspy-summary.txt").write_text(text, encoding="utf-8")
    return text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="profile gen's slow paths")
    ap.add_argument("targets", nargs="*", default=list(TARGETS))
    ap.add_argument("--no-pyspy", action="store_true")
    ap.add_argument("--summarize", type=Path, help="only summarize an existing py-spy raw file")
    args = ap.parse_args(argv)
    if args.summarize:
        print(summarize_pyspy(args.summarize))
        return 0
    PROF.mkdir(exist_ok=True)
    pyspy = (
        None
        if args.no_pyspy
        else (shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy"))
    )
    if not args.no_pyspy and not pyspy:
        print("py-spy not found (pip install py-spy into a scratch venv): cProfile only", file=sys.stderr)
    for target in args.targets:
        print(f"##### {target}", flush=True)
        print("\n".join(run_cprofile(target).splitlines()[:60]))
        if pyspy and os.access(pyspy, os.X_OK):
            text = run_pyspy(target, pyspy)
            if text:
                print(text)
    print(f"profiles in {PROF.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
