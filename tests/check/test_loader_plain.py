"""gen check's loader builds plain documents directly (fastyaml.PlainBuilder) and
composes YAML nodes again only when a position is asked for (issue 19). Every document,
error, duplicate key and position must be exactly what the generic construction (every
document through SafeConstructor, positions from the nodes of that parse) gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from generator.check import loader
from generator.fastyaml import NotPlain, PlainBuilder

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


class _GenericOnly(PlainBuilder):
    def build(self, node: Any) -> Any:
        raise NotPlain


def _typed(value: Any) -> Any:
    """Comparable form that tells True from 1 and 1.0 from 1."""
    if isinstance(value, dict):
        return ("map", [(_typed(k), _typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("seq", [_typed(v) for v in value])
    return (type(value).__name__, value)


def _read(text: str) -> tuple[list[Any], list[Any]]:
    out = loader.Loaded()
    docs = loader.read_text("f.yaml", text, "scope", out)
    seen = [
        (
            d.index,
            _typed(d.obj),
            d.duplicate_keys,
            d.line,
            d.label,
            d.lines,
            d.blocks,
            [d.position(p) for p in ("", "spec.x.y[3]", "metadata.name", "items[0].kind")],
        )
        for d in docs
    ]
    return seen, out.errors


def _same(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = _read(text)
    with monkeypatch.context() as m:
        m.setattr(loader, "PlainBuilder", _GenericOnly)
        generic = _read(text)
    assert fast == generic


OBJ = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"
EDGE_CASES = [
    OBJ + "data:\n  a: '1'\n  b: |\n    line\n    two\n",
    OBJ + "data: {a: 1, b: true, c: null, d: 1.5, e: 0o17, f: 0x1f, g: .inf, h: ~}\n",
    OBJ + "spec:\n  x: {y: [0, 1, 2, {z: 1}]}\n  dup: 1\n  dup: 2\n  n:\n    k: 1\n    k: 2\n",
    OBJ + "metadata:\n  name: twice\n",
    OBJ + "anchors:\n  a: &x {p: 1}\n  b: *x\n  c:\n    <<: *x\n    q: 2\n",
    OBJ + "when: 2001-12-14t21:59:43.10-05:00\nday: 2002-12-14\nbin: !!binary aGVsbG8=\n",
    OBJ + "5: five\ntrue: yes\n~: nothing\n1.5: x\n",
    OBJ + "set: !!set {a, b}\nomap: !!omap [a: 1, b: 2]\n",
    OBJ + "deep: " + "[" * 1200 + "]" * 1200 + "\n",
    OBJ
    + "laughs: &a ["
    + ",".join(["x"] * 10)
    + "]\n"
    + "".join(f"l{i}: &a{i} [{','.join(['*a' if i == 0 else f'*a{i - 1}'] * 10)}]\n" for i in range(7)),
    "apiVersion: v1\nkind: List\nitems:\n- " + OBJ.replace("\n", "\n  ") + "\n- {kind: X}\n- 3\n",
    "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: s}\n"
    "  stringData:\n    k: |\n      v\n",
    "---\n# only a comment\n---\n" + OBJ + "---\n- a list\n---\n" + OBJ.replace("kind", "Kind"),
    OBJ + "---\n" + OBJ + "bad: [unclosed\n",
    '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "j"}, "data": {"k": "v"}}\n',
    "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n",
    OBJ + "key: 'a'\n'key': b\n",
    OBJ + "'1': a\n1: b\n",
    "%YAML 1.1\n---\n" + OBJ,
    "",
]


@pytest.mark.parametrize("text", EDGE_CASES)
def test_edge_cases_load_as_the_generic_construction(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _same(text, monkeypatch)


def test_every_check_sample_and_golden_manifest_loads_as_the_generic_construction(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files = sorted((HERE / "negative").rglob("*.yaml")) + sorted((HERE / "positive").rglob("*.yaml"))
    files += sorted((ROOT / "golden").rglob("manifests/**/*.yaml"))
    assert len(files) > 60
    for path in files:
        _same(path.read_text(encoding="utf-8"), monkeypatch)


def test_the_plain_path_is_taken_for_ordinary_manifests_and_not_for_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built: list[bool] = []
    real = loader._documents

    def spy(text: str) -> Any:
        for raw in real(text):
            built.append(raw.plain)
            yield raw

    monkeypatch.setattr(loader, "_documents", spy)
    _read(EDGE_CASES[0] + "---\n" + EDGE_CASES[2] + "---\n" + EDGE_CASES[4] + "---\n" + EDGE_CASES[5])
    assert built == [True, False, False, False]


def test_positions_compose_each_file_once_and_only_when_asked() -> None:
    out = loader.Loaded()
    docs = loader.read_text("f.yaml", OBJ + "---\n" + OBJ + "spec: {a: 1}\n", "scope", out)
    assert docs[0].source is not None and docs[1].source is not None
    nodes = docs[0].source[0]
    assert docs[1].source[0] is nodes and nodes._docs is None  # nothing composed while loading
    assert docs[1].position("spec.a") == (10, 8)
    composed = nodes._docs
    assert composed is not None and len(composed) == 2
    assert docs[0].position("metadata.name") == (4, 3)
    assert nodes._docs is composed
