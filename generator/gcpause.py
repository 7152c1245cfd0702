"""Cyclic garbage collection paused while one command builds its large, long-lived
object graph: a render or check of a large fleet holds millions of live objects
(parsed documents, YAML nodes, plan) that every full collection walks again, while
it creates next to no garbage cycles. Reference counting still frees everything."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
