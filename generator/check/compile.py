"""Precompute strict JSON schemas for every crd/jsonschema entry of index.yaml.

    python -m generator.check.compile          # rewrite schemas/upstream/compiled/
    python -m generator.check.compile --check  # exit 1 if compiled/ is stale

Parsing a 1 MB CRD YAML takes ~1 s; the compiled JSON (descriptions dropped) loads in
milliseconds, so the checker only ever reads compiled/.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from .crd_compile import apply_overlay, compile_schema, crd_version_schema
from .paths import upstream_dir
from .schema_index import Entry, load_index

COMMAND = "python -m generator.check.compile"
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _compile_entry(root: Path, entry: Entry) -> dict[str, Any]:
    assert entry.source is not None
    raw = (root / entry.source).read_bytes()
    if entry.format == "crd":
        crd = yaml.load(raw, Loader=_YAML_LOADER)
        group = entry.api_version.rpartition("/")[0]
        if crd["spec"]["group"] != group or crd["spec"]["names"]["kind"] != entry.kind:
            raise ValueError(
                f"{entry.source} defines {crd['spec']['group']} {crd['spec']['names']['kind']}, "
                f"not {entry.api_version} {entry.kind}"
            )
        schema = crd_version_schema(crd, entry.version)
    else:
        schema = json.loads(raw)
    overlays = []
    for rel in entry.overlays:
        overlay_raw = (root / rel).read_bytes()
        schema = apply_overlay(schema, json.loads(overlay_raw))
        overlays.append({"path": rel, "sha256": hashlib.sha256(overlay_raw).hexdigest()})
    compiled = compile_schema(schema, entry.api_version, entry.kind)
    return {
        "apiVersion": entry.api_version,
        "kind": entry.kind,
        "generated_by": COMMAND,
        "source": {"path": entry.source, "sha256": hashlib.sha256(raw).hexdigest()},
        "overlays": overlays,
        **compiled,
    }


def render_all(root: Path | None = None) -> dict[str, str]:
    """File name under compiled/ -> exact text the compiler writes."""
    root = root or upstream_dir()
    out = {}
    for entry in load_index(root).entries.values():
        if entry.format == "kubernetes-validate":
            continue
        doc = _compile_entry(root, entry)
        out[entry.compiled_name] = json.dumps(doc, sort_keys=True, indent=1) + "\n"
    return out


def stale_files(root: Path | None = None) -> list[str]:
    """Names under compiled/ that differ from, lack, or are not in a fresh compile."""
    root = root or upstream_dir()
    want = render_all(root)
    compiled = root / "compiled"
    have = {p.name for p in compiled.glob("*.json")} if compiled.is_dir() else set()
    stale = [
        n for n, text in want.items() if n not in have or (compiled / n).read_text(encoding="utf-8") != text
    ]
    return sorted(stale + [n for n in have if n not in want])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale files; exit 1 if any")
    args = parser.parse_args(argv)
    root = upstream_dir()
    if args.check:
        stale = stale_files(root)
        for name in stale:
            print(f"stale: compiled/{name}")
        if stale:
            print(f"run: {COMMAND}")
        return 1 if stale else 0
    compiled = root / "compiled"
    compiled.mkdir(exist_ok=True)
    want = render_all(root)
    for old in compiled.glob("*.json"):
        if old.name not in want:
            old.unlink()
    for name, text in want.items():
        (compiled / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(want)} files to {compiled}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
