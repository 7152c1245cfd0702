"""Hostile input: every case of tests/hostile/ is refused cleanly and changes nothing.

tests/hostile/<case>/models.yaml (or, for inputs too big or too odd to commit, a generator in
GENERATED below) is validated and rendered from inside its own folder. Each case must:

- exit 1 with exactly the lines of tests/hostile/<case>/expected.txt on stderr (`gen validate`),
  every line positioned (FILE:LINE:COL) or naming the spec path, none over 1,000 characters;
- print nothing on stdout and no traceback;
- never echo a secret found in the input (Hugging Face / Google tokens, PEM key bodies);
- leave a pre-existing output directory byte-identical on `gen render CASE -o OUT` (the same
  error lines, then `Summary: ...; nothing written`), with no staging directory left beside it.

tests/hostile/ok-<case>/ are odd but valid inputs (UTF-8 BOM, CRLF, document markers): they
validate, and render exactly what the plain LF version of the same spec renders.

Inputs with a resource budget (alias bomb, huge file, too many nodes, ...) are first run in a
child process under an address-space limit, which reports wall time and peak memory.
expected.txt is a file snapshot (tests/snapshots.py): after an intended message change,
`make golden` (pytest --snapshot-update), then review the diff.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main

from .conftest import ROOT
from .renderutil import snapshot

pytestmark = pytest.mark.slow  # `make test-fast` leaves these to `make test`

HOSTILE = ROOT / "tests" / "hostile"
EXAMPLE = ROOT / "examples" / "single-cluster-gpu" / "models.yaml"
MAX_BYTES = 16 * 1024 * 1024  # the documented input size limit

BASE = """apiVersion: gen.llm-fleet.dev/v1alpha1
kind: ModelFleet
metadata:
  name: demo
models:
  - name: gemma
    source: hf://google/gemma-2b-it
    accelerator: {type: nvidia-l4}
"""


def _commented(comment: str, body: str) -> bytes:
    return f"# hostile: {comment}\n{body}".encode()


def _huge_file() -> bytes:
    head = _commented("16 MiB + 1 byte: comment lines after a valid spec", BASE)
    line = b"#" * 1023 + b"\n"
    return (head + line * (MAX_BYTES // len(line) + 1))[: MAX_BYTES + 1]


def _too_many_nodes() -> bytes:
    return _commented(
        "six million YAML nodes in 12 MB (under the size limit)",
        BASE + "    engineArgs:\n      x: [" + "0," * 6_000_000 + "0]\n",
    )


def _deep_nesting_100k() -> bytes:
    return _commented(
        "100,000 nested flow sequences", BASE + "    engineArgs: {x: " + "[" * 100_000 + "]" * 100_000 + "}\n"
    )


def _long_fleet_name() -> bytes:
    return _commented("a 100,000-character fleet name", BASE.replace("name: demo", "name: " + "a" * 100_000))


# Cases whose input is generated here instead of committed (tests/hostile/<case>/ then holds
# only expected.txt).
GENERATED = {
    "huge-file": _huge_file,
    "too-many-nodes": _too_many_nodes,
    "deep-nesting-100k": _deep_nesting_100k,
    "long-string-fleet-name": _long_fleet_name,
}

# Cases that must stay within a budget: (seconds of `gen validate`, MiB of peak RSS growth).
BUDGET = {
    "alias-bomb-billion-laughs": (1.0, 32),
    "huge-file": (2.0, 96),
    "too-many-nodes": (20.0, 512),
    "deep-nesting-100k": (2.0, 64),
    "long-string-fleet-name": (2.0, 64),
}

# Errors about the whole file carry no line, column or spec path.
FILE_LEVEL = {"huge-file"}

CASES = sorted(p.name for p in HOSTILE.iterdir() if (p / "expected.txt").is_file())
ACCEPTED = sorted(p.name for p in HOSTILE.iterdir() if p.name.startswith("ok-"))

_SECRET = re.compile(r"hf_[A-Za-z0-9]{20,}|AIza[0-9A-Za-z_-]{35}|ya29\.[A-Za-z0-9_-]{20,}")
_PEM = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----(.*?)-----END", re.S)
_LINE = re.compile(r"^models\.yaml(?P<pos>:\d+:\d+)?: (?P<rest>.*)$")


def spec_bytes(case: str) -> bytes:
    if case in GENERATED:
        return GENERATED[case]()
    return (HOSTILE / case / "models.yaml").read_bytes()


def secrets_in(data: bytes) -> list[str]:
    text = data.decode("utf-8", errors="replace")
    found = _SECRET.findall(text)
    for body in _PEM.findall(text):
        found += [line.strip() for line in body.splitlines() if len(line.strip()) >= 16]
    return found


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="session")
def rendered_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid example rendered once, plus files a user added: the tree no hostile render
    may change."""
    out = tmp_path_factory.mktemp("baseline") / "out"
    result = invoke("render", str(EXAMPLE), "-o", str(out), "-q")
    assert result.exit_code == 0, result.output
    (out / "NOTES-mine.txt").write_text("my notes\n")
    (out / "manifests" / "default" / "zz-mine.yaml").write_text("kind: ConfigMap\n")
    (out / "mine").mkdir()
    return out


def test_corpus_is_large_enough():
    assert len(CASES) >= 45
    assert len(ACCEPTED) >= 3


def test_every_case_has_exactly_one_input():
    for case in CASES:
        committed = (HOSTILE / case / "models.yaml").is_file()
        assert committed != (case in GENERATED), case
    assert set(GENERATED) <= set(CASES)
    assert set(BUDGET) <= set(CASES)


def test_corpus_bytes_survived_git():
    """Byte-level cases must not be normalised by git or an editor (see .gitattributes)."""
    raw = {
        c: (HOSTILE / c / "models.yaml").read_bytes()
        for c in (
            "ok-crlf",
            "ok-utf8-bom",
            "utf16-le-bom",
            "utf16-be-bom",
            "nul-byte",
            "non-utf8-latin1",
            "unicode-line-separator",
        )
    }
    assert raw["ok-crlf"].count(b"\r\n") == raw["ok-crlf"].count(b"\n") > 5
    assert raw["ok-utf8-bom"].startswith(b"\xef\xbb\xbf")
    assert raw["utf16-le-bom"].startswith(b"\xff\xfe#\x00")
    assert raw["utf16-be-bom"].startswith(b"\xfe\xff\x00#")
    assert b"\x00" in raw["nul-byte"]
    assert b"\xe9" in raw["non-utf8-latin1"]
    assert "\u2028".encode() in raw["unicode-line-separator"]


@pytest.mark.parametrize("case", CASES)
def test_hostile_case(case, tmp_path, monkeypatch, rendered_out, file_snapshot):
    data = spec_bytes(case)
    secrets = secrets_in(data)
    if case.startswith("secret-"):
        assert secrets, f"{case}: the case holds no recognisable secret"
    spec_dir = tmp_path / "spec"
    spec_dir.mkdir()
    (spec_dir / "models.yaml").write_bytes(data)
    monkeypatch.chdir(spec_dir)
    if case in BUDGET:
        _within_budget(case, spec_dir / "models.yaml")

    # gen validate
    result = invoke("validate", "models.yaml")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert result.stderr == file_snapshot(name=f"tests/hostile/{case}/expected.txt")
    lines = result.stderr.splitlines()
    assert lines[-1].startswith("Summary: ") and lines[-1].endswith("(1 file checked)")
    for line in lines[:-1]:
        assert len(line) <= 1000, f"{case}: {len(line)}-character error line"
        m = _LINE.match(line)
        assert m, line
        if not m["pos"]:
            assert case in FILE_LEVEL, f"{case}: neither a position nor a spec path: {line}"
    for secret in secrets:
        assert secret not in result.output

    # gen render into an existing output directory
    out = tmp_path / "out"
    shutil.copytree(rendered_out, out, symlinks=True)
    before, siblings = snapshot(out), sorted(os.listdir(tmp_path))
    result = invoke("render", "models.yaml", "-o", str(out))
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.stdout == ""
    errors = lines[:-1]
    n = len(errors)
    assert result.stderr.splitlines() == errors + [
        f"Summary: {n} error{'' if n == 1 else 's'}; nothing written"
    ]
    for secret in secrets:
        assert secret not in result.output
    assert snapshot(out) == before
    assert sorted(os.listdir(tmp_path)) == siblings  # no staging directory left behind


_CHILD = r"""
import resource, sys, time
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from generator.cli import main
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
try:
    main(sys.argv[2:], prog_name="gen")
    code = 0
except SystemExit as exc:
    code = exc.code
took = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
sys.stderr.write(f"BUDGET {took:.3f} {(peak - base) / 1024:.1f}\n")
sys.exit(code)
"""
_ADDRESS_SPACE = 2 * 1024**3  # a runaway input fails with MemoryError, not the machine


def run_budgeted(*args: str, timeout: float = 60) -> tuple[int, str, float, float]:
    """`gen ARGS` in a child under an address-space limit: (exit code, stderr without the
    budget line, seconds inside gen, MiB of peak RSS growth)."""
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(_ADDRESS_SPACE), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )
    *rest, last = proc.stderr.rstrip("\n").split("\n")
    assert last.startswith("BUDGET "), proc.stderr[-3000:]
    _, seconds, mib = last.split()
    return proc.returncode, "\n".join(rest) + "\n", float(seconds), float(mib)


def _within_budget(case: str, spec: Path) -> None:
    seconds_max, mib_max = BUDGET[case]
    code, stderr, seconds, mib = run_budgeted("validate", str(spec), timeout=3 * seconds_max + 10)
    assert "Traceback" not in stderr, stderr[-3000:]
    assert code == 1, stderr[-3000:]
    print(f"{case}: {seconds:.2f} s, +{mib:.0f} MiB")
    assert seconds < seconds_max, f"{case}: {seconds:.2f} s (budget {seconds_max} s)"
    assert mib < mib_max, f"{case}: +{mib:.0f} MiB peak RSS (budget {mib_max} MiB)"


def test_alias_bomb_fails_fast_in_process(tmp_path):
    """Billion laughs: refused at its first anchor, before any expansion."""
    spec = tmp_path / "models.yaml"
    spec.write_bytes(spec_bytes("alias-bomb-billion-laughs"))
    assert invoke("validate", str(EXAMPLE)).exit_code == 0  # imports and schema: warm
    tracemalloc.start()
    start = time.perf_counter()
    try:
        result = invoke("validate", str(spec))
        took = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.exit_code == 1
    assert "YAML anchors (&name) are not supported" in result.stderr
    assert took < 1.0, f"{took:.2f} s"
    assert peak < 8 * 1024**2, f"{peak / 1024**2:.1f} MiB traced"


def test_endless_input_is_cut_at_the_size_limit():
    """/dev/zero never ends: gen must stop reading at the limit, not exhaust memory."""
    code, stderr, seconds, mib = run_budgeted("validate", "/dev/zero")
    assert "Traceback" not in stderr, stderr[-3000:]
    assert code == 1
    assert stderr.splitlines()[0] == (
        f"/dev/zero: file is more than {MAX_BYTES} bytes; the limit is {MAX_BYTES} bytes"
    )
    assert seconds < 2.0 and mib < 96, (seconds, mib)


def test_huge_sparse_file_is_refused_without_reading_it(tmp_path):
    spec = tmp_path / "models.yaml"
    with open(spec, "wb") as fh:
        fh.truncate(2 * 1024**3)  # 2 GiB, sparse: no disk used
    code, stderr, seconds, mib = run_budgeted("validate", str(spec))
    assert "Traceback" not in stderr, stderr[-3000:]
    assert code == 1
    assert stderr.splitlines()[0] == (f"{spec}: file is {2 * 1024**3} bytes; the limit is {MAX_BYTES} bytes")
    assert seconds < 2.0 and mib < 96, (seconds, mib)


def test_file_at_the_size_limit_is_accepted(tmp_path):
    spec = tmp_path / "models.yaml"
    head = _commented("exactly 16 MiB", BASE)
    line = b"#" * 1023 + b"\n"
    data = head + line * ((MAX_BYTES - len(head)) // len(line))
    spec.write_bytes(data + b"#" * (MAX_BYTES - len(data) - 1) + b"\n")
    assert spec.stat().st_size == MAX_BYTES
    result = invoke("validate", str(spec))
    assert result.exit_code == 0, result.stderr[-2000:]


def test_node_limit_leaves_room_for_large_fleets(tmp_path):
    """The node limit must not refuse a legitimate fleet: 5,000 models with the commonly
    used fields (about 250,000 YAML nodes)."""
    model = """  - name: m-{i}
    modelId: org/model-{i}
    source: hf://org/model-{i}
    accelerator: {{type: nvidia-l4, count: 1}}
    replicas: {{min: 1, max: 4}}
    engineArgs: {{max_model_len: 8192, tensor_parallel_size: 1, dtype: bfloat16}}
    env: {{VLLM_LOGGING_LEVEL: INFO, HF_HUB_OFFLINE: "0"}}
    resources:
      head: {{cpu: "2", memory: 8Gi}}
      worker: {{memory: 24Gi, ephemeralStorage: 100Gi}}
"""
    spec = tmp_path / "models.yaml"
    spec.write_text(BASE.split("models:")[0] + "models:\n" + "".join(model.format(i=i) for i in range(5000)))
    result = invoke("validate", str(spec))
    assert result.exit_code == 0, result.stderr[-2000:]


@pytest.mark.parametrize("case", ACCEPTED)
def test_accepted_odd_input(case, tmp_path, monkeypatch):
    data = (HOSTILE / case / "models.yaml").read_bytes()
    # the same spec without the oddity: no BOM, LF line ends, no document markers
    plain = b"".join(
        line
        for line in data.removeprefix(b"\xef\xbb\xbf").replace(b"\r\n", b"\n").splitlines(keepends=True)
        if line.rstrip() not in (b"%YAML 1.1", b"---", b"...")
    )
    assert plain != data
    monkeypatch.chdir(tmp_path)
    for name, content in (("odd", data), ("plain", plain)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "models.yaml").write_bytes(content)
    result = invoke("validate", "odd/models.yaml")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert result.stdout == "Summary: 1 file valid\n"
    trees = []
    for name in ("odd", "plain"):
        monkeypatch.chdir(tmp_path / name)
        result = invoke("render", "models.yaml", "-o", "out", "-q")
        assert result.exit_code == 0, result.output
        trees.append(snapshot(tmp_path / name / "out"))
    assert trees[0] == trees[1]
