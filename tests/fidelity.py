"""Field-level comparison: does a rendered resource set every field a reference sets?"""

from __future__ import annotations

from typing import Any

import yaml


def missing(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Every place where ``actual`` differs from ``expected`` on a field expected sets.

    Mappings: every expected key must be present and match (extra keys are fine).
    Lists of named mappings (containers, env, ports) are matched by ``name``; other
    lists by position. Scalars are compared as strings, since YAML quoting of
    quantities ("1" vs 1) is not a difference a cluster would notice.
    """
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected a mapping, got {actual!r}"]
        out = []
        for key, value in expected.items():
            if key not in actual:
                out.append(f"{path}.{key}: missing (reference has {value!r})")
            else:
                out += missing(value, actual[key], f"{path}.{key}")
        return out
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [f"{path}: expected a list, got {actual!r}"]
        named = all(isinstance(e, dict) and "name" in e for e in expected + actual)
        if named:
            by_name = {a["name"]: a for a in actual}
            out = []
            for e in expected:
                if e["name"] not in by_name:
                    out.append(f"{path}[name={e['name']}]: missing")
                else:
                    out += missing(e, by_name[e["name"]], f"{path}[name={e['name']}]")
            return out
        if len(expected) != len(actual):
            return [f"{path}: {len(expected)} items expected, got {len(actual)}"]
        return [m for i, (e, a) in enumerate(zip(expected, actual))
                for m in missing(e, a, f"{path}[{i}]")]
    if str(expected) != str(actual):
        return [f"{path}: reference has {expected!r}, gen has {actual!r}"]
    return []


def with_parsed_serve_config(rayservice: dict[str, Any]) -> dict[str, Any]:
    """A copy whose serveConfigV2 string is parsed, so its fields compare one by one."""
    spec = dict(rayservice["spec"])
    spec["serveConfigV2"] = yaml.safe_load(spec["serveConfigV2"])
    return {**rayservice, "spec": spec}
