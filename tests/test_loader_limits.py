"""gen's own YAML limits win over libyaml's, whatever libyaml version is installed.

libyaml's scanner reads ahead inside flow collections, and PyYAML 6.0.4's bundled libyaml
stops at a nesting limit of its own: on ``[[[[...`` its error could come before the event at
which gen's MAX_DEPTH trips. The loader must still report gen's message at the first
offending column (tests/hostile/deep-nesting-*/expected.txt).
"""

from __future__ import annotations

import pytest
import yaml

from generator.spec import loader

HEAD = "apiVersion: gen.llm-fleet.dev/v1alpha1\nkind: ModelFleet\nmetadata: {name: f}\nx: "


def _deep(n: int) -> str:
    return HEAD + "[" * n + "]" * n + "\n"


def _message(text: str) -> str:
    with pytest.raises(loader.LoadError) as info:
        loader.load_text(text, "m.yaml")
    return info.value.diagnostic.format()


@pytest.mark.parametrize("depth", [65, 1_500, 100_000])
def test_flow_nesting_reports_gens_limit_at_the_first_offending_column(depth):
    # x: is depth 1 (the root mapping); the 64th "[" opens level 65
    assert _message(_deep(depth)) == "m.yaml:4:67: nesting deeper than 64 levels"


def test_block_nesting_reports_gens_limit():
    text = HEAD.removesuffix("x: ") + "".join(f"{'  ' * i}k{i}:\n" for i in range(80))
    assert _message(text).endswith(": nesting deeper than 64 levels")


def test_a_libyaml_that_stops_earlier_still_gets_gens_message(monkeypatch):
    """Simulate a libyaml whose own limit trips first (deep in the line, as 6.0.4's does)."""
    real_parse = yaml.parse

    def early_limit(stream, Loader=yaml.Loader):  # noqa: N803 - PyYAML's own keyword
        if Loader is yaml.SafeLoader:
            return real_parse(stream, Loader=Loader)
        mark = yaml.Mark("m.yaml", 1016 + len(HEAD), 3, 1016 + 3, None, None)
        raise yaml.scanner.ScannerError(None, None, "exceeded maximum nesting depth", mark)

    monkeypatch.setattr(loader, "_Loader", getattr(yaml, "CSafeLoader", yaml.FullLoader))
    monkeypatch.setattr(loader.yaml, "parse", early_limit)
    assert _message(_deep(2_000)) == "m.yaml:4:67: nesting deeper than 64 levels"


def test_other_libyaml_errors_keep_their_own_message():
    assert _message(HEAD + "[1, 2\n").startswith("m.yaml:5:1: YAML syntax error:")


def test_depth_64_is_allowed():
    value = loader.load_text(_deep(63), "m.yaml").data["x"]
    depth = 2  # the root mapping is level 1, x's outer list level 2
    while value:
        value, depth = value[0], depth + 1
    assert depth == 64
