"""Does every model of a fleet fit its accelerators? (`gen validate`, `gen describe`)

Joins the spec (source, accelerator, engineArgs), the replica layout (layout.py) and the
model facts (catalog/models.yaml, or the spec's ``modelFacts``) into fit.py's arithmetic,
once per served model: a multiplexed group is checked per entry, each on one replica of the
group's accelerators.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from . import fit
from .diagnostics import SpecPath, format_path
from .layout import ReplicaLayout, replica_layout

# spec (camelCase) -> fit.ModelFacts (config.json names)
_FACT_KEYS = {
    "params": "params",
    "dtype": "dtype",
    "layers": "layers",
    "attentionHeads": "attention_heads",
    "kvHeads": "kv_heads",
    "headDim": "head_dim",
    "hiddenSize": "hidden_size",
    "vocabSize": "vocab_size",
    "maxPositionEmbeddings": "max_position_embeddings",
    "numExperts": "num_experts",
    "expertsPerToken": "experts_per_token",
}


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


def _facts(source: str, given: dict[str, Any] | None) -> fit.ModelFacts | None:
    if given:
        data = {_FACT_KEYS[k]: v for k, v in given.items()}
        return fit.ModelFacts.from_dict(source, {**data, "source": "spec modelFacts"})
    return fit.load_model_facts(source)


def _served(m: dict[str, Any], i: int) -> Iterator[tuple[SpecPath, str, str, dict[str, Any] | None]]:
    mux = m.get("multiplexing")
    if mux:
        for j, e in enumerate(mux["models"]):
            yield ("models", i, "multiplexing", "models", j), e["id"], e["source"], e.get("modelFacts")
    else:
        yield ("models", i), m.get("modelId", m["name"]), m["source"], m.get("modelFacts")


def model_capacity(m: dict[str, Any], i: int) -> list[ModelCapacity]:
    """Capacity of every model served by spec model ``i`` (schema defaults applied)."""
    layout = replica_layout(m)
    args = m.get("engineArgs", {})
    out = []
    for path, model_id, source, given in _served(m, i):
        facts = _facts(source, given)
        result = fix = None
        if facts is not None and layout.chips > 0:
            parallel = (layout.chips, layout.tensor_parallel, layout.pipeline_parallel, args)
            result = fit.fit(facts, layout.accelerator, *parallel)
            fix = None if result.fits else fit.smallest_fix(facts, layout.accelerator, *parallel)
        out.append(ModelCapacity(path, model_id, source, layout, facts, result, fix))
    return out


def fleet_capacity(spec: dict[str, Any]) -> list[ModelCapacity]:
    return [c for i, m in enumerate(spec["models"]) for c in model_capacity(m, i)]


def unchecked_notes(spec: dict[str, Any]) -> list[str]:
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
