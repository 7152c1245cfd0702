"""Cloud Storage locations: a ``gs://bucket/prefix`` source split, and whether two object
prefixes of one bucket share objects. The spec rules, the plan (which model waits for
which download) and the operational checks (which Job races which server) all ask."""

from __future__ import annotations


def split(source: str) -> tuple[str, str] | None:
    """(bucket, object prefix without surrounding slashes) of a gs:// source; None otherwise."""
    if not source.startswith("gs://"):
        return None
    bucket, _, prefix = source[len("gs://") :].partition("/")
    return bucket, prefix.strip("/")


def prefixes_overlap(a: str, b: str) -> bool:
    """Whether two object prefixes of one bucket ("" for all of it) share objects: one is
    a directory of the other (``google/gemma`` and ``google/gemma-2`` do not)."""
    a, b = a.strip("/"), b.strip("/")
    return not a or not b or a == b or a.startswith(b + "/") or b.startswith(a + "/")
