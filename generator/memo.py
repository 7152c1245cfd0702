"""Memoizing what a fleet derives once per model from a few inputs (its worker's node
shape, its capacity): a thousand-model fleet has a few dozen distinct accelerators,
overrides and engine arguments, so each combination is worked out once."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

R = TypeVar("R")


class _Items(tuple):  # type: ignore[type-arg]  # a mapping argument, as (key, type, value)s
    __slots__ = ()


def _key(value: Any) -> Any:
    # 2 and 2.0 kept apart: they print differently
    return _Items((k, type(v), v) for k, v in value.items()) if isinstance(value, Mapping) else value


def _mapping(value: Any) -> Any:
    return {k: v for k, _, v in value} if isinstance(value, _Items) else value


def by_items(fn: Callable[..., R]) -> Callable[..., R]:
    """``fn`` memoized on its positional arguments, each mapping among them by its items;
    called directly when one of them holds an unhashable value. Callers share a result:
    they copy what they change."""

    @functools.lru_cache(maxsize=1024)
    def once(*keys: Any) -> R:
        return fn(*map(_mapping, keys))

    @functools.wraps(fn)
    def call(*args: Any) -> R:
        try:
            return once(*map(_key, args))
        except TypeError:  # unhashable (the spec rules report such values)
            return fn(*args)

    return call
