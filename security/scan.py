"""Security scan of gen's example output with checkov's Kubernetes checks, against a baseline.

    python security/scan.py [--cli] [--golden DIR] [--baseline FILE] [--json]

Scans every ``golden/<example>/manifests/<cluster>/`` with checkov's Kubernetes framework
(each cluster on its own, so that graph checks such as "pod without a NetworkPolicy" only see
the cluster's own objects) and compares the failed checks with
``security/checkov-baseline.yaml``:

- a failed check that no baseline entry explains is an *unexplained* finding;
- a baseline entry that explains no failed check, or one of whose kind, name or example
  patterns is not needed by any, is *stale* and must be removed or narrowed.

Exit code 0 when there is neither, 1 otherwise, 2 when checkov is missing or fails.

checkov only knows the core workload kinds: it never looks inside a KubeRay ``RayService``,
whose head and worker pod templates are gen's main workloads. So each cluster directory is
scanned from a staging copy to which ``rayservice-pods.yaml`` is added: one ``Pod`` per Ray
node group (``<rayservice>-head``, ``<rayservice>-<groupName>``), with the template's metadata
and spec exactly as rendered, in the RayService's namespace. Findings on these are reported
with kind ``RayService/head`` or ``RayService/worker`` and the RayService's name.

checkov runs in its own virtual environment (``security/requirements.txt``; its pins, e.g.
boto3==1.35.49 and packaging<24, conflict with gen's), found through GEN_SCAN_PYTHON (that
venv's python, or its checkov script) or else ``.venv-scan/bin/checkov``. By default
``security/checkov_driver.py`` runs checkov's Kubernetes runner for all clusters in one
process (about 2 s instead of about 4 s per cluster); ``--cli`` runs the ``checkov`` command
per cluster instead (``--framework kubernetes --skip-download``), and the test suite checks
that both agree.

Offline: no API key, nothing downloaded from the platform (``--skip-download`` /
``BC_SKIP_MAPPING``), no PyPI version check (``CKV_SKIP_PACKAGE_UPDATE_CHECK``).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_GOLDEN = ROOT / "golden"
DEFAULT_BASELINE = ROOT / "security" / "checkov-baseline.yaml"
DEFAULT_CHECKOV = ROOT / ".venv-scan" / "bin" / "checkov"
DRIVER = ROOT / "security" / "checkov_driver.py"
DERIVED_FILE = "rayservice-pods.yaml"
# Kinds holding KubeRay cluster specs, and where the cluster spec sits in them.
RAY_CLUSTER_SPEC = {
    "RayService": ("spec", "rayClusterConfig"),
    "RayCluster": ("spec",),
    "RayJob": ("spec", "rayClusterSpec"),
}
CHECKOV_TIMEOUT_S = 120


class ScanError(RuntimeError):
    """checkov is missing, failed, or printed something that is not its JSON report."""


@dataclass(frozen=True, order=True)
class Finding:
    check_id: str
    kind: str  # the manifest's kind; RayService/head or RayService/worker for derived pods
    namespace: str
    name: str  # the manifest's metadata.name (the RayService's for derived pods)
    example: str
    cluster: str
    file: str  # the manifest file, relative to the golden tree
    check_name: str

    def key(self) -> str:
        return f"{self.check_id} {self.kind} {self.namespace}/{self.name} ({self.file})"


def scanner() -> tuple[Path, Path]:
    """(python, checkov) of the scan venv: GEN_SCAN_PYTHON (the venv's python or its checkov
    script, relative paths from the repo root), else .venv-scan/bin/checkov."""
    value = os.environ.get("GEN_SCAN_PYTHON")
    path = Path(value) if value else DEFAULT_CHECKOV
    if not path.is_absolute():
        path = ROOT / path
    if path.name.startswith("python"):
        return path, path.parent / "checkov"
    return path.parent / "python", path


def _require(path: Path) -> None:
    if not path.is_file():
        raise ScanError(
            f"scanner not found: {path}. Create the scan venv with "
            "`python3 -m venv .venv-scan && .venv-scan/bin/pip install -r security/requirements.txt` "
            "(make test does), or set GEN_SCAN_PYTHON to its python"
        )


def checkov_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BC_", "PRISMA_", "CKV_"))}
    env.update(
        CKV_SKIP_PACKAGE_UPDATE_CHECK="true",  # no PyPI "new version available" request
        BC_SKIP_MAPPING="TRUE",  # same as --skip-download: no platform mappings/guidelines
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
        NO_COLOR="1",
    )
    return env


# ---------------------------------------------------------------- staging


@cache
def _documents(path: Path) -> tuple[tuple[int, int, dict], ...]:
    """(first line, last line, object) of each YAML document of a manifest file, 1-based."""
    text = path.read_text(encoding="utf-8")
    out = []
    for node in yaml.compose_all(text, Loader=_Loader):
        if node is None or not isinstance(node, yaml.MappingNode):
            continue
        obj = _Loader.construct(node)
        out.append((node.start_mark.line + 1, node.end_mark.line + 1, obj))
    return tuple(out)


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]  # base picked at runtime (C loader when libyaml is there)
    @classmethod
    def construct(cls, node: yaml.Node) -> dict:
        loader = cls("")
        try:
            return loader.construct_document(node)
        finally:
            loader.dispose()


def _dig(obj: dict, path: tuple[str, ...]):
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def derived_pods(obj: dict) -> list[tuple[str, dict]]:
    """(role, Pod) for each Ray node group's pod template of a KubeRay object, else []."""
    path = RAY_CLUSTER_SPEC.get(obj.get("kind", ""))
    if not path:
        return []
    spec = _dig(obj, path) or {}
    meta = obj.get("metadata") or {}
    name, namespace = meta.get("name", ""), meta.get("namespace")
    groups: list[tuple[str, str, dict]] = []
    head = spec.get("headGroupSpec") or {}
    if head.get("template"):
        groups.append(("head", f"{name}-head", head["template"]))
    for group in spec.get("workerGroupSpecs") or []:
        if group.get("template"):
            groups.append(("worker", f"{name}-{group.get('groupName', 'worker')}", group["template"]))
    pods = []
    for role, pod_name, template in groups:
        tmeta = dict(template.get("metadata") or {})
        tmeta["name"] = pod_name
        if namespace is not None:
            tmeta["namespace"] = namespace
        # provenance for mapping findings back: which object, which role
        tmeta["annotations"] = {
            **(tmeta.get("annotations") or {}),
            "security.gen.llm-fleet.dev/derived-from": f"{obj['kind']}/{name}",
            "security.gen.llm-fleet.dev/ray-role": role,
        }
        pods.append(
            (role, {"apiVersion": "v1", "kind": "Pod", "metadata": tmeta, "spec": template.get("spec") or {}})
        )
    return pods


def stage_cluster(src: Path, dest: Path) -> None:
    """Copy a cluster's manifests (not kustomization.yaml) and add the derived Ray pods."""
    dest.mkdir(parents=True, exist_ok=True)
    pods: list[dict] = []
    for path in sorted(src.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        shutil.copyfile(path, dest / path.name)
        for _, _, obj in _documents(path):
            for _, pod in derived_pods(obj):
                pod["metadata"]["annotations"]["security.gen.llm-fleet.dev/derived-file"] = path.name
                pods.append(pod)
    if pods:
        text = "# Ray node pod templates lifted out of the RayServices (see security/scan.py)\n"
        text += "".join("---\n" + yaml.safe_dump(p, sort_keys=False) for p in pods)
        (dest / DERIVED_FILE).write_text(text, encoding="utf-8")


def clusters(golden: Path) -> list[tuple[str, str, Path]]:
    """(example, cluster, manifests dir) of every example in the golden tree."""
    out = []
    for d in sorted(golden.glob("*/manifests/*")):
        if d.is_dir():
            out.append((d.parent.parent.name, d.name, d))
    return out


# ---------------------------------------------------------------- checkov


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    try:
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=CHECKOV_TIMEOUT_S,
            env=checkov_env(),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as e:
        raise ScanError(f"checkov timed out after {CHECKOV_TIMEOUT_S}s: {' '.join(cmd)}") from e
    if proc.returncode != 0:
        raise ScanError(f"checkov exited {proc.returncode}: {' '.join(cmd)}\n{proc.stderr[-4000:]}")
    return proc


def run_checkov_cli(checkov: Path, directory: Path) -> list[dict]:
    """checkov's failed checks for one directory, from the checkov command."""
    _require(checkov)
    cmd = [
        str(checkov),
        "--directory",
        str(directory),
        "--framework",
        "kubernetes",
        "--skip-download",
        "--output",
        "json",
        "--compact",
        "--quiet",  # report only failed checks
        "--soft-fail",  # exit 0 with findings; a non-zero exit is then a real error
    ]
    proc = _run(cmd, directory)
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError as e:
        raise ScanError(
            f"checkov printed no JSON report for {directory}:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
        ) from e
    reports = report if isinstance(report, list) else [report]
    failed: list[dict] = []
    for r in reports:
        if "results" not in r:
            # checkov's empty report (no resource at all): {"passed": 0, "failed": 0, ...}
            if r.get("resource_count", 0) or r.get("failed", 0):
                raise ScanError(f"unexpected checkov report for {directory}: {r}")
            continue
        if r.get("check_type") != "kubernetes":
            raise ScanError(f"unexpected checkov framework {r.get('check_type')!r} for {directory}")
        if r["summary"].get("parsing_errors"):
            raise ScanError(f"checkov could not parse {r['results'].get('parsing_errors')} in {directory}")
        failed.extend(r["results"]["failed_checks"])
    return failed


def run_checkov_driver(python: Path, directories: list[Path]) -> dict[Path, list[dict]]:
    """checkov's failed checks for each directory, from one checkov_driver.py process."""
    _require(python)
    proc = _run([str(python), str(DRIVER), *map(str, directories)], ROOT)
    try:
        out = json.loads(proc.stdout)
    except json.JSONDecodeError as e:
        raise ScanError(
            f"checkov_driver.py printed no JSON:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
        ) from e
    if out.get("network_attempts"):
        raise ScanError(f"checkov tried to use the network: {out['network_attempts'][:5]}")
    results = {}
    for d in directories:
        r = out["results"][str(d)]
        if r["parsing_errors"]:
            raise ScanError(f"checkov could not parse {r['parsing_errors']} in {d}")
        if not r["resources"]:
            raise ScanError(f"checkov found no Kubernetes resource in {d}")
        results[d] = r["failed"]
    return results


def _locate(staged: Path, check: dict) -> tuple[str, str, str, str]:
    """(kind, namespace, name, file) of the manifest a checkov result is about."""
    file_name = Path(check["file_path"]).name
    start = (check.get("file_line_range") or [0, 0])[0]
    for first, last, obj in _documents(staged / file_name):
        if first <= start <= last:
            meta = obj.get("metadata") or {}
            ann = meta.get("annotations") or {}
            origin = ann.get("security.gen.llm-fleet.dev/derived-from")
            if origin:
                kind, name = origin.split("/", 1)
                role = ann["security.gen.llm-fleet.dev/ray-role"]
                return (
                    f"{kind}/{role}",
                    meta.get("namespace", ""),
                    name,
                    ann["security.gen.llm-fleet.dev/derived-file"],
                )
            return obj.get("kind", ""), meta.get("namespace", ""), meta.get("name", ""), file_name
    raise ScanError(
        f"cannot map checkov result {check['check_id']} {check['resource']} to a manifest in {file_name}"
    )


def _findings(example: str, cluster: str, staged: Path, failed: list[dict]) -> list[Finding]:
    findings = set()
    for check in failed:
        kind, namespace, name, file_name = _locate(staged, check)
        findings.add(
            Finding(
                check_id=check["check_id"],
                kind=kind,
                namespace=namespace,
                name=name,
                example=example,
                cluster=cluster,
                file=f"{example}/manifests/{cluster}/{file_name}",
                check_name=check.get("check_name", ""),
            )
        )
    return sorted(findings)


def scan(
    golden: Path = DEFAULT_GOLDEN, cli: bool = False, jobs: int = 2, only: list[str] | None = None
) -> list[Finding]:
    """Every failed check of every example cluster (or of the examples in ``only``)."""
    python, checkov = scanner()
    targets = [t for t in clusters(golden) if only is None or t[0] in only]
    if not targets:
        raise ScanError(f"no golden/<example>/manifests/<cluster>/ under {golden}")
    with tempfile.TemporaryDirectory(prefix="gen-scan-") as tmp:
        staged = {}
        for example, cluster, src in targets:
            staged[(example, cluster)] = Path(tmp) / example / cluster
            stage_cluster(src, staged[(example, cluster)])
        if cli:
            with ThreadPoolExecutor(max_workers=jobs) as pool:
                failed = dict(
                    zip(
                        staged.values(),
                        pool.map(lambda d: run_checkov_cli(checkov, d), staged.values()),
                        strict=True,
                    )
                )
        else:
            failed = run_checkov_driver(python, list(staged.values()))
        out: list[Finding] = []
        for (example, cluster), d in staged.items():
            out += _findings(example, cluster, d, failed[d])
        return sorted(out)


# ---------------------------------------------------------------- baseline


@dataclass(frozen=True)
class Accepted:
    """One baseline entry: a check id, fnmatch patterns for kind, name and example, a reason."""

    check_id: str
    kinds: tuple[str, ...]
    names: tuple[str, ...]
    examples: tuple[str, ...]
    reason: str

    def matches(self, f: Finding) -> bool:
        def any_of(value: str, patterns: tuple[str, ...]) -> bool:
            return any(fnmatch.fnmatchcase(value, p) for p in patterns)

        return (
            f.check_id == self.check_id
            and any_of(f.kind, self.kinds)
            and any_of(f.name, self.names)
            and any_of(f.example, self.examples)
        )

    def label(self) -> str:
        return (
            f"{self.check_id} kind={','.join(self.kinds)} name={','.join(self.names)} "
            f"examples={','.join(self.examples)}"
        )


_CHECK_ID = re.compile(r"^CKV2?_K8S_\d+$")
_KEYS = {"check", "kind", "name", "examples", "reason"}


def _patterns(value, where: str, key: str) -> tuple[str, ...]:
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, str) and v for v in values):
        raise ValueError(f"{where}: {key} must be a pattern or a non-empty list of patterns")
    return tuple(values)


def load_baseline(path: Path = DEFAULT_BASELINE) -> list[Accepted]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = data.get("accepted")
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a top-level 'accepted' list")
    out = []
    for i, e in enumerate(entries):
        where = f"{path}: accepted[{i}]"
        if not isinstance(e, dict) or set(e) - _KEYS or not {"check", "kind", "name", "reason"} <= set(e):
            raise ValueError(f"{where}: keys are check, kind, name, reason and optionally examples")
        check, reason = e["check"], " ".join(str(e["reason"] or "").split())
        if not _CHECK_ID.match(str(check)):
            raise ValueError(f"{where}: check must be a checkov Kubernetes check id, got {check!r}")
        if len(reason) < 40:
            raise ValueError(f"{where}: every accepted finding needs a reason (40 characters or more)")
        out.append(
            Accepted(
                str(check),
                _patterns(e["kind"], where, "kind"),
                _patterns(e["name"], where, "name"),
                _patterns(e.get("examples", "*"), where, "examples"),
                reason,
            )
        )
    return out


def stale_patterns(entry: Accepted, findings: list[Finding]) -> list[str]:
    """The entry's patterns that explain no finding: each kind, name and example pattern of
    an entry must be needed by at least one finding the entry matches."""
    matched = [f for f in findings if entry.matches(f)]
    out = []
    for field, patterns in (("kind", entry.kinds), ("name", entry.names), ("example", entry.examples)):
        for p in patterns:
            if not any(fnmatch.fnmatchcase(getattr(f, field), p) for f in matched):
                out.append(f"{field} {p!r}")
    return out


def compare(
    findings: list[Finding], baseline: list[Accepted]
) -> tuple[list[Finding], list[tuple[Accepted, list[str]]]]:
    """(unexplained findings, stale baseline entries with their unused patterns)."""
    unexplained = [f for f in findings if not any(a.matches(f) for a in baseline)]
    stale = [(a, parts) for a in baseline if (parts := stale_patterns(a, findings))]
    return unexplained, stale


# ---------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--cli",
        action="store_true",
        help="run the checkov command per cluster (slower) instead of checkov_driver.py",
    )
    ap.add_argument("--golden", type=Path, default=DEFAULT_GOLDEN)
    ap.add_argument("--baseline", type=Path, default=DEFAULT_BASELINE)
    ap.add_argument("--json", action="store_true", help="print every finding as JSON")
    args = ap.parse_args(argv)
    try:
        findings = scan(args.golden, cli=args.cli)
    except ScanError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    baseline = load_baseline(args.baseline)
    unexplained, stale = compare(findings, baseline)
    if args.json:
        print(json.dumps([f.__dict__ for f in findings], indent=2))
    else:
        for f in findings:
            mark = "  " if f not in unexplained else "!!"
            print(f"{mark} {f.check_id:<11} {f.kind:<18} {f.namespace}/{f.name:<40} {f.file}")
    for f in unexplained:
        print(f"unexplained: {f.key()}: {f.check_name}", file=sys.stderr)
    for a, parts in stale:
        print(f"stale baseline entry: {a.label()}: nothing matches {', '.join(parts)}", file=sys.stderr)
    print(
        f"Summary: {len(findings)} findings, {len(findings) - len(unexplained)} accepted, "
        f"{len(unexplained)} unexplained, {len(stale)} stale baseline entries",
        file=sys.stderr,
    )
    return 1 if unexplained or stale else 0


if __name__ == "__main__":
    sys.exit(main())
