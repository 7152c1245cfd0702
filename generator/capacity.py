"""Does every model of a fleet fit its accelerators? (`gen validate`, `gen describe`)

Joins the spec (source, accelerator, engineArgs), the replica layout (layout.py) and the
model facts (catalog/models.yaml, or the spec's ``modelFacts``) into fit.py's arithmetic,
once per served model: a multiplexed group is checked per entry, each on one replica of the
group's accelerators.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import fit
from .diagnostics import SpecPath, format_path
from .layout import ReplicaLayout, replica_layout
from .memo import by_items

if TYPE_CHECKING:  # the spec rules import this module: types only, no import cycle
    from .spec.model import Fleet, Model
    from .spec.model import ModelFacts as SpecFacts


@dataclass(frozen=True)
class ModelCapacity:
    """One served model on one replica of its accelerators."""

    path: SpecPath  # models[i], or models[i].multiplexing.models[j]
    model_id: str
    source: str
    layout: ReplicaLayout
    facts: fit.ModelFacts | None  # None: unknown model, not checked
    result: fit.FitResult | None
    fix: str | None  # the smallest change that makes it fit (None when it fits)

    @property
    def checked(self) -> bool:
        return self.result is not None


def _facts(source: str, given: SpecFacts | None) -> fit.ModelFacts | None:
    if given:
        data = {
            "params": given.params,
            "dtype": given.dtype,
            "layers": given.layers,
            "attention_heads": given.attention_heads,
            "kv_heads": given.kv_heads,
            "head_dim": given.head_dim,
            "hidden_size": given.hidden_size,
            "vocab_size": given.vocab_size,
            "max_position_embeddings": given.max_position_embeddings,
            "num_experts": given.num_experts,
            "experts_per_token": given.experts_per_token,
        }
        return fit.ModelFacts.from_dict(source, {**data, "source": "spec modelFacts"})
    return fit.load_model_facts(source)


def model_capacity(model: Model | Mapping[str, Any], i: int) -> list[ModelCapacity]:
    """Capacity of every model served by spec model ``i`` (typed, or as written)."""
    from .spec.build import model_from_raw  # the spec package imports this module
    from .spec.model import Model

    m = model if isinstance(model, Model) else model_from_raw(model)
    layout = replica_layout(m)
    args = m.engine_args
    out = []
    for served in m.served:
        facts = _facts(served.source, served.facts)
        result = fix = None
        if facts is not None and layout.chips > 0:
            result, fix = _fit(facts, layout, args)
        path = ("models", i, *served.path)
        out.append(ModelCapacity(path, served.model_id, served.source, layout, facts, result, fix))
    return out


Fitted = tuple[fit.FitResult, str | None]  # the result, and the smallest fix when it does not fit


def _fit_now(facts: fit.ModelFacts, layout: ReplicaLayout, args: Mapping[str, Any]) -> Fitted:
    """fit.fit, and fit.smallest_fix when it does not fit."""
    parallel = (layout.chips, layout.tensor_parallel, layout.pipeline_parallel, args)
    result = fit.fit(facts, layout.accelerator, *parallel)
    return result, None if result.fits else fit.smallest_fix(facts, layout.accelerator, *parallel)


# a fleet's models share a few dozen facts, layouts and engine arguments (results are frozen)
_fit = by_items(_fit_now)


def fleet_capacity(spec: Fleet | Mapping[str, Any]) -> list[ModelCapacity]:
    """Capacity of every served model of a fleet (the typed spec, or a valid spec's
    defaulted data)."""
    from .spec.build import fleet_from_data  # the spec package imports this module
    from .spec.model import Fleet

    fleet = spec if isinstance(spec, Fleet) else fleet_from_data(spec)
    return [c for i, m in enumerate(fleet.models) for c in model_capacity(m, i)]


def unchecked_notes(spec: Fleet | Mapping[str, Any]) -> list[str]:
    """One line per served model whose facts gen does not know (its fit is not checked)."""
    return [
        f"{format_path(c.path)}: {c.source} is not in gen's model catalog; capacity not "
        "checked (add modelFacts to check it)"
        for c in fleet_capacity(spec)
        if c.facts is None
    ]


COLUMNS = ("MODEL", "ACCELERATOR", "TP", "PP", "WEIGHTS/CHIP", "KV CACHE", "CONTEXT", "MAX CONTEXT", "FITS")


def rows(capacities: list[ModelCapacity]) -> list[tuple[str, ...]]:
    """The `gen describe` table: per served model, numbers a reviewer can check by hand."""
    out: list[tuple[str, ...]] = []
    for c in capacities:
        lay, r = c.layout, c.result
        acc = f"{lay.chips}x {lay.accelerator}"
        if r is None:
            out.append(
                (
                    c.model_id,
                    acc,
                    str(lay.tensor_parallel),
                    str(lay.pipeline_parallel),
                    *("-",) * 4,
                    "unknown",
                )
            )
            continue
        out.append(
            (
                c.model_id,
                acc,
                str(r.tensor_parallel),
                str(r.pipeline_parallel),
                f"{r.weights_gib_per_chip:.2f} GiB",
                f"{r.kv_capacity_tokens:,} tokens",
                f"{r.max_model_len:,}",
                f"{r.largest_context:,}",
                "yes" if r.fits else "NO",
            )
        )
    return out


def table(capacities: list[ModelCapacity]) -> str:
    body = [COLUMNS, *rows(capacities)]
    widths = [max(len(row[k]) for row in body) for k in range(len(COLUMNS))]
    return "\n".join(
        "   ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in body
    )


def as_json(capacities: list[ModelCapacity]) -> list[dict[str, Any]]:
    out = []
    for c in capacities:
        r = c.result
        entry: dict[str, Any] = {
            "path": format_path(c.path),
            "model": c.model_id,
            "source": c.source,
            "accelerator": c.layout.accelerator,
            "chips": c.layout.chips,
            "tensorParallel": c.layout.tensor_parallel,
            "pipelineParallel": c.layout.pipeline_parallel,
            "checked": r is not None,
        }
        if r is not None:
            entry.update(
                {
                    "weightsGiB": round(r.weights_gib, 3),
                    "weightsGiBPerChip": round(r.weights_gib_per_chip, 3),
                    "usableGiBPerChip": round(r.usable_gib, 3),
                    "kvCacheGiBPerChip": round(r.kv_gib_per_chip, 3),
                    "kvBytesPerToken": r.kv_bytes_per_token,
                    "kvCacheTokens": r.kv_capacity_tokens,
                    "maxModelLen": r.max_model_len,
                    "largestContext": r.largest_context,
                    "fits": r.fits,
                    "reason": r.reason,
                    "fix": c.fix,
                    "factsSource": c.facts.source if c.facts else None,
                    "factsVerified": c.facts.verified if c.facts else None,
                }
            )
        out.append(entry)
    return out
