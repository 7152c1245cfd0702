"""The spec loader's fast path (blockread, positions only when a message needs them)
reads exactly what the event-by-event read does, or leaves the text to it (issue 19)."""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings

from generator.spec import loader, validate_file

from .specgen import fleets
from .test_render_loader import _typed

ROOT = Path(__file__).resolve().parents[1]
CORPUS = sorted(
    [
        *ROOT.glob("examples/*/models.yaml"),
        *ROOT.glob("tests/hostile/*/models.yaml"),
        *ROOT.glob("tests/negative/*/models.yaml"),
    ]
)


def _slow(text: str) -> tuple[str, Any]:
    original = loader._fast_document
    loader._fast_document = lambda text, file: None
    try:
        doc = loader.load_text(text, "spec.yaml")
    except loader.LoadError as exc:
        return "error", exc.diagnostic
    finally:
        loader._fast_document = original
    return "ok", (_typed(doc.data), doc.positions)


def _same(text: str) -> bool:
    """load_text gives the slow read's data, positions and errors; True when the fast
    path read it."""
    fast = loader._fast_document(text, "spec.yaml")
    expected = _slow(text)
    if fast is None:
        return False
    assert expected[0] == "ok", f"the fast path accepted what the full read refuses: {expected[1]}"
    data, positions = expected[1]
    assert _typed(fast.data) == data
    raws = [p.raw for p in positions.values() if p.raw and re.fullmatch(loader.AMBIGUOUS_INT, p.raw)]
    assert fast.maybe_ambiguous_ints or not raws, raws  # decided from the text, before positions
    assert fast.positions == positions  # computed when asked
    return True


def _texts() -> list[str]:
    return [p.read_bytes().decode("utf-8", errors="replace") for p in CORPUS]


def test_every_example_and_fixture_reads_the_same() -> None:
    read = sum(_same(text) for text in _texts())
    assert len(CORPUS) > 150
    assert read > 50  # the examples and most fixtures take the fast path


def test_validation_gives_the_same_issues_either_way() -> None:
    """Every fixture's verdict and messages (positions included) are the same with and
    without the fast path."""
    original = loader._fast_document
    for path in CORPUS:
        fast = validate_file(path)[1]
        loader._fast_document = lambda text, file: None
        try:
            slow = validate_file(path)[1]
        finally:
            loader._fast_document = original
        assert fast == slow, path


CASES = [
    "a: 1\na: 2\n",  # a repeated key: the full read names both lines
    "a:\n  b: 1\n  b: 1\n",
    "yes: 1\n",  # a key YAML reads as a boolean
    "1: a\n",
    "a: 2001-12-14\n",  # a date: refused with its own message
    "a: .inf\n",
    "a: .nan\n",
    "a: 0755\n",  # octal: the ambiguous-integer warning needs its raw text
    "a: [1:30, x]\n",
    "a: 'x'\nb: \"0755\"\n",
    "- a\n",
    "a\n",
    "",
    "a: 1\n" + "  " * 70 + "b: 1\n",
    "".join(f"{'  ' * i}k{i}:\n" for i in range(70)) + "  " * 70 + "v: 1\n",
    "a: &x 1\nb: *x\n",
]


@pytest.mark.parametrize("text", CASES)
def test_edge_cases(text: str) -> None:
    _same(text)


@settings(max_examples=60, deadline=None)
@given(fleet=fleets())
def test_generated_specs(fleet: dict[str, Any]) -> None:
    _same(yaml.safe_dump(fleet, sort_keys=False))


def test_edited_examples() -> None:
    """Random edits of the examples: the fast path agrees or leaves the text alone."""
    rng = random.Random(15)
    texts = [p.read_text(encoding="utf-8") for p in ROOT.glob("examples/*/models.yaml")]
    read = 0
    for n in range(600):
        lines = rng.choice(texts).split("\n")
        j = rng.randrange(len(lines))
        line = lines[j]
        if n % 3 == 0 and line:
            k = rng.randrange(len(line))
            lines[j] = line[:k] + rng.choice(" :-#'\"0[]{}&*!?\n\t") + line[k + 1 :]
        elif n % 3 == 1:
            lines.insert(j, line)  # often a repeated key
        else:
            lines[j] = " " + line
        read += _same("\n".join(lines))
    assert read > 100
