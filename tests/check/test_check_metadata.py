"""metadata syntax the API server (or the operator) enforces beyond any schema."""

from __future__ import annotations

from generator.check.metadata import check_metadata


def problems(meta: object, rule: str = "dns1123-subdomain", max_len: int | None = None) -> list:
    return list(check_metadata(meta, rule, max_len))


def test_valid() -> None:
    assert (
        problems(
            {
                "name": "a.b-c",
                "namespace": "llm",
                "labels": {"app.kubernetes.io/name": "x", "e": ""},
                "annotations": {"gke-gcsfuse/volumes": "true"},
            }
        )
        == []
    )


def test_names() -> None:
    assert (
        problems({"name": "a" * 254})[0][1]
        == "invalid name '" + "a" * 254 + "': must be no more than 253 characters"
    )
    assert problems({"name": "ab"}, "dns1035-label", 1) == [
        (["metadata", "name"], "invalid name 'ab': must be no more than 1 characters")
    ]
    assert problems({"name": "a.b"}, "dns1123-label")[0][0] == ["metadata", "name"]
    assert problems({"name": ".."}, "path-segment") == [
        (["metadata", "name"], "invalid name '..': may not be '..'")
    ]
    assert problems({}) == [(["metadata", "name"], "required field is missing")]


def test_namespace_labels_annotations() -> None:
    assert problems({"name": "a", "namespace": "Bad"})[0][0] == ["metadata", "namespace"]
    assert problems({"name": "a", "labels": {"/x": "v"}}) == [
        (["metadata", "labels", "/x"], "invalid label key: prefix part must be non-empty")
    ]
    assert problems({"name": "a", "labels": {"x": "v" * 64}})[0][0] == ["metadata", "labels", "x"]
    assert problems({"name": "a", "annotations": {"Bad_Prefix/x": "v"}})[0][1].startswith(
        "invalid annotation key: prefix part must be a lowercase RFC 1123 subdomain"
    )
    assert problems({"name": "a", "annotations": {"k": "v" * 300_000}}) == [
        (["metadata", "annotations"], "annotations total 300001 bytes, more than the limit of 262144")
    ]


def test_wrong_types_left_to_the_schema() -> None:
    assert problems("not a mapping") == []
    assert problems({"name": "a", "labels": ["x"]}) == []
