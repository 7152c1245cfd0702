"""Block-style YAML for plain data, byte-identical to PyYAML's, several times faster.

``values-<cluster>.yaml`` of a 1,000-model fleet is ~150,000 nodes, and PyYAML's
representer (pure Python even with libyaml's emitter) spent 0.7-0.8 s on it, holding the
GIL while the Helm engine's output waited to be parsed. The structure of block YAML is
simple (``key: value``, indentless ``- item`` lists, ``{}``/``[]`` when empty); the hard
part, choosing each scalar's style, is left to PyYAML: each distinct scalar is asked of
PyYAML once and memoized, except strings that are plain by construction (a conservative
character set that PyYAML's emitter never quotes, and that its resolver reads back as a
string). Anything this module does not cover exactly (other types, non-string keys,
scalars PyYAML writes over several lines or as complex keys) raises ``Unsupported`` and
the caller dumps with PyYAML. tests/test_blockyaml.py compares the bytes with PyYAML's
on generated data and on every values file of the examples.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import yaml

# Strings written plain without asking PyYAML: no indicator first (- ? : , [ ] { } # & *
# ! | > ' " % @ `), no space, quote, '#' or ': ' anywhere, no trailing ':'.
_PLAIN = re.compile(r"[A-Za-z0-9_./][A-Za-z0-9_./@+=:-]*(?<!:)\Z")
_STR_TAG = "tag:yaml.org,2002:str"
# PyYAML breaks a scalar at a space past column 1000 (width=1000): a scalar asked of PyYAML
# is used only if it is short enough never to reach that column here (indent <= _MAX_PAD,
# keys <= 128 characters), wherever it is placed.
_MAX_ASKED = 500
_MAX_PAD = 300
_RESOLVER = yaml.resolver.Resolver()


class Unsupported(Exception):
    """Data this emitter does not write exactly as PyYAML would."""


class BlockEmitter:
    """One dump's worth of memoized scalars; ``pyyaml`` dumps a value as PyYAML does
    (with the caller's Dumper and settings)."""

    def __init__(self, pyyaml: Callable[[Any], str]) -> None:
        self._pyyaml = pyyaml
        self._values: dict[str, str] = {}
        self._keys: dict[str, str] = {}

    def dump(self, data: Any) -> str:
        out: list[str] = []
        if isinstance(data, dict) and data:
            self._map(data, "", out, None)
        elif isinstance(data, list) and data:
            self._seq(data, "", out, None)
        else:
            raise Unsupported("a top-level scalar")  # PyYAML adds an end marker
        return "".join(out)

    # --------------------------------------------------------------- structure

    def _map(self, data: dict[Any, Any], pad: str, out: list[str], first: str | None) -> None:
        if len(pad) > _MAX_PAD:
            raise Unsupported("nested too deep")
        lead = pad if first is None else first
        for key, value in data.items():
            if type(key) is not str:
                raise Unsupported(f"key {key!r}")
            text = self._keys.get(key) or self._key(key)
            if type(value) is dict and value:
                out.append(f"{lead}{text}:\n")
                self._map(value, pad + "  ", out, None)
            elif type(value) is list and value:
                out.append(f"{lead}{text}:\n")
                self._seq(value, pad, out, None)  # PyYAML does not indent a mapping's list
            else:
                out.append(f"{lead}{text}: {_at(self._scalar(value), pad)}\n")
            lead = pad

    def _seq(self, data: list[Any], pad: str, out: list[str], first: str | None) -> None:
        if len(pad) > _MAX_PAD:
            raise Unsupported("nested too deep")
        lead = (pad if first is None else first) + "- "
        for item in data:
            if type(item) is dict and item:
                self._map(item, pad + "  ", out, lead)
            elif type(item) is list and item:
                self._seq(item, pad + "  ", out, lead)
            else:
                out.append(f"{lead}{_at(self._scalar(item), pad)}\n")
            lead = pad + "- "

    # ----------------------------------------------------------------- scalars

    def _scalar(self, value: Any) -> str:
        kind = type(value)
        if kind is str:
            return self._values.get(value) or self._string(value)
        if kind is bool:
            return "true" if value else "false"
        if kind is int:
            return str(value)
        if value is None:
            return "null"
        if kind is dict:  # empty: {}
            return "{}"
        if kind is list:
            return "[]"
        if kind is float:
            return self._item(value)
        raise Unsupported(f"a {kind.__name__}")

    def _string(self, value: str) -> str:
        if _PLAIN.match(value) and not value.startswith("...") and _plain_is_str(value):
            text = value
        else:
            text = self._item(value)
        self._values[value] = text
        return text

    def _key(self, key: str) -> str:
        if _PLAIN.match(key) and len(key) <= 128 and not key.startswith("...") and _plain_is_str(key):
            text = key
        else:
            dumped = self._pyyaml({key: None})
            if not dumped.endswith(": null\n") or dumped.startswith("? "):
                raise Unsupported(f"key {key!r}")
            text = self._single_line(dumped[: -len(" null\n")] + "\n", "", key)[:-1]
        self._keys[key] = text
        return text

    def _item(self, value: Any) -> str:
        """PyYAML's text for a scalar in block context; its continuation lines (a long or
        multi-line string) indented relative to the column of the collection holding it."""
        dumped = self._pyyaml([value])
        if len(dumped) > _MAX_ASKED:  # PyYAML folds it where it passes the width: the
            raise Unsupported(f"a {len(dumped)}-character scalar")  # column matters then
        if _OTHER_BREAKS.search(dumped):
            raise Unsupported(f"{value!r} has a line break other than \\n")
        return dumped[2:-1]

    @staticmethod
    def _single_line(dumped: str, prefix: str, value: Any) -> str:
        if not dumped.startswith(prefix) or dumped.count("\n") != 1:
            raise Unsupported(f"{value!r} is written over several lines")
        return dumped[len(prefix) : -1]


_OTHER_BREAKS = re.compile("[\r\x85\u2028\u2029]")
_CONTINUATION = re.compile(r"\n(?=[^\n])")


def _at(text: str, pad: str) -> str:
    """A scalar's text placed in a collection at column len(pad): its continuation lines
    moved right by pad, except empty ones (PyYAML writes no trailing spaces)."""
    return _CONTINUATION.sub("\n" + pad, text) if pad and "\n" in text else text


def _plain_is_str(text: str) -> bool:
    """PyYAML's resolver reads this plain scalar back as a string (not a bool, number,
    null or timestamp), so PyYAML's representer writes it plain."""
    tag: str = _RESOLVER.resolve(yaml.ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
    return tag == _STR_TAG
