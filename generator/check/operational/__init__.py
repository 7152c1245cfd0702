"""Operational checks: output that every schema accepts but that would not run well on
a real cluster (idle or unschedulable accelerators, pods larger than their nodes, a
backend cut off by GKE's default timeout, ...).

Two kinds of rule, each one function listed once below:

- a **resource rule** takes one resource and returns Problems;
- a **scope rule** takes the index of one cluster's resources and returns
  ``(index, Problem)`` pairs, for concerns that span resources.

A Problem names the field, the fact it contradicts (facts come from the catalog,
``generator/catalog/operations.yaml`` and ``nodes.yaml``, with their sources) and the
fix. ``gen check`` and ``gen render`` (before writing) run the same rules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...diagnostics import Finding, Problem
from ..scope_index import ScopeIndex
from . import accelerators, routing, serving

ResourceRule = Callable[[dict[str, Any]], list[Problem]]
ScopeRule = Callable[[ScopeIndex, "Context"], list[tuple[int, Problem]]]


@dataclass(frozen=True)
class Context:
    """What a scope rule may know beyond the resources: the operator documentation
    shipped with them (a gen output's README.md), None when there is none."""

    readme: str | None = None


RESOURCE_RULES: list[ResourceRule] = [
    accelerators.accelerators_match_parallelism,
    accelerators.pods_fit_nodes,
    serving.cache_dirs_writable,
    serving.haproxy_needs_binary,
]
SCOPE_RULES: list[ScopeRule] = [
    routing.llm_backends_have_timeout,
    routing.pooled_rayservices_never_upgrade_beside,
    routing.objectives_are_sent,
    routing.pools_keep_an_endpoint,
    serving.weights_ready_before_serving,
]
CHECK = "operational"


def check_resource(obj: dict[str, Any]) -> list[Problem]:
    """Every resource rule on one resource."""
    return [p for rule in RESOURCE_RULES for p in rule(obj)]


def check_scopes(
    indexes: Mapping[str, ScopeIndex], readmes: Mapping[str, str] | None = None
) -> list[Finding]:
    """Every scope rule on every cluster of one output (resource rules: check_resource).
    ``indexes``: crossref.index_scopes of the clusters (shared with check_references);
    ``readmes``: the README shipped with each scope's resources, where there is one."""
    out = []
    for scope, ix in indexes.items():
        ctx = Context((readmes or {}).get(scope))
        for rule in SCOPE_RULES:
            out += [Finding(scope, i, p, CHECK) for i, p in rule(ix, ctx)]
    return out


def shipped_readme(scope_dir: str) -> str | None:
    """The README.md of a rendered gen output, for a scope ``OUT/manifests/<cluster>``."""
    path = Path(scope_dir)
    readme = path.parent.parent / "README.md"
    if path.parent.name != "manifests" or not readme.is_file():
        return None
    try:
        return readme.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
