"""generator/render/blockyaml.py writes exactly PyYAML's bytes, or refuses."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.plan import build_plan
from generator.render.blockyaml import BlockEmitter, Unsupported
from generator.render.chart import _dump, dump_yaml
from generator.spec import load_spec

from .conftest import ROOT

# Characters that change a scalar's style: indicators, quotes, spaces, line breaks,
# resolver look-alikes (digits, dots, signs), non-ASCII and non-printable ones.
_CHARS = "aZ09 _-./:@+=#,[]{}&*!|>'\"%`?~\n\t\x85\u2028é\x07\ufeff<"
_WORDS = [
    "",
    "true",
    "yes",
    "No",
    "off",
    "null",
    "~",
    "Null",
    "1",
    "-1",
    "0x1f",
    "0o7",
    "1_000",
    "1.5",
    ".5",
    "1e3",
    "1.0e+3",
    ".inf",
    "-.Inf",
    ".nan",
    "1:20",
    "2001-12-14",
    "=",
    "<<",
    "...",
    "---",
    "- a",
    "a: b",
    "a #b",
    "a:",
    ":a",
    "?",
    "@x",
    "%x",
    "x" * 130,
    "a b " * 300,
    "line\nnext",
    "line\n\nnext\n",
    " lead",
    "trail ",
    "0.0.0.0",
    "35.191.0.0/16",
    "'1'",
]
_strings = st.one_of(st.sampled_from(_WORDS), st.text(alphabet=_CHARS, max_size=12))
_scalars = st.one_of(
    _strings,
    st.booleans(),
    st.none(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
)
_data = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(_strings, inner, max_size=4),
    ),
    max_leaves=25,
)


def _deep(levels):
    data = {"leaf": 1}
    for _ in range(levels):
        data = {"k": data}
    return data


def _deep_list(levels):
    data = ["leaf"]
    for _ in range(levels):
        data = [data]
    return data


def _emit(data):
    return BlockEmitter(_dump).dump(data)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.dictionaries(_strings, _data, min_size=1, max_size=5), st.lists(_data, min_size=1)))
def test_same_bytes_as_pyyaml_or_refused(data):
    try:
        text = _emit(data)
    except Unsupported:
        return  # dump_yaml falls back to PyYAML then (test_fallback_is_pyyaml)
    assert text == _dump(data)


@pytest.mark.parametrize("example", sorted(p.parent.name for p in (ROOT / "examples").glob("*/models.yaml")))
def test_every_example_values_file_needs_no_fallback(example):
    plan = build_plan(load_spec(ROOT / "examples" / example / "models.yaml"))
    for cluster in plan.clusters:
        assert _emit(cluster.values) == _dump(cluster.values)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({1: "a"}, "key 1"),
        ({"a": datetime.date(2026, 1, 1)}, "a date"),
        ({"k" * 200: 1}, "key"),
        ("scalar", "top-level scalar"),
        ({"a": "a b " * 200}, "character scalar"),
        (_deep(160), "too deep"),
        ([_deep_list(160)], "too deep"),
    ],
)
def test_refuses_what_it_cannot_write_exactly(data, reason):
    with pytest.raises(Unsupported, match=reason):
        _emit(data)


def test_fallback_is_pyyaml():
    data = {"models": [{"name": f"m{i}", "since": datetime.date(2026, 1, i % 28 + 1)} for i in range(40)]}
    with pytest.raises(Unsupported):
        _emit(data)
    assert dump_yaml(data) == _dump(data)
