"""The loader render_chart parses Helm's output with gives exactly yaml.CSafeLoader's
objects (and errors), only faster (issue 19)."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator import fastyaml
from generator.render.manifests import _DOC_SPLIT, _Loader

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
_Reference = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _typed(value: Any, above: frozenset[int] = frozenset()) -> Any:
    """A comparable form that tells True from 1 and 1.0 from 1 (and shows cycles)."""
    if id(value) in above:
        return ("cycle",)
    inner = above | {id(value)}
    if isinstance(value, dict):
        return ("map", [(_typed(k, inner), _typed(v, inner)) for k, v in value.items()])
    if isinstance(value, list):
        return ("seq", [_typed(v, inner) for v in value])
    if isinstance(value, float) and value != value:
        return ("float", "nan")
    return (type(value).__name__, value)


def _same(text: str) -> None:
    try:
        expected = yaml.load(text, Loader=_Reference)
    except yaml.YAMLError as exc:
        with pytest.raises(type(exc)) as got:
            yaml.load(text, Loader=_Loader)
        assert str(got.value) == str(exc)
        return
    assert _typed(yaml.load(text, Loader=_Loader)) == _typed(expected)


def test_every_golden_manifest_loads_the_same() -> None:
    docs = 0
    for path in sorted(GOLDEN.rglob("manifests/**/*.yaml")):
        for part in _DOC_SPLIT.split(path.read_text(encoding="utf-8")):
            _same(part)
            docs += 1
    assert docs > 50


EDGE_CASES = [
    "a: 1\nb: true\nc: null\nd: 1.5\ne: '1'\nf: 0o17\ng: 017\nh: 0x1f\ni: yes\nj: ~\nk: .inf\nl: -.nan\n",
    "t: 2001-12-14t21:59:43.10-05:00\nd: 2002-12-14\n",
    "b: !!binary aGVsbG8=\ns: !!set {a, b}\no: !!omap [a: 1, b: 2]\np: !!pairs [a: 1, a: 2]\n",
    "base: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3\nlist: [*b, *b]\n",
    "= : value-key\nk: v\n",
    "a: &r [1, *r]\n",
    "? [1, 2]\n: unhashable\n",
    "dup: 1\ndup: 2\n",
    "x: !!str 1\ny: !!int '7'\nz: !!float '1'\nw: !!bool 'true'\n",
    "- a\n- [b, {c: d}]\n- {? e}\n",
    "plain: 12:30:00\noct: 0b101\nsex: 190:20:30\n",
    "",
    "a: [unclosed\n",
    "k: !custom 1\n",
]


@pytest.mark.parametrize("text", EDGE_CASES)
def test_edge_cases_load_the_same(text: str) -> None:
    _same(text)


def test_memoized_tags_do_not_leak_between_contexts() -> None:
    # the same plain text as a key, a value and in a list; quoted and plain
    text = "true: 'true'\n'1': 1\nl: [true, '1', 1, null, 'null']\n"
    _same(text)
    _same(text)
    assert yaml.load("d: 2002-12-14\n", Loader=_Loader)["d"] == datetime.date(2002, 12, 14)


def _same_single(text: str) -> None:
    try:
        expected = yaml.load(text, Loader=_Reference)
    except yaml.YAMLError as exc:
        with pytest.raises(type(exc)) as got:
            fastyaml.load(text)
        assert str(got.value) == str(exc)
        return
    assert _typed(fastyaml.load(text)) == _typed(expected)


@pytest.mark.parametrize("text", [*EDGE_CASES, "a: 1\n---\nb: 2\n", "a: {b: [1, {c: d}]}\na: 2\n"])
def test_fastyaml_load_is_yaml_load(text: str) -> None:
    """fastyaml.load (serve configs: ray_serve.load_serve_config) gives CSafeLoader's objects."""
    _same_single(text)


def test_fastyaml_load_reads_every_golden_serve_config_as_yaml_load() -> None:
    configs = [
        doc["spec"]["serveConfigV2"]
        for path in sorted(GOLDEN.rglob("manifests/**/rayservice.yaml"))
        for doc in yaml.load_all(path.read_text(encoding="utf-8"), Loader=_Reference)
        if doc
    ]
    assert len(configs) > 5
    for text in configs:
        _same_single(text)
