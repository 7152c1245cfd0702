"""libyaml's SafeLoader with the implicit tags of plain scalars memoized, and a builder
of plain JSON-like documents straight from the composed nodes.

SafeConstructor's generic per-node machinery (and the implicit-tag regexps, run on every
plain scalar) is most of the time spent loading large manifests; their documents are
almost always plain maps, lists, strings, numbers, booleans and nulls, which
``build_plain`` constructs directly. Whatever it does not handle exactly raises
``NotPlain``, and the caller constructs that document the generic way.
"""

from __future__ import annotations

import operator
import sys
from typing import Any

import yaml

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
STR, MAP, SEQ = (f"tag:yaml.org,2002:{t}" for t in ("str", "map", "seq"))
_JSON_SCALARS = {f"tag:yaml.org,2002:{t}" for t in ("int", "float", "bool", "null")}
_RESOLVED: dict[str, str] = {}  # plain scalar -> implicit tag
_SCALARS: dict[tuple[str, str], Any] = {}  # (tag, text) -> int/float/bool/None
_MEMO_LIMIT = 65536
_intern = sys.intern


class NotPlain(Exception):
    """The document needs SafeConstructor's generic construction."""


class MemoLoader(_Base):  # type: ignore[misc,valid-type]  # base picked at runtime (libyaml when there)
    """yaml.CSafeLoader whose implicit tag of a plain scalar, which depends on its text
    alone, is looked up once per distinct text."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        if not self.yaml_path_resolvers:
            # The composer calls these for every node; without path resolvers (SafeLoader
            # has none) Resolver's versions return at once. C callables that do nothing
            # spare a Python frame per call (~8% of composing a large manifest).
            self.descend_resolver = operator.is_
            self.ascend_resolver = tuple

    def resolve(self, kind: Any, value: str, implicit: Any) -> str:
        if self.yaml_path_resolvers:  # never for SafeLoader; kept exact if one is added
            return str(super().resolve(kind, value, implicit))
        if kind is not yaml.ScalarNode or not implicit[0]:  # what Resolver.resolve returns then
            return str(super().resolve(kind, value, implicit))
        tag = _RESOLVED.get(value)
        if tag is None:
            tag = str(super().resolve(kind, value, implicit))
            if len(_RESOLVED) < _MEMO_LIMIT:
                _RESOLVED[value] = tag
        return tag


class PlainBuilder:
    """Builds a document whose nodes are plain maps with string keys, lists and JSON
    scalars, with no aliases: exactly what SafeConstructor (and then a conversion to
    JSON data) would give. Raises NotPlain on anything else, on a duplicate key and past
    ``max_nodes`` nodes, so the caller's generic path reports those the way it always has."""

    def __init__(self, loader: Any, max_nodes: int) -> None:
        self._constructors = loader.yaml_constructors
        self._loader = loader
        self._budget = max_nodes
        self._seen: set[int] = set()

    def build(self, node: Any) -> Any:
        try:
            return self._build(node)
        except RecursionError:
            raise NotPlain from None

    def _build(self, node: Any) -> Any:
        self._budget -= 1
        if self._budget < 0:
            raise NotPlain
        cls = type(node)
        tag = node.tag
        if cls is yaml.ScalarNode:
            value = node.value
            if tag == STR:
                # one object per distinct short string (keys, labels, images...)
                return _intern(value) if len(value) < 128 else value
            if tag not in _JSON_SCALARS:
                raise NotPlain
            key = (tag, value)
            try:
                return _SCALARS[key]
            except KeyError:
                result = self._constructors[tag](self._loader, node)
                if len(_SCALARS) < _MEMO_LIMIT:
                    _SCALARS[key] = result
                return result
        ident = id(node)
        if ident in self._seen:
            raise NotPlain  # an alias: shared or recursive values
        self._seen.add(ident)
        if cls is yaml.MappingNode and tag == MAP:
            pairs = node.value
            out: dict[str, Any] = {}
            for key_node, value_node in pairs:
                if type(key_node) is not yaml.ScalarNode or key_node.tag != STR:
                    raise NotPlain  # non-string keys, merge keys
                out[self._build(key_node)] = self._build(value_node)
            if len(out) != len(pairs):
                raise NotPlain  # a duplicate key
            return out
        if cls is yaml.SequenceNode and tag == SEQ:
            return [self._build(child) for child in node.value]
        raise NotPlain


def load(text: str) -> Any:
    """``yaml.load(text, Loader=MemoLoader)``, plain documents built by PlainBuilder."""
    loader = MemoLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        try:
            return PlainBuilder(loader, sys.maxsize).build(node)
        except NotPlain:
            return loader.construct_document(node)
    finally:
        loader.dispose()
