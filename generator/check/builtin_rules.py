"""Validation the API server does in Go for built-in kinds, which their OpenAPI v2
schemas (kubernetes-validate) do not carry: a few enums, port ranges and the workload
selector that must select its own pod template (k8s.io/kubernetes pkg/apis/core/validation
and pkg/apis/apps/validation). Only fields gen can judge exactly are checked; the rest of
the Go validation is not reproduced.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..objects import as_dict, as_list, group_of, pod_templates

Found = Iterator[tuple[list[str | int], str]]

_PULL_POLICIES = ("Always", "IfNotPresent", "Never")
_PROTOCOLS = ("TCP", "UDP", "SCTP")
_RESTART_POLICIES = ("Always", "OnFailure", "Never")
_DNS_POLICIES = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")
_SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")
_WORKLOADS = {("apps", k) for k in ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet")}
_POD_OWNERS = _WORKLOADS | {("", "Pod"), ("batch", "Job"), ("batch", "CronJob")}


def _one_of(value: Any, allowed: tuple[str, ...]) -> str | None:
    if isinstance(value, str) and value not in allowed:
        return f"{value!r} is not one of: {', '.join(allowed)}"
    return None


def _port(value: Any, what: str) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool) and not 1 <= value <= 65535:
        return f"{what} {value} is not between 1 and 65535"
    return None


def _pod_spec(path: list[str | int], spec: dict[str, Any]) -> Found:
    err = _one_of(spec.get("restartPolicy"), _RESTART_POLICIES)
    if err:
        yield path + ["restartPolicy"], err
    err = _one_of(spec.get("dnsPolicy"), _DNS_POLICIES)
    if err:
        yield path + ["dnsPolicy"], err
    for key in ("initContainers", "containers", "ephemeralContainers"):
        for i, container in enumerate(as_list(spec.get(key))):
            container = as_dict(container)
            at = path + [key, i]
            err = _one_of(container.get("imagePullPolicy"), _PULL_POLICIES)
            if err:
                yield at + ["imagePullPolicy"], err
            for j, port in enumerate(as_list(container.get("ports"))):
                port = as_dict(port)
                for field in ("containerPort", "hostPort"):
                    value = port.get(field)
                    err = None if field == "hostPort" and value == 0 else _port(value, "port")
                    if err:
                        yield at + ["ports", j, field], err
                err = _one_of(port.get("protocol"), _PROTOCOLS)
                if err:
                    yield at + ["ports", j, "protocol"], err


def _matches(selector: dict[str, Any], labels: dict[Any, Any]) -> bool:
    for name, value in as_dict(selector.get("matchLabels")).items():
        if labels.get(name) != value:
            return False
    for expr in as_list(selector.get("matchExpressions")):
        expr = as_dict(expr)
        key, op, values = expr.get("key"), expr.get("operator"), as_list(expr.get("values"))
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def check(obj: dict[str, Any]) -> Found:
    """(path, message) for what the API server's Go validation would reject in ``obj``."""
    gk = (group_of(obj), obj.get("kind"))
    spec = as_dict(obj.get("spec"))
    if gk in _POD_OWNERS:
        for path, tpl, _, _ in pod_templates(obj):
            pod_path: list[str | int] = ["spec"] if gk == ("", "Pod") else [*path, "spec"]
            pod_spec = spec if gk == ("", "Pod") else as_dict(tpl.get("spec"))
            yield from _pod_spec(pod_path, pod_spec)
    if gk in _WORKLOADS:
        selector = spec.get("selector")
        labels = as_dict(as_dict(as_dict(spec.get("template")).get("metadata")).get("labels"))
        if isinstance(selector, dict):
            if not selector.get("matchLabels") and not selector.get("matchExpressions"):
                yield ["spec", "selector"], "empty selector: it must select the pod template's labels"
            elif isinstance(spec.get("template"), dict) and not _matches(selector, labels):
                yield (
                    ["spec", "template", "metadata", "labels"],
                    "`selector` does not match template `labels` (the API server rejects the object)",
                )
    if gk == ("", "Service"):
        err = _one_of(spec.get("type"), _SERVICE_TYPES)
        if err:
            yield ["spec", "type"], err
        for i, port in enumerate(as_list(spec.get("ports"))):
            port = as_dict(port)
            for field in ("port", "nodePort", "targetPort"):
                err = _port(port.get(field), field) if field != "nodePort" or port.get(field) else None
                if err:
                    yield ["spec", "ports", i, field], err
            err = _one_of(port.get("protocol"), _PROTOCOLS)
            if err:
                yield ["spec", "ports", i, "protocol"], err
