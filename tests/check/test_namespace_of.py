"""scope_index.namespace_of: "" for the cluster-scoped kinds (by group and kind), the
object's namespace or "default" otherwise; the kind-first shortcut gives the same answer
as the (group, kind) table for every kind in it and for a namespaced kind of the same name
in another group."""

from __future__ import annotations

import pytest

from generator.check.scope_index import CLUSTER_SCOPED, namespace_of


def obj(group: str, kind: str, namespace: str | None = None) -> dict:
    meta = {"name": "x", **({"namespace": namespace} if namespace is not None else {})}
    return {"apiVersion": f"{group}/v1" if group else "v1", "kind": kind, "metadata": meta}


@pytest.mark.parametrize(("group", "kind"), sorted(CLUSTER_SCOPED))
def test_cluster_scoped_kinds_have_no_namespace(group, kind):
    assert namespace_of(obj(group, kind, "llm")) == ""


@pytest.mark.parametrize(("group", "kind"), sorted(CLUSTER_SCOPED))
def test_the_same_kind_in_another_group_is_namespaced(group, kind):
    assert namespace_of(obj("example.com", kind, "llm")) == "llm"


def test_namespaced_kinds_default_to_default():
    assert namespace_of(obj("ray.io", "RayService", "llm")) == "llm"
    assert namespace_of(obj("ray.io", "RayService")) == "default"
    assert namespace_of(obj("", "Service", "")) == "default"
    assert namespace_of({"kind": "Service"}) == "default"
