"""Validate rendered Kubernetes resources strictly against pinned upstream schemas.

Offline and per process cached: each kind's schema is read and compiled (jsonschema_rs)
once, on first use. Dispatch is data: schemas/upstream/index.yaml maps apiVersion/kind
to a compiled CRD/JSON schema (custom resources) or to kubernetes-validate (built-ins).
"""

from __future__ import annotations

import base64
import binascii
import copy
import functools
import json
import marshal
from collections.abc import Iterable
from typing import Any

import jsonschema_rs

from .. import catalog
from ..diagnostics import Problem, format_path
from . import builtin_rules, core_kinds
from .cel_rules import RuleSet, UnevaluatedRule
from .metadata import check_metadata
from .paths import upstream_dir
from .schema_index import load_index

__all__ = [
    "DEFAULT_KUBE_VERSION",
    "Problem",
    "UnevaluatedRule",
    "pinned_kinds",
    "supported_kube_versions",
    "unevaluated_rules",
    "validate_resource",
    "validate_resources",
]

# Catalog data (releases.yaml): the newest GKE Regular-channel minor that
# kubernetes-validate ships strict schemas for.
DEFAULT_KUBE_VERSION: str = catalog.releases()["kubernetes"]["defaultVersion"]


def _is_base64(value: str) -> bool:
    # Go's base64.StdEncoding (how the API server decodes []byte) ignores \r and \n.
    try:
        base64.b64decode(value.replace("\n", "").replace("\r", ""), validate=True)
        return True
    except (binascii.Error, ValueError):
        return False


# "byte" is the OpenAPI format of Secret.data values; jsonschema_rs does not know it.
_FORMATS = {"byte": _is_base64}


def _validator(schema: dict[str, Any]) -> Any:
    return jsonschema_rs.Draft202012Validator(schema, validate_formats=True, formats=_FORMATS)


class _Compiled:
    def __init__(self, schema: dict[str, Any], rules: RuleSet | None) -> None:
        self.schema = schema
        self.validator = _validator(schema)
        self.rules = rules


@functools.cache
def _custom(api_version: str, kind: str) -> _Compiled:
    entry = load_index().entries[(api_version, kind)]
    with open(upstream_dir() / "compiled" / entry.compiled_name, encoding="utf-8") as f:
        doc = json.load(f)
    has_rules = bool(doc["rules"] or doc["list_maps"])
    return _Compiled(doc["schema"], RuleSet(api_version, kind, doc) if has_rules else None)


@functools.cache
def _core(api_version: str, kind: str, kube_minor: str) -> _Compiled | None:
    schema = core_kinds.bundled_schema(api_version, kind, kube_minor)
    return None if schema is None else _Compiled(schema, None)


def supported_kube_versions() -> tuple[str, ...]:
    return core_kinds.supported_versions()


def pinned_kinds() -> list[tuple[str, str]]:
    """Every (apiVersion, kind) that has a pinned schema."""
    return sorted(load_index().entries)


def _schema_at(root: dict[str, Any], schema_path: Iterable[Any]) -> dict[str, Any]:
    """Schema node at a jsonschema_rs error's ``schema_path`` (absolute: $refs resolved)."""
    node: Any = root
    for token in schema_path:
        try:
            node = node[token]
        except (KeyError, IndexError, TypeError):
            return {}
    return node if isinstance(node, dict) else {}


def _schema_problems(compiled: _Compiled, obj: dict[str, Any]) -> list[tuple[list[Any], str]]:
    found: list[tuple[list[Any], str]] = []
    for err in compiled.validator.iter_errors(obj):
        at = list(err.instance_path)
        k = err.kind
        if isinstance(k, jsonschema_rs.ValidationErrorKind.AdditionalProperties):
            found.extend((at + [name], "unknown field") for name in k.unexpected)
        elif isinstance(k, jsonschema_rs.ValidationErrorKind.Required):
            found.append((at + [k.property], "required field is missing"))
        elif isinstance(k, jsonschema_rs.ValidationErrorKind.Enum):
            # jsonschema_rs shortens long lists ("or 3 other candidates"); name them all.
            options = ", ".join(json.dumps(o) for o in k.options)
            found.append((at, f"{json.dumps(err.instance)} is not one of: {options}"))
        elif isinstance(
            k, (jsonschema_rs.ValidationErrorKind.AnyOf, jsonschema_rs.ValidationErrorKind.OneOfNotValid)
        ) and _schema_at(compiled.schema, list(err.schema_path)[:-1]).get("x-kubernetes-int-or-string"):
            found.append((at, f"must be an integer or a string, not {json.dumps(err.instance)}"))
        else:
            found.append((at, _shortened(err.message, err.instance)))
    return found


def _nullable(schema: dict[str, Any]) -> bool:
    typ = schema.get("type")
    return (isinstance(typ, list) and "null" in typ) or None in schema.get("enum", ())


class _ObjectPlan:
    """What _normalize reads of one object schema, worked out once: its properties, the
    ones with a default (in order) and the schema of other keys."""

    def __init__(self, sch: dict[str, Any]) -> None:
        self.schema = sch  # kept alive: plans are looked up by id()
        props = sch.get("properties")
        self.props: dict[str, Any] | None = props if isinstance(props, dict) else None
        self.defaults = [
            (key, prop["default"])
            for key, prop in (self.props or {}).items()
            if isinstance(prop, dict) and "default" in prop
        ]
        self.addl = sch.get("additionalProperties")


_PLANS: dict[int, _ObjectPlan] = {}


def _plan(sch: dict[str, Any]) -> _ObjectPlan:
    plan = _PLANS.get(id(sch))
    if plan is None or plan.schema is not sch:
        plan = _PLANS[id(sch)] = _ObjectPlan(sch)
    return plan


def _normalize(value: Any, schema: dict[str, Any]) -> None:
    """What the API server does to a custom resource before validating it, in place:
    prune nulls of fields that are not nullable, then fill in schema defaults."""
    stack = [(value, schema)]
    while stack:
        val, sch = stack.pop()
        if isinstance(val, dict):
            plan = _plan(sch)
            props = plan.props
            if props is not None:
                if None in val.values():  # a C scan first: nulls are rare
                    for key in [k for k, v in val.items() if v is None and k in props]:
                        if not _nullable(props[key]):
                            del val[key]
                for key, default in plan.defaults:
                    if key not in val:
                        val[key] = copy.deepcopy(default)
            addl = plan.addl
            for key, v in val.items():
                if isinstance(v, (dict, list)):
                    sub = props.get(key) if props is not None and key in props else addl
                    if isinstance(sub, dict):
                        stack.append((v, sub))
        elif isinstance(val, list):
            items = sch.get("items")
            if isinstance(items, dict):
                stack.extend((v, items) for v in val if isinstance(v, (dict, list)))


def _builtin_defaults(obj: dict[str, Any]) -> None:
    """Defaults the API server applies to built-in kinds before validating them, where
    the OpenAPI schema marks the field required (k8s.io/kubernetes pkg/apis/*/v1/defaults.go)."""
    if obj.get("apiVersion") == "rbac.authorization.k8s.io/v1" and obj.get("kind") in (
        "RoleBinding",
        "ClusterRoleBinding",
    ):
        role_ref = obj.get("roleRef")
        if isinstance(role_ref, dict) and not role_ref.get("apiGroup"):
            role_ref["apiGroup"] = "rbac.authorization.k8s.io"
        for subject in obj.get("subjects") or []:
            if isinstance(subject, dict) and "apiGroup" not in subject:
                kind = subject.get("kind")
                if kind == "ServiceAccount":
                    subject["apiGroup"] = ""
                elif kind in ("User", "Group"):
                    subject["apiGroup"] = "rbac.authorization.k8s.io"


def schema_status(api_version: str, kind: str, kube_minor: str) -> str:
    """ "pinned" (gen pins a schema), "builtin" (kubernetes-validate has it for this
    minor), "removed" (Kubernetes removed it), "unserved" (built-in, but not in this
    minor) or "missing" (nothing known: a custom resource gen has no schema for)."""
    entry = load_index().entries.get((api_version, kind))
    if entry is not None and entry.format != "kubernetes-validate":
        return "pinned"
    if (api_version, kind) in core_kinds.builtin_kinds(kube_minor):
        return "builtin"
    if core_kinds.removed(api_version, kind, kube_minor) is not None:
        return "removed"
    if entry is not None or core_kinds.added_in(api_version, kind, kube_minor) is not None:
        return "unserved"
    return "missing"


def _shortened(message: str, instance: Any) -> str:
    """jsonschema_rs quotes the whole offending value; a certificate or a long list is
    cut to its start so the line stays readable."""
    shown = json.dumps(instance)
    if len(shown) <= 120 or shown not in message:
        return message
    return message.replace(shown, f"{shown[:60]}... ({len(shown)} characters)", 1)


def _copy(value: Any) -> Any:
    """A deep copy; marshal's C copy of JSON data is ~3x copy.deepcopy (issue 19)."""
    try:
        return marshal.loads(marshal.dumps(value))
    except ValueError:  # types marshal does not know (dict subclasses, dates)
        return copy.deepcopy(value)


def validate_resource(obj: dict[str, Any], *, kube_version: str = DEFAULT_KUBE_VERSION) -> list[Problem]:
    """All problems the API server (strict field validation) would report for ``obj``.

    ``kube_version`` ("1.35", "v1.34.2") selects the built-in kinds' schemas; custom
    resources are checked against the single pinned CRD version. Like the API server,
    nulls of non-nullable fields are pruned and defaults applied first (on a copy).
    Returns [] when valid.
    """
    kube_minor = core_kinds.minor(kube_version)
    if kube_minor not in core_kinds.supported_versions():
        raise ValueError(
            f"no built-in schemas for Kubernetes {kube_minor}; "
            f"supported: {', '.join(core_kinds.supported_versions())}"
        )
    untrusted: object = obj  # typed for callers, but it is whatever the YAML held
    if not isinstance(untrusted, dict):
        return [Problem("?", "?", "", f"resource must be a mapping, not {type(untrusted).__name__}")]
    meta = obj.get("metadata")
    raw_name = meta.get("name") if isinstance(meta, dict) else None
    name = raw_name if isinstance(raw_name, str) else "?"
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    label = kind if isinstance(kind, str) and kind else "?"

    def problems(found: Iterable[tuple[list[Any], str]]) -> list[Problem]:
        unique = {(format_path(p), m) for p, m in found}
        return [Problem(label, name, p, m) for p, m in sorted(unique)]

    if not (isinstance(api_version, str) and api_version and isinstance(kind, str) and kind):
        return problems(
            ([f], "required field is missing")
            for f in ("apiVersion", "kind")
            if not isinstance(obj.get(f), str) or not obj.get(f)
        )

    entry = load_index().entries.get((api_version, kind))
    status = schema_status(api_version, kind, kube_minor)
    if status in ("removed", "unserved", "missing"):
        return problems([([], missing_schema_message(api_version, kind, kube_minor))])
    name_rule, name_max = (entry.name_rule, entry.name_max_length) if entry else ("dns1123-subdomain", None)
    found: list[tuple[list[Any], str]] = list(check_metadata(meta, name_rule, name_max))
    obj = _copy(obj)
    compiled: _Compiled | None
    if status == "builtin":
        if meta is None:  # the built-in schemas do not require metadata; the server does
            found.append((["metadata", "name"], "required field is missing"))
        _builtin_defaults(obj)
        compiled = _core(api_version, kind, kube_minor)
        assert compiled is not None
    else:
        compiled = _custom(api_version, kind)
        _normalize(obj, compiled.schema)
    schema_found = _schema_problems(compiled, obj)
    found.extend(schema_found)
    if status == "builtin":
        found.extend(builtin_rules.check(obj))
    if compiled.rules is not None:
        found.extend(compiled.rules.check_list_maps(obj))
        # CEL assumes a structurally valid object (the API server runs it after the schema).
        if not schema_found:
            found.extend(compiled.rules.check_cel(obj))
    return problems(found)


def validate_resources(
    objs: Iterable[dict[str, Any]], *, kube_version: str = DEFAULT_KUBE_VERSION
) -> list[Problem]:
    out: list[Problem] = []
    for obj in objs:
        out.extend(validate_resource(obj, kube_version=kube_version))
    return out


def missing_schema_message(api_version: str, kind: str, kube_minor: str) -> str:
    """Why ``api_version`` ``kind`` cannot be validated for Kubernetes ``kube_minor``."""
    gone = core_kinds.removed(api_version, kind, kube_minor)
    if gone is not None:
        removed_in, instead = gone
        use = f", use {instead}" if instead else " with no replacement"
        return f"{api_version} {kind} was removed in Kubernetes {removed_in}{use}"
    added = core_kinds.added_in(api_version, kind, kube_minor)
    if added is not None:
        return f"Kubernetes {kube_minor} has no {api_version} {kind} (added in {added}; see --kube-version)"
    entry = load_index().entries.get((api_version, kind))
    if entry is not None:
        return f"Kubernetes {kube_minor} has no {api_version} {kind} (see --kube-version)"
    others = sorted(
        {av for av, k in load_index().entries if k == kind and av != api_version}
        | {av for av, k in core_kinds.builtin_kinds(kube_minor) if k == kind and av != api_version}
    )
    hint = f"; known versions of {kind}: {', '.join(others)}" if others else ""
    return (
        f"no schema for {api_version} {kind}: not a Kubernetes {kube_minor} kind and not a custom "
        f"resource gen pins a schema for (--ignore-missing-schemas skips such resources){hint}"
    )


def unevaluated_rules(api_version: str | None = None, kind: str | None = None) -> list[UnevaluatedRule]:
    """CEL rules of the pinned custom resources that ``validate_resource`` does NOT
    check (update-only transition rules, functions the checker lacks), so callers can
    say so instead of implying full coverage."""
    out: list[UnevaluatedRule] = []
    for (av, k), entry in sorted(load_index().entries.items()):
        if (
            entry.format == "kubernetes-validate"
            or (api_version and av != api_version)
            or (kind and k != kind)
        ):
            continue
        rules = _custom(av, k).rules
        if rules is not None:
            out.extend(rules.unevaluated())
    return out
