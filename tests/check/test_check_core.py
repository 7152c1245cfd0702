"""Built-in kinds via kubernetes-validate, per Kubernetes version."""

from __future__ import annotations

import pytest

from generator.check import core_kinds
from generator.check.schemas import DEFAULT_KUBE_VERSION, Problem, supported_kube_versions, validate_resource

CLAIM = {
    "apiVersion": "resource.k8s.io/v1",
    "kind": "ResourceClaimTemplate",
    "metadata": {"name": "netdev"},
    "spec": {
        "spec": {
            "devices": {
                "requests": [
                    {
                        "name": "n",
                        "exactly": {"deviceClassName": "netdev.google.com", "allocationMode": "All"},
                    }
                ]
            }
        }
    },
}


def test_default_version_is_shipped() -> None:
    assert DEFAULT_KUBE_VERSION == "1.35"
    assert {"1.34", "1.35", "1.37"} <= set(supported_kube_versions())


def test_resource_claim_template_needs_1_34() -> None:
    assert validate_resource(CLAIM) == []
    assert validate_resource(CLAIM, kube_version="v1.34.2") == []
    assert validate_resource(CLAIM, kube_version="1.33") == [
        Problem(
            "ResourceClaimTemplate",
            "netdev",
            "",
            "Kubernetes 1.33 has no resource.k8s.io/v1 ResourceClaimTemplate "
            "(added in 1.34; see --kube-version)",
        )
    ]


def test_unsupported_version_is_a_caller_error() -> None:
    with pytest.raises(ValueError, match=r"no built-in schemas for Kubernetes 1\.20"):
        validate_resource(CLAIM, kube_version="1.20")
    with pytest.raises(ValueError, match="not a Kubernetes version"):
        validate_resource(CLAIM, kube_version="latest")


def test_bundle_keeps_fields_named_description() -> None:
    # Bundling drops schema descriptions but not a *field* called "description".
    schema = core_kinds.bundled_schema("scheduling.k8s.io/v1", "PriorityClass", "1.35")
    assert schema is not None and "description" in schema["properties"]
    assert all(not k.startswith("/api") for k in schema["$defs"])


def test_rbac_names_are_path_segments() -> None:
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": "system:gen-reader"},
        "rules": [],
    }
    assert validate_resource(role) == []
    role["metadata"]["name"] = "a/b"
    assert validate_resource(role) == [
        Problem("ClusterRole", "a/b", "metadata.name", "invalid name 'a/b': may not contain '/' or '%'")
    ]
