"""The chart's values checked against its values.schema.json files here, as Helm checks
them before it renders, so that gen's own renders can load the chart without them.

Helm compiles every values.schema.json of a chart on every render (v4.2,
pkg/chart/common/util/jsonschema.go: a new santhosh-tekuri/jsonschema compiler per
ValidateAgainstSingleSchema). That was 11% of the engine's time on gen's charts at 100 and
1,000 models and 29% at 10 (bench/issue19.md). Here each schema is compiled once per
process (jsonschema_rs) and the check runs while the engine renders. The emitted chart
keeps its schemas, so ``helm install`` checks the same values again.

What Helm validates is its coalesced values: each chart's values.yaml under the values
given, subcharts' sections recursively, with the parent's globals
(pkg/chart/common/util/coalesce.go). Then ValidateAgainstSchema walks the chart and each
dependency left after ProcessDependencies dropped those whose condition is false
(jsonschema.go). Both are ported below, read from helm/helm at 012bc59 and 010a116, for the
chart features gen's charts use: dependencies with a ``condition``, nothing else. A chart
using anything else (tags, aliases, import-values) is not ``supported``, and its schemas
stay with the engine. tests/test_values_schema.py holds the port to the verdict of the
engine gen embeds (helm-python-sdk, Helm v4.2.3), nulls and disabled subcharts included.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import yaml

SCHEMA = "values.schema.json"
_GLOBAL = "global"
_MISSING = object()
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Chart:
    """A chart and its dependencies, as Helm coalesces and validates values for them."""

    name: str
    defaults: dict[str, Any]  # its values.yaml (never mutated)
    schema: bytes | None
    deps: tuple[tuple[Chart, str | None], ...]  # each subchart and its condition


def without_schemas(files: Mapping[str, bytes]) -> dict[str, bytes]:
    """The chart's files for the Helm engine: every values.schema.json left out."""
    return {rel: data for rel, data in files.items() if rel.rpartition("/")[2] != SCHEMA}


def load(files: Mapping[str, bytes]) -> Chart | None:
    """The chart (its files) as problems() reads it; None when it uses a feature the port
    lacks, and its schemas stay with the engine."""
    try:
        return _tree(files, "")
    except _Unsupported:
        return None


def problems(root: Chart, values: dict[str, Any]) -> str | None:
    """Helm's message for ``values`` (one cluster's) breaking the chart's schemas; None when
    they meet them."""
    found: list[str] = []
    try:
        # conditions are read in the values coalesced over every subchart; what is
        # validated is coalesced again over those left
        enabled = _enabled(root, _coalesce(root, values, "", merge=False))
        _validate(enabled, _coalesce(enabled, values, "", merge=False), found)
    except ValueError as exc:  # a subchart's section that is not a map
        return str(exc)
    if not found:
        return None
    head = "values don't meet the specifications of the schema(s) in the following chart(s):\n"
    return head + "".join(found)


class _Unsupported(Exception):
    pass


def _tree(files: Mapping[str, bytes], prefix: str) -> Chart:
    meta = _yaml(files[f"{prefix}Chart.yaml"])
    listed: dict[str, str | None] = {}
    for dep in meta.get("dependencies") or []:
        if set(dep) - {"name", "version", "repository", "condition"} or (prefix and dep.get("condition")):
            raise _Unsupported(f"{prefix}Chart.yaml: {sorted(dep)}")  # only the umbrella's have conditions
        listed[dep["name"]] = dep.get("condition")
    under = f"{prefix}charts/"
    subdirs = sorted({rel[len(under) :].split("/")[0] for rel in files if rel.startswith(under)})
    deps = []
    for sub in subdirs:
        if f"{prefix}charts/{sub}/Chart.yaml" not in files:
            raise _Unsupported(f"{prefix}charts/{sub}: not an unpacked chart")
        chart = _tree(files, f"{prefix}charts/{sub}/")
        deps.append((chart, listed.get(chart.name)))
    defaults = files.get(f"{prefix}values.yaml")
    return Chart(
        str(meta["name"]),
        _yaml(defaults) if defaults else {},
        files.get(f"{prefix}{SCHEMA}"),
        tuple(deps),
    )


@lru_cache(maxsize=64)
def _yaml(data: bytes) -> dict[str, Any]:  # read-only: shared by every render
    loaded = yaml.load(data, Loader=_LOADER)
    return loaded if isinstance(loaded, dict) else {}


@lru_cache(maxsize=64)
def _validator(schema: bytes) -> Any:
    import json

    import jsonschema_rs

    return jsonschema_rs.validator_for(json.loads(schema))


def _enabled(chart: Chart, merged: dict[str, Any]) -> Chart:
    """The chart as ProcessDependencies leaves it: a dependency whose condition names a
    boolean that is false is dropped (the conditions are paths in the coalesced values)."""
    deps = tuple((sub, cond) for sub, cond in chart.deps if _condition(cond, merged) is not False)
    return Chart(chart.name, chart.defaults, chart.schema, deps)


def _condition(path: str | None, values: dict[str, Any]) -> bool | None:
    if not path:
        return None
    for condition in path.split(","):  # the first that names a boolean decides
        node: Any = values
        for part in condition.strip().split("."):
            node = node.get(part, _MISSING) if isinstance(node, dict) else _MISSING
        if isinstance(node, bool):
            return node
    return None


def _validate(chart: Chart, values: dict[str, Any], found: list[str]) -> None:
    if chart.schema is not None:
        errors = [
            f"- at '/{'/'.join(map(str, e.instance_path))}': {e.message}\n"
            for e in _validator(chart.schema).iter_errors(values)
        ]
        if errors:
            found.append(f"{chart.name}:\n" + "".join(errors))
    for sub, _ in chart.deps:
        raw = values.get(sub.name)
        if raw is None:
            continue
        if not isinstance(raw, dict):
            found.append(
                f"{sub.name}:\ninvalid type for values: expected object (map), got {type(raw).__name__}\n"
            )
            continue
        _validate(sub, raw, found)


# Helm's coalescing, without mutating its inputs: each function returns new dicts where
# Helm changes its copies in place (CoalesceValues deep-copies the values first).


def _coalesce(chart: Chart, values: dict[str, Any], prefix: str, merge: bool) -> dict[str, Any]:
    return _coalesce_deps(chart, _coalesce_values(chart, values, prefix, merge), prefix, merge)


def _coalesce_deps(chart: Chart, dest: dict[str, Any], prefix: str, merge: bool) -> dict[str, Any]:
    out = dict(dest)
    for sub, _ in chart.deps:
        section = out.get(sub.name, _MISSING)
        if section is _MISSING:
            section = {}
        elif not isinstance(section, dict):
            raise ValueError(f"type mismatch on {sub.name}")
        sub_prefix = f"{prefix}.{chart.name}" if prefix else chart.name
        out[sub.name] = _coalesce(sub, _coalesce_globals(section, out), sub_prefix, merge)
    return out


def _coalesce_globals(dest: dict[str, Any], src: dict[str, Any]) -> dict[str, Any]:
    """dest with src's globals merged into its own (src's win)."""
    dg = dest.get(_GLOBAL, {})
    sg = src.get(_GLOBAL, {})
    if not isinstance(dg, dict) or not isinstance(sg, dict):
        return dest  # Helm warns and leaves the globals alone
    dg = dict(dg)
    for key, val in sg.items():
        if isinstance(val, dict):
            if key not in dg:
                dg[key] = dict(val)
            elif isinstance(dg[key], dict):
                dg[key] = _coalesce_tables(dict(val), dg[key], merge=True)
        elif not isinstance(dg.get(key), dict):
            dg[key] = val
    return {**dest, _GLOBAL: dg}


def _coalesce_values(chart: Chart, values: dict[str, Any], prefix: str, merge: bool) -> dict[str, Any]:
    """values over the chart's defaults (values win; a null removes a default)."""
    out = dict(values)
    children = {sub.name for sub, _ in chart.deps}
    for key, default in chart.defaults.items():
        if key not in values:
            if not merge and prefix:  # a subchart's own nulls do not leak into the result
                if default is None:
                    continue
                if isinstance(default, dict):
                    default = _without_nulls(default)
            out[key] = default
            continue
        value = values[key]
        if value is None and not merge:
            del out[key]
        elif isinstance(value, dict) and isinstance(default, dict):
            child_merge = merge or key in children
            src = _without_nulls(default) if not child_merge and prefix else default
            out[key] = _coalesce_tables(value, src, child_merge)
    return out


def _coalesce_tables(dst: dict[str, Any], src: dict[str, Any], merge: bool) -> dict[str, Any]:
    """dst over src (dst wins, tables merged); a null in dst removes src's non-null value
    unless merging."""
    out = dict(dst)
    for key, val in src.items():
        if key not in dst:
            out[key] = val
            continue
        dv = dst[key]
        if dv is None:
            if not merge and val is not None:
                del out[key]
        elif isinstance(val, dict) and isinstance(dv, dict):
            out[key] = _coalesce_tables(dv, val, merge)
    return out


def _without_nulls(table: dict[str, Any]) -> dict[str, Any]:
    return {k: _without_nulls(v) if isinstance(v, dict) else v for k, v in table.items() if v is not None}
