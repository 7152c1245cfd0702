"""The typed spec (generator/spec/model.py) mirrors schemas/models.schema.json: every
property is a field (snake case), every schema default is the field's default, and
building the model from a spec keeps every value the spec holds."""

from __future__ import annotations

import copy
import dataclasses
import types
from collections.abc import Iterator, Mapping
from typing import Any, Union, get_args, get_origin, get_type_hints

import pytest
import yaml

from generator.spec import Spec, load_spec, validate_document
from generator.spec import model as M  # noqa: N812
from generator.spec.build import model_from_raw
from generator.spec.loader import load_text
from generator.spec.schema import _resolve, spec_schema

from .conftest import EXAMPLES, ROOT
from .test_bench_specs import make_specs

# field names that are not the schema key in snake case (Python keywords, acronyms)
_KEYS = {"class_": "class", "from_": "from", "load_balancer_cidrs": "loadBalancerCIDRs", "chat_ui": "chatUI"}
_MISSING = dataclasses.MISSING


def schema_key(name: str) -> str:
    if name in _KEYS:
        return _KEYS[name]
    first, *rest = name.split("_")
    return first + "".join(p[:1].upper() + p[1:] for p in rest)


def mirrored(cls: type) -> list[dataclasses.Field[Any]]:
    """The fields that hold spec values (not derived ones, not the key order)."""
    return [f for f in dataclasses.fields(cls) if f.init and f.name != "key_order"]


def _classes(tp: Any) -> list[type]:
    """The model dataclasses a field's type holds (X, X | None, tuple[X, ...], ...)."""
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return [tp]
    if get_origin(tp) in (Union, types.UnionType, tuple):
        return [c for arg in get_args(tp) for c in _classes(arg)]
    return []


def _items(node: dict[str, Any]) -> dict[str, Any]:
    return _resolve(spec_schema(), node["items"]) if "items" in node else node


def pairs() -> Iterator[tuple[type, dict[str, Any], str]]:
    """(class, the schema node it mirrors, where) from the root down, following field types."""
    root = spec_schema()
    todo: list[tuple[type, Any, str]] = [(M.Fleet, root, "")]
    while todo:
        cls, node, where = todo.pop()
        node = _resolve(root, node)
        yield cls, node, where
        hints = get_type_hints(cls)
        props = node.get("properties", {})
        for f in mirrored(cls):
            key = schema_key(f.name)
            if key not in props:
                continue
            sub = _items(_resolve(root, props[key]))
            todo += [(c, sub, f"{where}.{key}") for c in _classes(hints[f.name])]


PAIRS = list(pairs())


def test_every_object_of_the_schema_is_mirrored():
    covered = {where for _, _, where in PAIRS}
    root = spec_schema()

    def objects(node: Any, where: str) -> Iterator[str]:
        node = _resolve(root, node)
        props = node.get("properties")
        if not props:
            return
        yield where
        for key, sub in props.items():
            yield from objects(_items(_resolve(root, sub)), f"{where}.{key}")

    assert sorted(set(objects(root, "")) - covered) == []


@pytest.mark.parametrize("cls, node, where", PAIRS, ids=[w or "." for _, _, w in PAIRS])
def test_fields_are_the_schema_properties(cls, node, where):
    fields = {schema_key(f.name) for f in mirrored(cls)}
    assert fields == set(node.get("properties", {})), f"{cls.__name__} mirrors {where or 'the root'}"


def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not _MISSING:
        return f.default
    if f.default_factory is not _MISSING:
        return f.default_factory()
    return _MISSING


def _defaulted(node: Any, value: Any) -> Any:
    """``value`` with the schema defaults below ``node`` filled in (as schema.apply_defaults)."""
    root = spec_schema()
    node = _resolve(root, node)
    if isinstance(value, dict):
        for key, sub in node.get("properties", {}).items():
            sub_r = _resolve(root, sub)
            if key not in value and "default" in sub_r:
                value[key] = copy.deepcopy(sub_r["default"])
            if key in value:
                value[key] = _defaulted(sub_r, value[key])
    elif isinstance(value, list) and "items" in node:
        return [_defaulted(node["items"], v) for v in value]
    return value


def _absent(f: dataclasses.Field[Any]) -> bool:
    """The field's default stands for "left out of the spec" (None, (), {})."""
    default = _default(f)
    return default is None or (isinstance(default, tuple | dict) and not default)


def plain(value: Any) -> Any:
    """A model value as the spec's data: schema keys; absent (None, inherited) left out."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {}
        for f in mirrored(type(value)):
            v = getattr(value, f.name)
            if v is M.INHERIT or (_absent(f) and v == _default(f)):
                continue
            out[schema_key(f.name)] = plain(v)
        return out
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    return value


@pytest.mark.parametrize("cls, node, where", PAIRS, ids=[w or "." for _, _, w in PAIRS])
def test_defaults_are_the_schema_defaults(cls, node, where):
    required = set(node.get("required", []))
    for f in mirrored(cls):
        key = schema_key(f.name)
        sub = _resolve(spec_schema(), node["properties"][key])
        default = _default(f)
        if key in required:
            assert default is _MISSING, f"{where}.{key} is required: no default"
        elif "default" in sub:
            expected = _defaulted(sub, copy.deepcopy(sub["default"]))
            assert plain(default) == expected, f"{where}.{key}"
        else:  # left out of the spec: absent
            assert default in (None, M.INHERIT, (), {}), f"{where}.{key} has no schema default"


@pytest.mark.parametrize("example", EXAMPLES)
def test_the_model_holds_every_value_of_the_spec(example):
    spec = load_spec(ROOT / "examples" / example / "models.yaml")
    assert plain(spec.model) == spec.data


def test_the_model_holds_every_value_of_a_fleet_using_every_feature():
    """bench's validate spec: several clusters, GPUs and TPUs, GCS Fuse, DRANET,
    multiplexing, objectives, load balancing."""
    doc = load_text(make_specs._dump(make_specs.validate_spec(40)), "validate-40.yaml")
    data, diags = validate_document(doc)
    assert diags == [] and data is not None
    assert plain(Spec(doc, data).model) == data


def test_derived_values():
    spec = load_spec(ROOT / "examples" / "multi-cluster" / "models.yaml")
    fleet = spec.model
    assert fleet.gateway.multi_cluster and fleet.gateway.pools
    for m, raw in zip(fleet.models, spec.data["models"], strict=True):
        assert m.route_path == raw.get("path", "/" + raw["name"])
        assert m.accelerator.family == ("tpu" if raw["accelerator"]["type"].startswith("tpu") else "gpu")
        assert m.names["serveService"] == raw["name"] + "-serve-svc"


def test_model_from_raw_applies_the_schema_defaults():
    m = model_from_raw(yaml.safe_load("{name: m, source: hf://o/m, accelerator: {type: nvidia-l4}}"))
    assert (m.replicas.min, m.replicas.max, m.health_check.period_s, m.accelerator.chips) == (1, 1, 600, 1)
    assert m.model_ids == ("m",) and m.hf_token_secret is M.INHERIT
