"""Accelerators per model replica and the engine parallelism derived from them.

One place for a fact three consumers need: the plan (vLLM's ``tensor_parallel_size`` in the
serve config), the spec rules (explicit parallelism must use exactly the replica's chips) and
the capacity check (weights and KV cache are split over the tensor-parallel ranks).

Ray Serve LLM gives each replica ``tensor_parallel_size x pipeline_parallel_size`` GPU
bundles (ray 2.60 ``llm/_internal/serve/engines/vllm/vllm_models.py``: ``num_devices``;
``GPUAccelerator.default_bundles``). A worker pod with ``count`` GPUs therefore hosts one
replica only when that product equals ``count``; otherwise GPUs idle or the replica cannot
be placed. gen derives tensor parallelism from the replica's chips, as GKE's Ray Serve LLM
sample does (Llama-3.1-8B on two L4s: ``tensor_parallel_size: 2``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the spec rules import this module: types only, no import cycle
    from .spec.model import Model


@dataclass(frozen=True)
class ReplicaLayout:
    accelerator: str
    chips: int  # accelerators one model replica occupies (a GPU pod, or a whole TPU slice)
    tensor_parallel: int
    pipeline_parallel: int
    explicit: bool  # the spec's engineArgs set the parallelism


def replica_layout(model: Model) -> ReplicaLayout:
    """The replica's chips and parallelism: engineArgs when set, else all chips in one TP group."""
    args = model.engine_args
    chips = model.accelerator.chips
    tp, pp = args.get("tensor_parallel_size"), args.get("pipeline_parallel_size")
    explicit = tp is not None or pp is not None
    pp = pp if isinstance(pp, int) and pp > 0 else 1
    tp = tp if isinstance(tp, int) and tp > 0 else max(1, chips // pp)
    return ReplicaLayout(model.accelerator.type, chips, tp, pp, explicit)


def engine_defaults(model: Model) -> dict[str, int]:
    """engine_kwargs gen adds for the replica's chips (the spec's engineArgs win)."""
    chips = model.accelerator.chips
    return {"tensor_parallel_size": chips} if chips > 1 else {}
