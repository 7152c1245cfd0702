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
        return [
            m
            for i, (e, a) in enumerate(zip(expected, actual, strict=True))
            for m in missing(e, a, f"{path}[{i}]")
        ]
    if str(expected) != str(actual):
        return [f"{path}: reference has {expected!r}, gen has {actual!r}"]
    return []


def with_parsed_serve_config(rayservice: dict[str, Any]) -> dict[str, Any]:
    """A copy whose serveConfigV2 string is parsed, so its fields compare one by one."""
    spec = dict(rayservice["spec"])
    spec["serveConfigV2"] = yaml.safe_load(spec["serveConfigV2"])
    return {**rayservice, "spec": spec}


def conflicts(reference: Any, actual: Any, path: str = "") -> list[str]:
    """Differences on the fields *both* set (the issue's "fields both set" comparison).

    Mappings: keys present in both; lists of named mappings: names present in both
    (containers are compared by position: samples name them differently); other lists
    position by position; scalars as strings.
    """
    if isinstance(reference, dict) and isinstance(actual, dict):
        return [
            c for k in reference if k in actual for c in conflicts(reference[k], actual[k], f"{path}.{k}")
        ]
    if isinstance(reference, list) and isinstance(actual, list):
        named = all(isinstance(e, dict) and "name" in e for e in reference + actual)
        if named and not path.endswith(".containers"):
            mine = {a["name"]: a for a in actual}
            return [
                c
                for e in reference
                if e["name"] in mine
                for c in conflicts(e, mine[e["name"]], f"{path}[name={e['name']}]")
            ]
        return [
            c
            for i, (e, a) in enumerate(zip(reference, actual, strict=False))
            for c in conflicts(e, a, f"{path}[{i}]")
        ]
    if type(reference) is not type(actual) and not (
        isinstance(reference, (str, int, float)) and isinstance(actual, (str, int, float))
    ):
        return [f"{path}: reference has {reference!r}, gen has {actual!r}"]
    if isinstance(reference, (dict, list)):
        return []
    return (
        [] if str(reference) == str(actual) else [f"{path}: reference has {reference!r}, gen has {actual!r}"]
    )
