"""generator/blockread.py reads exactly what yaml.CSafeLoader reads, or refuses
(Unsupported), and never accepts a text libyaml rejects (issue 19)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from generator import blockread
from generator.render.manifests import _DOC_SPLIT

from .test_render_loader import EDGE_CASES, _typed

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
_Reference = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _outcome(text: str) -> tuple[str, Any]:
    """("ok", value) or ("unsupported", None) for blockread.load; any other exception
    fails the test (the caller falls back to libyaml only on Unsupported)."""
    try:
        return "ok", _typed(blockread.load(text))
    except blockread.Unsupported:
        return "unsupported", None


def _agrees(text: str) -> bool:
    """blockread gives libyaml's value or refuses; True when it read the text itself."""
    got, value = _outcome(text)
    try:
        expected = yaml.load(text, Loader=_Reference)
    except (yaml.YAMLError, ValueError):  # ValueError: e.g. the date 2002-02-30
        assert got == "unsupported", f"accepted what libyaml rejects: {text!r}"
        return False
    if got == "ok":
        assert value == _typed(expected), text
        return True
    return False


def _golden_docs() -> list[str]:
    return [
        part
        for path in sorted(GOLDEN.rglob("manifests/**/*.yaml"))
        for part in _DOC_SPLIT.split(path.read_text(encoding="utf-8"))
        if part.strip()
    ]


def test_every_golden_manifest_reads_the_same_and_almost_all_without_libyaml() -> None:
    docs = _golden_docs()
    read = sum(_agrees(doc) for doc in docs)
    assert len(docs) > 50
    # the fast path is what renders use: only flow mappings (an EPP's affinity) go to libyaml
    assert read >= 0.97 * len(docs), f"{len(docs) - read} of {len(docs)} left to libyaml"


CASES = [
    # YAML 1.1 scalars, resolved as PyYAML does
    "a: 1\nb: true\nc: null\nd: 1.5\ne: '1'\nf: 0o17\ng: 017\nh: 0x1f\ni: yes\nj: ~\nk: .inf\nl: -.nan\n",
    "on: off\nY: n\n1: one\n-1: x\n1_000: 2:30\nt: 2001-12-14t21:59:43.10-05:00\nd: 2002-12-14\n",
    'k:\nn: \'\'\nq: ""\nflow: []\nm: {}\nlist: [a, "b c", 1, yes, -x]\n',
    # indentless and indented sequences, compact nested collections
    "a:\n- 1\n- b: 2\n  c: 3\n- - x\n  - y\nd: 4\n",
    "a:\n  - 1\n  -\n    b: 2\n  - \"q\": 1\n    'r''s': 2\n",
    "- a\n- b:\n  - c\n-\n- 'x'\n",
    # literal block scalars: chomping, trailing and leading empty lines, spaces
    "a: |\n  x\n  y\nb: |-\n  x\n\n\nc: |+\n  x\n\n\nd: 1\n",
    "a: |+\n  x\n\n",
    "a: |+\n  x\n  \n",
    "a: |\n  x\n\n",
    "a: |\n  x",
    "a: |-\n  x",
    "a: |+\n  x",
    "a: |\n\n  x\n   \n    y  \n\n",
    "a: |\n  \n    x\n",
    "a: |\n      x\n    y\n",
    "- |\n  x\n- |-\n  y\n",
    "a: |\nb: 1\n",
    "a: |2\n  x\n",
    "a: >\n  x\n  y\n",
    # comments, quoting, odd spacing
    "# c\na: 1 # trailing\n",
    "a: 1\n  # indented comment\nb: 2\n",
    "a:    'x'   \nb:   \"y\"  \n",
    'a: "x\\ny"\n',
    "a: 'it''s'\n",
    "a: 'x' y\n",
    'a: "x" y\n',
    "a b: c d\n",
    "a: b: c\n",
    "a: b:\n",
    "a: -\n",
    "a: ?x\n",
    "a: b #c\n",
    "a: b#c\n",
    "a: [b, c\n",
    "a: [b, 'c']\n",
    'a: ["b,c"]\n',
    "a: {b: c}\n",
    "a: &x 1\nb: *x\n",
    "a: !!str 1\n",
    "<<: {a: 1}\n",
    "=: 1\n",
    # structure errors and look-alikes
    "a: 1\n b: 2\n",
    "a:\n  b: 1\n c: 2\n",
    "a:\n  b: 1\n  - c\n",
    "a: 1\n- b\n",
    "- a\n  - b\n",
    "- a\nb: 1\n",
    "a:\n  plain\n  continued\n",
    "  a: 1\n",
    "a: 1\n---\nb: 2\n",
    "a: 1\n...\n",
    "%YAML 1.1\n---\na: 1\n",
    "a:\t1\n",
    "a: 1\r\nb: 2\r\n",
    "\ufeffa: 1\n",
    "a: \x07\n",
    "a: x\x85y\n",
    "a: é\n",
    "",
    "# only a comment\n",
    "x" * 1023 + ": 1\n",
    "x" * 1024 + ": 1\n",
    "x" * 1030 + ": 1\n",
    # found by an adversarial review (2026-12-01): each was read differently before
    "- a \n- 1 \n- yes \n- ~ \n- a:\n  - b \n",
    "a: x\u2028y\n",
    "a\u2029b: c\n",
    "a: 'x\u2028  y'\n",
    "a: |\n  x\u2028  y\n",
    "#\u2028a: 1\n",
    "- #a:\n",
    "- # note: x\n- b\n",
    "a: [a:?]\n",
    "a: [a:?b]\n",
    "a: 2002-02-30\n- x\n",
    "a: 2002-02-30\n",
    # comments after values (hand-written specs)
    "a: b  # why\nc: 'd' # why\ne: \"f\"   # why\ng: 'h #i'\nj: \"k #l\"\nm: n#o # p\n",
    "a:  # the next lines\n  b: 1 # one\nc: # null\nd:\n- x # first\n- 'y' # second\n- # null\n",
    "a: 'x' y # c\n",
    'a: "x" "y" # c\n',
    'a: "x\\"y" # c\n',
    "a: [x] # c\nb: {} # c\n",
    "a: | # c\n  x\n",
    "- a # note: x\n",
    "a: b #\n",
    "a: 'x'#c\n",
    # one-line flow mappings (hand-written specs)
    'a: {type: nvidia-l4, count: 2}\nb: {x: "1", y: yes, z: ~}\n- {name: w, region: r}\n',
    "- {name: w, region: europe-west3, role: config}\n- {}\n- { a: b }\n",
    "a: {x: 1, x: 2}\n",
    "a: {x: y: z}\n",
    "a: {x: [y]}\n",
    "a: {x: {y: z}}\n",
    'a: {"x": y}\n',
    "a: {x:y}\n",
    "a: {x: y,}\n",
    "a: {x: 'y'}\n",
    "a: {x: a:?}\n",
    "a: {x: hf://org/model}\n",
]


@pytest.mark.parametrize("text", CASES + EDGE_CASES)  # and the libyaml loader's own edge cases
def test_edge_cases(text: str) -> None:
    _agrees(text)


def test_the_fast_path_reads_the_common_shapes() -> None:
    # a test that could pass by refusing everything would prove nothing
    for text in CASES[:14]:
        assert _outcome(text)[0] == "ok", text


class _IndentedDumper(yaml.SafeDumper):
    """Sequences indented under their key, as Helm's toYaml and gen's charts write them."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


_WORDS = ["", "a", "x y", "true", "yes", "Off", "~", "null", "1", "-1", "0x1f", "0o7", "017", "1_000", "1.5",
          "1e3", ".inf", "2002-12-14", "a: b", "a #b", "- a", "#", "'", '"', "|", "é", "x\ny", "x\n\n", " x ",
          "<<", "="]  # fmt: skip
_scalars = st.one_of(
    st.sampled_from(_WORDS),
    st.text(alphabet="ab :#-'\"\n\\é|", max_size=12),
    st.integers(-(10**6), 10**6),
    st.booleans(),
    st.none(),
)
_data = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(_WORDS[:20]) | st.text("ab", max_size=3), inner, max_size=4),
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(data=_data, indented=st.booleans(), indent=st.sampled_from([2, 4]), width=st.sampled_from([20, 80]))
def test_generated_documents(data: Any, indented: bool, indent: int, width: int) -> None:
    dumper = _IndentedDumper if indented else yaml.SafeDumper
    text = yaml.dump(
        data, Dumper=dumper, default_flow_style=False, indent=indent, width=width, allow_unicode=True
    )
    _agrees(text)


_MUTATIONS = "aZ0 :-#'\"|[]{}&*!?%@`\n\t\\"


def test_mutated_rendered_documents_never_read_differently() -> None:
    """Random edits of rendered documents (a character inserted, deleted or replaced, an
    indentation changed, a line dropped or repeated): blockread agrees with libyaml or
    refuses, on every one."""
    rng = random.Random(19)
    docs = _golden_docs()
    read = 0
    for n in range(3000):
        lines = rng.choice(docs).split("\n")
        j = rng.randrange(len(lines))
        line = lines[j]
        op = n % 5
        if op == 0 and line:
            k = rng.randrange(len(line))
            lines[j] = line[:k] + rng.choice(_MUTATIONS) + line[k + 1 :]
        elif op == 1:
            k = rng.randrange(len(line) + 1)
            lines[j] = line[:k] + rng.choice(_MUTATIONS) + line[k:]
        elif op == 2:
            lines[j] = line[1:] if line.startswith(" ") and rng.random() < 0.5 else " " + line
        elif op == 3:
            del lines[j]
        else:
            lines.insert(j, line)
        read += _agrees("\n".join(lines))
    assert read > 1000  # most edits keep the text in the subset: the comparison is real


_SCALAR_BITS = [
    "a", "b c", "yes", "No", "on", "~", "null", "true", "0o17", "017", "0x1f", "1_000", "1:30", "1.5", "1e3",
    "-1", ".inf", ".nan", "2001-12-14", "2002-02-30", "<<", "=", "-", "-x", "?x", ":x", "a:b", "a:", "a: b",
    "a #b", "a#b", "#x", "a,b", "[a]", "[a, b]", "[]", "{}", "{a: b}", "[a:?]", '["x", y]', "'it''s'", "''",
    '""', '"x"', "'a' b", '"a" #c', "@x", "!x", "&a x", "*a", "é", "x\u2028y", "x\x85y", "x\ty", "b ", " d",
]  # fmt: skip
_KEY_BITS = [
    "a",
    "b",
    "key with space",
    "yes",
    "1",
    "~",
    "'q'",
    '"dq"',
    "a#b",
    "a:b",
    "-k",
    "<<",
    "k ",
    "x" * 1030,
]


def _random_block(rng: random.Random, col: int, depth: int) -> list[str]:
    """Lines of a random block collection at ``col``: mappings, sequences (indentless,
    compact "- k: v" and "- - x"), literal scalars, comments, odd spacing."""
    pad, lines = " " * col, []
    as_seq = rng.random() < 0.4
    for _ in range(rng.randint(1, 3)):
        head = pad + ("- " if as_seq else rng.choice(_KEY_BITS) + ":")
        r = rng.random()
        if depth < 3 and r < 0.3:
            if as_seq and rng.random() < 0.5:  # compact: the nested block starts on the dash's line
                inner = _random_block(rng, col + 2, depth + 1)
                lines += [head + inner[0].lstrip(" "), *inner[1:]]
            else:
                step = 0 if not as_seq and rng.random() < 0.2 else rng.choice([1, 2, 4])
                lines += [head.rstrip(" "), *_random_block(rng, col + step, depth + 1)]
        elif r < 0.4:
            body = [
                pad + " " * rng.choice([1, 2, 3]) + rng.choice(["x", "y z", "", "  ", "- a", "a: b"])
                for _ in range(3)
            ]
            lines += [head + (" " if not as_seq else "") + rng.choice(["|", "|-", "|+", ">", "|2"]), *body]
        elif r < 0.45:
            lines.append(pad + "# " + rng.choice(_SCALAR_BITS))
        else:
            sep = "" if as_seq else rng.choice([" ", "  "])
            lines.append(head + sep + rng.choice(_SCALAR_BITS) + rng.choice(["", "", " ", " # c"]))
    return lines


def test_random_block_documents() -> None:
    """Random documents built from YAML's tricky pieces (after an adversarial review that
    found trailing spaces, line separators and comments after a dash read differently)."""
    rng = random.Random(2026)
    read = 0
    for _ in range(4000):
        lines = _random_block(rng, 0, 0)
        read += _agrees("\n".join(lines) + rng.choice(["\n", "", "\n\n"]))
    assert read > 400  # the fast path is exercised, not only refused
