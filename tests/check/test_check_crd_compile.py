"""How an openAPIV3Schema becomes a strict JSON schema (generator/check/crd_compile.py)."""

from __future__ import annotations

import jsonschema_rs
import pytest

from generator.check.crd_compile import apply_overlay, compile_schema


def compiled(spec_schema: dict) -> dict:
    return compile_schema({"type": "object", "properties": {"spec": spec_schema}}, "x.io/v1", "Thing")


def valid(spec_schema: dict, spec: object) -> bool:
    doc = compiled(spec_schema)["schema"]
    obj = {"apiVersion": "x.io/v1", "kind": "Thing", "metadata": {"name": "a"}, "spec": spec}
    return jsonschema_rs.Draft202012Validator(doc, validate_formats=True).is_valid(obj)


OBJ = {"type": "object", "properties": {"a": {"type": "string"}}}


def test_objects_are_closed() -> None:
    assert valid(OBJ, {"a": "x"})
    assert not valid(OBJ, {"a": "x", "b": 1})
    assert not valid({"type": "object"}, {"b": 1})  # no properties: the server prunes everything


def test_preserve_unknown_fields_stays_open() -> None:
    schema = {**OBJ, "x-kubernetes-preserve-unknown-fields": True}
    assert valid(schema, {"a": "x", "b": {"c": 1}})
    assert not valid(schema, {"a": 1})  # declared fields are still typed


def test_int_or_string() -> None:
    schema = {"x-kubernetes-int-or-string": True, "anyOf": [{"type": "integer"}, {"type": "string"}]}
    assert valid(schema, 3) and valid(schema, "3")
    assert not valid(schema, 1.5) and not valid(schema, None)


def test_nullable() -> None:
    assert valid({"type": "string", "nullable": True}, None)
    assert not valid({"type": "string"}, None)
    assert valid({"type": "string", "nullable": True, "enum": ["a"]}, None)


def test_required_with_default_is_not_required() -> None:
    schema = {
        "type": "object",
        "required": ["a", "b"],
        "properties": {"a": {"type": "integer", "default": 1}, "b": {"type": "integer"}},
    }
    assert compiled(schema)["schema"]["properties"]["spec"]["required"] == ["b"]
    assert valid(schema, {"b": 2}) and not valid(schema, {"a": 2})


def test_junctor_branches_are_not_closed() -> None:
    # Structural schemas put only value checks in oneOf; closing them would reject all.
    schema = {
        "type": "object",
        "properties": {"t": {"type": "string"}, "v": {"type": "string"}},
        "oneOf": [
            {"properties": {"t": {"enum": ["IP"]}, "v": {"anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]}}},
            {"properties": {"t": {"not": {"enum": ["IP"]}}}},
        ],
    }
    assert valid(schema, {"t": "IP", "v": "10.0.0.1"})
    assert valid(schema, {"t": "Hostname", "v": "a.example"})
    assert not valid(schema, {"t": "IP", "v": "not-an-ip"})


def test_int32_bounds_and_exclusive_minimum() -> None:
    assert not valid({"type": "integer", "format": "int32"}, 2**31)
    assert valid({"type": "integer", "format": "int32", "maximum": 10}, 10)
    assert not valid({"type": "integer", "minimum": 0, "exclusiveMinimum": True}, 0)
    assert valid({"type": "integer", "minimum": 0, "exclusiveMinimum": True}, 1)


def test_list_type_set_is_unique() -> None:
    schema = {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"}
    assert valid(schema, ["a", "b"]) and not valid(schema, ["a", "a"])


def test_embedded_resource_gets_envelope() -> None:
    schema = {
        "type": "object",
        "x-kubernetes-embedded-resource": True,
        "properties": {"spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
    }
    assert valid(schema, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"x": 1}})
    assert not valid(schema, {"metadata": {"nme": "typo"}})


def test_rules_and_list_maps_are_collected_with_wildcard_paths() -> None:
    rule = {"rule": "self.a != ''", "message": "a must be set"}
    schema = {
        "type": "array",
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["a"],
        "items": {
            "type": "object",
            "properties": {"a": {"type": "string"}},
            "x-kubernetes-validations": [rule],
        },
    }
    out = compiled(
        {
            "type": "object",
            "properties": {"l": schema},
            "additionalProperties": {"type": "object", "x-kubernetes-validations": [rule]},
        }
    )
    assert out["rules"] == [{"path": ["spec", "l", "[*]"], **rule}, {"path": ["spec", "{*}"], **rule}]
    assert out["list_maps"] == [{"path": ["spec", "l"], "keys": ["a"]}]


def test_root_envelope() -> None:
    doc = compiled({"type": "object"})["schema"]
    assert doc["required"] == ["apiVersion", "kind", "metadata"]
    assert doc["properties"]["apiVersion"] == {"type": "string", "const": "x.io/v1"}
    assert doc["additionalProperties"] is False


def test_overlay_adds_and_refuses_to_mask_upstream() -> None:
    base = {"properties": {"spec": {"properties": {"a": {"type": "string"}}}}}
    overlay = {"target": "/properties/spec/properties", "add": {"b": {"type": "integer"}}}
    assert apply_overlay(base, overlay)["properties"]["spec"]["properties"] == {
        "a": {"type": "string"},
        "b": {"type": "integer"},
    }
    assert "b" not in base["properties"]["spec"]["properties"]  # input untouched
    with pytest.raises(ValueError, match="upstream already has"):
        apply_overlay(base, {**overlay, "add": {"a": {"type": "integer"}}})
