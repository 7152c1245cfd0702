"""The spec contract, checked for one spec, in-process (the functions `gen` itself calls).

- `gen validate` accepts  =>  `gen render --strict` succeeds (no Helm error, no "bug in gen"
  report: the plan, the chart and every resource against the pinned schemas are clean),
  `gen check` of the written output is clean, and a second render is byte-identical;
- `gen validate` rejects  =>  exit 1, no traceback, and every error line is
  ``models.yaml:LINE:COL: spec.path: message`` at a line of the file.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from generator import naming
from generator.check.runner import check_dirs
from generator.cli import main
from generator.pipeline import verify
from generator.render import RenderError, render_spec
from generator.render.writer import write_tree
from generator.spec import validate_file

ERROR_LINE = re.compile(r"models\.yaml:(\d+):(\d+): (\S+): .+")


@dataclass
class Outcome:
    accepted: bool
    failures: list[str] = field(default_factory=list)
    text: str = ""


def dump(spec: dict[str, Any]) -> str:
    return yaml.safe_dump(spec, sort_keys=False, allow_unicode=True, width=1000)


def check_rejected(text: str) -> list[str]:
    """`gen validate` of a rejected spec: exit 1, clean located errors, a summary."""
    result = CliRunner().invoke(main, ["validate", "models.yaml"], catch_exceptions=True)
    failures = []
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        failures.append(f"validate raised {type(result.exception).__name__}: {result.exception}")
    if result.exit_code != 1:
        failures.append(f"validate exited {result.exit_code}, not 1")
    if "Traceback" in result.output:
        failures.append("validate printed a traceback")
    lines = result.stderr.splitlines()
    if not lines or not lines[-1].startswith("Summary: "):
        failures.append("validate printed no Summary line")
    n_lines = text.count("\n") + 1
    for line in lines[:-1]:
        m = ERROR_LINE.fullmatch(line)
        if m is None:
            failures.append(f"not FILE:LINE:COL: path: message: {line[:300]}")
        elif not 1 <= int(m.group(1)) <= n_lines:
            failures.append(f"line {m.group(1)} is not a line of the file: {line[:300]}")
    return failures


def same(a: Any, b: Any) -> bool:
    """Equal with the same types all the way down (1 is not 1.0 is not "1"; -0.0 is not 0.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return bool(a == b)


def fidelity(data: dict[str, Any], resources: list[Any]) -> list[str]:
    """Values the spec hands through unchanged arrive unchanged: each model's engineArgs in its
    serve config, and its in-flight limit in its GCPBackendPolicy."""
    out = []
    by_name = {(r.kind, r.name): r.obj for r in resources}
    for m in data["models"]:
        ray = by_name.get(("RayService", m["name"]))
        if ray is not None and m.get("engineArgs"):
            serve = yaml.safe_load(ray["spec"]["serveConfigV2"])
            for llm in serve["applications"][0]["args"]["llm_configs"]:
                got = llm.get("engine_kwargs", {})
                for key, want in m["engineArgs"].items():
                    if not same(got.get(key), want):
                        out.append(
                            f"fidelity: {m['name']}: engineArgs.{key} {want!r} arrives as {got.get(key)!r}"
                        )
        in_flight = m.get("loadBalancing", {}).get("inFlight")
        policy = by_name.get(("GCPBackendPolicy", naming.model_names(m["name"])["backendPolicy"]))
        if in_flight and policy is not None:
            got = policy["spec"]["default"].get("maxInFlightRequestsPerEndpoint")
            if not same(got, in_flight["maxRequestsPerEndpoint"]):
                out.append(
                    f"fidelity: {m['name']}: maxRequestsPerEndpoint {in_flight['maxRequestsPerEndpoint']!r} "
                    f"arrives as {got!r}"
                )
    return out


def check_spec(spec: dict[str, Any]) -> Outcome:
    text = dump(spec)
    with tempfile.TemporaryDirectory(prefix="gen-contract-") as tmp:
        folder = Path(tmp)
        (folder / "models.yaml").write_text(text, encoding="utf-8")
        loaded, _ = validate_file(folder / "models.yaml")
        if loaded is None:
            cwd = os.getcwd()
            os.chdir(folder)  # errors name the file as the user passed it: models.yaml
            try:
                return Outcome(False, check_rejected(text), text)
            finally:
                os.chdir(cwd)
        out = Outcome(True, text=text)
        try:
            _, files, resources = render_spec(loaded)
        except RenderError as exc:
            out.failures.append(f"render: {exc}")
            return out
        out.failures += fidelity(loaded.data, resources)
        problems = verify(resources, strict=True)
        out.failures += [f"render --strict: {p.format()}" for p in problems]
        write_tree(folder / "out", files)
        report = check_dirs([str(folder / "out")])
        out.failures += [f"check: {i.format()}" for i in report.sorted_issues()]
        again, _ = validate_file(folder / "models.yaml")
        assert again is not None
        _, files2, _ = render_spec(again)
        if files2 != files:
            changed = sorted(k for k in files.keys() | files2.keys() if files.get(k) != files2.get(k))
            out.failures.append(f"second render differs: {', '.join(changed[:5])}")
        return out
