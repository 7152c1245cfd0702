"""Capacity fit: does a model's weights plus KV cache fit its accelerators? (offline)

vLLM's memory model, simplified to arithmetic. Per chip, vLLM may use
``memory x gpu_memory_utilization``; the weights shard (tensor x pipeline
parallel ranks) and an activation allowance come off the top and the rest is
KV cache. The model fits when that cache holds ``max_model_len`` tokens,
because vLLM refuses to start otherwise. Facts come from catalog/models.yaml
(or a user dict with the same keys); accelerators from catalog/accelerators.yaml.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from generator import catalog

GIB = 1024**3

# vLLM's default for engine_args.gpu_memory_utilization.
DEFAULT_GPU_MEMORY_UTILIZATION = 0.9

# Per chip, on top of weights: the activation peak of a max_num_batched_tokens
# forward pass, CUDA graphs (GPU) or XLA workspace (TPU), and memory outside
# torch's allocator (NCCL, cuBLAS handles). vLLM measures this at start-up; a
# fixed 1 GiB is a typical figure for 1B-70B models and keeps the check offline.
ACTIVATION_ALLOWANCE_GIB = 1.0

# vLLM allocates the KV cache in blocks of this many tokens (engine_args.block_size).
DEFAULT_BLOCK_SIZE = 16

# Suggested max_model_len values are multiples of this, and never below the minimum.
CONTEXT_STEP = 1024
MIN_SUGGESTED_CONTEXT = 2048

# 4-bit weight formats store 0.5 byte per weight plus per-group scales and zero
# points (~0.03 B/param at group size 128) and keep embeddings, lm_head and norms
# in 16 bit; 1/16 byte per parameter covers both for the models in the catalog.
FOUR_BIT_BYTES_PER_PARAM = 0.5 + 1 / 16

_QUANT_BYTES: dict[str, float] = {
    "fp8": 1.0,
    "fbgemm_fp8": 1.0,
    "modelopt": 1.0,
    "awq": FOUR_BIT_BYTES_PER_PARAM,
    "awq_marlin": FOUR_BIT_BYTES_PER_PARAM,
    "gptq": FOUR_BIT_BYTES_PER_PARAM,
    "gptq_marlin": FOUR_BIT_BYTES_PER_PARAM,
    "marlin": FOUR_BIT_BYTES_PER_PARAM,
    "bitsandbytes": FOUR_BIT_BYTES_PER_PARAM,
}

_DTYPE_BYTES: dict[str, int] = {
    "float32": 4,
    "float": 4,
    "fp32": 4,
    "float16": 2,
    "half": 2,
    "fp16": 2,
    "bfloat16": 2,
    "bf16": 2,
}

_KV_FP8 = ("fp8", "fp8_e4m3", "fp8_e5m2", "fp8_inc")

_MODELS_YAML = Path(catalog.__file__).parent / "models.yaml"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class ModelFacts:
    """The config.json numbers the memory arithmetic needs, for one checkpoint."""

    repo_id: str
    params: int
    dtype: str
    layers: int
    attention_heads: int
    kv_heads: int
    head_dim: int
    hidden_size: int
    max_position_embeddings: int
    vocab_size: int = 0
    num_experts: int | None = None
    experts_per_token: int | None = None
    source: str = ""
    verified: bool = False

    @classmethod
    def from_dict(cls, repo_id: str, data: Mapping[str, Any]) -> ModelFacts:
        """Build from a catalog entry or a user dict with the same keys.

        kv_heads defaults to attention_heads (no GQA) and head_dim to
        hidden_size / attention_heads, as transformers does.
        """
        required = (
            "params",
            "dtype",
            "layers",
            "attention_heads",
            "hidden_size",
            "max_position_embeddings",
        )
        missing = [k for k in required if data.get(k) is None]
        if missing:
            raise ValueError(f"model facts for {repo_id} lack {', '.join(missing)}")
        heads = _positive_int(data["attention_heads"], "attention_heads")
        hidden = _positive_int(data["hidden_size"], "hidden_size")
        _dtype_bytes(str(data["dtype"]))  # reject unknown dtypes early
        return cls(
            repo_id=repo_id,
            params=_positive_int(data["params"], "params"),
            dtype=str(data["dtype"]),
            layers=_positive_int(data["layers"], "layers"),
            attention_heads=heads,
            kv_heads=_optional_int(data, "kv_heads") or heads,
            head_dim=_optional_int(data, "head_dim") or hidden // heads,
            hidden_size=hidden,
            max_position_embeddings=_positive_int(data["max_position_embeddings"], "max_position_embeddings"),
            vocab_size=_optional_int(data, "vocab_size") or 0,
            num_experts=_optional_int(data, "num_experts"),
            experts_per_token=_optional_int(data, "experts_per_token"),
            source=str(data.get("source", "")),
            verified=bool(data.get("verified", False)),
        )

    @property
    def name(self) -> str:
        """The part after the organisation: what a gs:// copy is usually named."""
        return self.repo_id.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class FitResult:
    """Where one replica's memory goes, per chip unless the name says replica."""

    model: str
    accelerator_type: str
    chips: int
    tensor_parallel: int
    pipeline_parallel: int
    memory_gib: float  # per chip, as the driver reports it
    usable_gib: float  # memory_gib x gpu_memory_utilization
    weights_gib: float  # the whole replica
    weights_gib_per_chip: float
    activation_gib: float  # ACTIVATION_ALLOWANCE_GIB
    kv_gib_per_chip: float  # what is left for KV cache (negative: weights do not fit)
    kv_bytes_per_token: int  # the whole replica, replicated KV heads counted
    kv_bytes_per_token_per_chip: int
    kv_capacity_tokens: int  # tokens the replica's KV cache holds
    max_model_len: int
    largest_context: int  # min(kv_capacity_tokens, max_position_embeddings)
    fits: bool
    reason: str


def _positive_int(value: Any, key: str) -> int:
    number = int(float(value))
    if number <= 0:
        raise ValueError(f"{key} must be a positive number, got {value!r}")
    return number


def _optional_int(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    return None if value is None else _positive_int(value, key)


def _dtype_bytes(dtype: str) -> int:
    key = dtype.lower().removeprefix("torch.")
    if key not in _DTYPE_BYTES:
        raise ValueError(f"unknown dtype {dtype!r} (known: {', '.join(_DTYPE_BYTES)})")
    return _DTYPE_BYTES[key]


@lru_cache(maxsize=1)
def _models_table() -> dict[str, Any]:
    with open(_MODELS_YAML, encoding="utf-8") as fh:
        data: dict[str, Any] = yaml.load(fh, Loader=_Loader)
    return data


def catalog_models() -> dict[str, ModelFacts]:
    """Every model of catalog/models.yaml, keyed by Hugging Face repo id."""
    return dict(_catalog_index()[0])


@lru_cache(maxsize=1)
def _catalog_index() -> tuple[dict[str, ModelFacts], dict[str, ModelFacts], dict[str, ModelFacts]]:
    """(by repo id, by lower-case repo id, by lower-case model name), built once per process:
    a fleet looks a model up per served model, twice per `gen validate`."""
    models = {repo: ModelFacts.from_dict(repo, entry) for repo, entry in _models_table()["models"].items()}
    by_id = {key.lower(): facts for key, facts in models.items()}
    by_name: dict[str, ModelFacts] = {}
    for facts in models.values():
        by_name.setdefault(facts.name.lower(), facts)
    return models, by_id, by_name


def load_model_facts(repo_id: str) -> ModelFacts | None:
    """Catalog facts for a repo id, ``hf://org/name`` or a gs:// copy of a model.

    Matching ignores case. A gs:// path matches on its last two segments as
    org/name, else on its last segment as the model name
    (gs://bucket/x/Llama-3.1-8B-Instruct). None when the catalog does not know it.
    """
    lowered = repo_id.strip().lower()
    _, by_id, by_name = _catalog_index()
    if lowered.startswith("hf://"):
        return by_id.get(lowered[len("hf://") :].strip("/"))
    if lowered.startswith("gs://"):
        parts = [p for p in lowered[len("gs://") :].split("/") if p][1:]
        if len(parts) >= 2 and "/".join(parts[-2:]) in by_id:
            return by_id["/".join(parts[-2:])]
        return by_name.get(parts[-1]) if parts else None
    if lowered in by_id:
        return by_id[lowered]
    return None if "/" in lowered else by_name.get(lowered)


def accelerator_memory_gib(accelerator_type: str) -> float:
    """Memory per chip in GiB, as the driver reports it (see models.yaml header)."""
    table: dict[str, Any] = _models_table()["accelerator_memory_gib"]
    if accelerator_type not in table:
        raise ValueError(f"no memory figure for accelerator type {accelerator_type!r}")
    return float(table[accelerator_type]["gib"])


def is_tpu(accelerator_type: str) -> bool:
    """TPU types come from the tpus table of accelerators.yaml."""
    return accelerator_type in catalog.tpus()


def valid_chip_counts(accelerator_type: str) -> list[int]:
    """Chips per replica the catalog allows: GPU counts, or TPU topology sizes."""
    if is_tpu(accelerator_type):
        topologies = catalog.tpus()[accelerator_type]["topologies"]
        return sorted({t["hosts"] * t["chipsPerHost"] for t in topologies})
    return sorted(int(n) for n in catalog.gpus()[accelerator_type]["counts"])


def _tpu_topology_for(accelerator_type: str, chips: int) -> str:
    for entry in catalog.tpus()[accelerator_type]["topologies"]:
        if entry["hosts"] * entry["chipsPerHost"] == chips:
            return str(entry["topology"])
    raise ValueError(f"{accelerator_type} has no topology with {chips} chips")


def _served_dtype_bytes(dtype: str, engine_args: Mapping[str, Any]) -> int:
    """Bytes per activation/KV element: vLLM's dtype after 'auto' resolution.

    dtype 'auto' keeps a 16-bit config dtype and serves float32 configs in 16 bit
    (vLLM downcasts them: float16 before v0.10.1, bfloat16 since).
    """
    requested = str(engine_args.get("dtype", "auto") or "auto")
    if requested.lower() != "auto":
        return _dtype_bytes(requested)
    return min(_dtype_bytes(dtype), 2)


def bytes_per_param(dtype: str, engine_args: Mapping[str, Any] | None = None) -> float:
    """Weight bytes per parameter as vLLM holds them in accelerator memory.

    engine_args.quantization wins (fp8: 1 byte; awq/gptq/bitsandbytes: 4 bit plus
    scale overhead); otherwise the served dtype (see _served_dtype_bytes), so an
    explicit engine_args.dtype float32 costs 4 bytes and a float32 config 2.
    """
    args = engine_args or {}
    quantization = args.get("quantization")
    if quantization:
        key = str(quantization).lower()
        if key not in _QUANT_BYTES:
            known = ", ".join(sorted(_QUANT_BYTES))
            raise ValueError(f"unknown quantization {quantization!r} (known: {known})")
        return _QUANT_BYTES[key]
    return float(_served_dtype_bytes(dtype, args))


def kv_dtype_bytes(dtype: str, engine_args: Mapping[str, Any] | None = None) -> int:
    """Bytes per KV-cache element: kv_cache_dtype fp8 is 1, auto the model's."""
    args = engine_args or {}
    kv_dtype = str(args.get("kv_cache_dtype", "auto") or "auto").lower()
    if kv_dtype == "auto":
        return _served_dtype_bytes(dtype, args)
    if kv_dtype in _KV_FP8:
        return 1
    return _dtype_bytes(kv_dtype)


def kv_heads_per_rank(kv_heads: int, tensor_parallel: int) -> int:
    """vLLM splits KV heads over TP ranks and replicates them when TP > kv_heads."""
    return max(1, kv_heads // tensor_parallel)


def kv_bytes_per_token(
    facts: ModelFacts,
    tensor_parallel: int = 1,
    engine_args: Mapping[str, Any] | None = None,
) -> int:
    """KV bytes per token for the replica: 2 (K,V) x layers x heads x dim x bytes.

    Heads are counted per rank and summed over ranks, so replication when
    TP > kv_heads shows up as extra bytes.
    """
    per_rank = kv_heads_per_rank(facts.kv_heads, tensor_parallel)
    element = kv_dtype_bytes(facts.dtype, engine_args)
    return 2 * facts.layers * per_rank * tensor_parallel * facts.head_dim * element


def kv_bytes_per_token_per_chip(
    facts: ModelFacts,
    tensor_parallel: int = 1,
    pipeline_parallel: int = 1,
    engine_args: Mapping[str, Any] | None = None,
) -> int:
    """KV bytes per token on the busiest chip (the pipeline stage with most layers)."""
    layers = math.ceil(facts.layers / pipeline_parallel)
    per_rank = kv_heads_per_rank(facts.kv_heads, tensor_parallel)
    element = kv_dtype_bytes(facts.dtype, engine_args)
    return 2 * layers * per_rank * facts.head_dim * element


def _parallelism(
    chips: int,
    tensor_parallel: int | None,
    pipeline_parallel: int | None,
    args: Mapping[str, Any],
) -> tuple[int, int]:
    pp = pipeline_parallel or int(args.get("pipeline_parallel_size") or 1)
    tp = tensor_parallel or int(args.get("tensor_parallel_size") or max(1, chips // pp))
    return tp, pp


def fit(
    facts: ModelFacts,
    accelerator_type: str,
    chips_per_replica: int,
    tensor_parallel: int | None = None,
    pipeline_parallel: int | None = None,
    engine_args: Mapping[str, Any] | None = None,
) -> FitResult:
    """Does one replica of the model fit, and with how many tokens of KV cache?

    tensor_parallel / pipeline_parallel default to engine_args
    tensor_parallel_size / pipeline_parallel_size, else all chips in one TP group.
    max_model_len is engine_args.max_model_len, else the model's
    max_position_embeddings (vLLM's default). MoE weights count every expert:
    all of them are resident.
    """
    args: Mapping[str, Any] = engine_args or {}
    tp, pp = _parallelism(chips_per_replica, tensor_parallel, pipeline_parallel, args)
    ranks = tp * pp
    memory = accelerator_memory_gib(accelerator_type)
    utilization = float(args.get("gpu_memory_utilization") or DEFAULT_GPU_MEMORY_UTILIZATION)
    usable = memory * utilization
    weights_bytes = facts.params * bytes_per_param(facts.dtype, args)
    weights_per_chip = weights_bytes / ranks
    kv_bytes_free = usable * GIB - weights_per_chip - ACTIVATION_ALLOWANCE_GIB * GIB
    per_token_chip = kv_bytes_per_token_per_chip(facts, tp, pp, args)
    block = int(args.get("block_size") or DEFAULT_BLOCK_SIZE)
    blocks = math.floor(kv_bytes_free / (per_token_chip * block)) if kv_bytes_free > 0 else 0
    capacity = blocks * block
    max_model_len = int(args.get("max_model_len") or facts.max_position_embeddings)
    problems = _layout_problems(facts, chips_per_replica, tp, pp)
    if max_model_len > facts.max_position_embeddings:
        problems.append(
            f"max_model_len {max_model_len:,} exceeds the model's "
            f"max_position_embeddings {facts.max_position_embeddings:,}"
        )
    if kv_bytes_free <= 0:
        problems.append(
            f"weights need {weights_per_chip / GIB:.2f} GiB per chip but only "
            f"{usable - ACTIVATION_ALLOWANCE_GIB:.2f} GiB is usable "
            f"({memory:g} GiB x {utilization:g} - {ACTIVATION_ALLOWANCE_GIB:g} GiB "
            "activations)"
        )
    elif capacity < max_model_len:
        problems.append(f"KV cache holds {capacity:,} tokens, fewer than max_model_len {max_model_len:,}")
    reason = "; ".join(problems) or (
        f"fits: weights {weights_per_chip / GIB:.2f} GiB per chip, KV cache holds "
        f"{capacity:,} tokens >= max_model_len {max_model_len:,}"
    )
    return FitResult(
        model=facts.repo_id,
        accelerator_type=accelerator_type,
        chips=chips_per_replica,
        tensor_parallel=tp,
        pipeline_parallel=pp,
        memory_gib=memory,
        usable_gib=usable,
        weights_gib=weights_bytes / GIB,
        weights_gib_per_chip=weights_per_chip / GIB,
        activation_gib=ACTIVATION_ALLOWANCE_GIB,
        kv_gib_per_chip=kv_bytes_free / GIB,
        kv_bytes_per_token=kv_bytes_per_token(facts, tp, args),
        kv_bytes_per_token_per_chip=per_token_chip,
        kv_capacity_tokens=capacity,
        max_model_len=max_model_len,
        largest_context=min(capacity, facts.max_position_embeddings),
        fits=not problems,
        reason=reason,
    )


def _layout_problems(facts: ModelFacts, chips: int, tp: int, pp: int) -> list[str]:
    """Parallel layouts vLLM rejects before it looks at memory."""
    problems: list[str] = []
    if tp * pp > chips:
        problems.append(
            f"tensor x pipeline parallel {tp}x{pp} needs {tp * pp} chips, the replica has {chips}"
        )
    if facts.attention_heads % tp:
        problems.append(f"{facts.attention_heads} attention heads do not divide over tensor parallelism {tp}")
    if facts.kv_heads % tp and tp % facts.kv_heads:
        problems.append(f"{facts.kv_heads} KV heads and tensor parallelism {tp}: neither divides the other")
    if pp > facts.layers:
        problems.append(f"pipeline parallelism {pp} exceeds {facts.layers} layers")
    return problems


def _without_parallelism(args: Mapping[str, Any]) -> dict[str, Any]:
    drop = ("tensor_parallel_size", "pipeline_parallel_size")
    return {k: v for k, v in args.items() if k not in drop}


def _layout_text(accelerator_type: str, chips: int) -> str:
    """The accelerator field to change, and what the new layout means."""
    if is_tpu(accelerator_type):
        topology = _tpu_topology_for(accelerator_type, chips)
        return f"topology: {topology} ({chips} chips, tensor parallelism {chips})"
    return f"count: {chips} (tensor parallelism {chips})"


def smallest_fix(
    facts: ModelFacts,
    accelerator_type: str,
    chips_per_replica: int,
    tensor_parallel: int | None = None,
    pipeline_parallel: int | None = None,
    engine_args: Mapping[str, Any] | None = None,
) -> str | None:
    """The cheapest changes that make a non-fitting replica fit, as one sentence.

    Offered, each only when it really fits: on GPUs whose tensor parallelism
    does not divide the heads, another tensor x pipeline split of the same chips;
    a shorter max_model_len (a multiple of 1024, at least 2048, weights must
    already fit); the smallest larger chip count of the same accelerator with
    tensor parallelism over all chips.
    Only when none exists: the smallest larger accelerator of the same family
    (GPU or TPU) by total memory. None when the replica already fits.
    """
    args: dict[str, Any] = dict(engine_args or {})
    current = fit(
        facts,
        accelerator_type,
        chips_per_replica,
        tensor_parallel,
        pipeline_parallel,
        args,
    )
    if current.fits:
        return None
    options: list[str] = []
    split = _other_split(facts, accelerator_type, current, args)
    if split is not None:
        options.append(split)
    context = (current.largest_context // CONTEXT_STEP) * CONTEXT_STEP
    if MIN_SUGGESTED_CONTEXT <= context < current.max_model_len:
        shorter = fit(
            facts,
            accelerator_type,
            chips_per_replica,
            tensor_parallel,
            pipeline_parallel,
            {**args, "max_model_len": context},
        )
        if shorter.fits:
            options.append(
                f"set engineArgs.max_model_len: {context} (KV cache holds "
                f"{shorter.kv_capacity_tokens:,} tokens)"
            )
    bare = {**_without_parallelism(args), "max_model_len": current.max_model_len}
    for chips in valid_chip_counts(accelerator_type):
        if chips <= chips_per_replica:
            continue
        if fit(facts, accelerator_type, chips, chips, 1, bare).fits:
            options.append(f"use accelerator.{_layout_text(accelerator_type, chips)}")
            break
    if not options:
        larger = _larger_accelerator(facts, accelerator_type, bare)
        if larger is not None:
            kind, chips = larger
            options.append(f"use accelerator.type: {kind} with {_layout_text(kind, chips)}")
    if not options:
        return f"no single change makes {facts.repo_id} fit: {current.reason}"
    return ", or ".join(options)


def _other_split(
    facts: ModelFacts,
    accelerator_type: str,
    current: FitResult,
    args: Mapping[str, Any],
) -> str | None:
    """Same GPUs, another tensor x pipeline split, when the current one is invalid.

    TPUs are left alone: vLLM on TPU runs one tensor-parallel group per slice.
    """
    chips = current.chips
    layout = _layout_problems(facts, chips, current.tensor_parallel, current.pipeline_parallel)
    if is_tpu(accelerator_type) or not layout:
        return None
    for tp in sorted((d for d in range(1, chips) if chips % d == 0), reverse=True):
        pp = chips // tp
        if fit(facts, accelerator_type, chips, tp, pp, args).fits:
            return f"set engineArgs.tensor_parallel_size: {tp} and pipeline_parallel_size: {pp}"
    return None


def _larger_accelerator(
    facts: ModelFacts, accelerator_type: str, args: Mapping[str, Any]
) -> tuple[str, int] | None:
    """Smallest (by total memory) fitting layout on a bigger chip of the same family."""
    memory = accelerator_memory_gib(accelerator_type)
    family = catalog.tpus() if is_tpu(accelerator_type) else catalog.gpus()
    best: tuple[float, int, str] | None = None
    for kind in family:
        if accelerator_memory_gib(kind) <= memory:
            continue
        for chips in valid_chip_counts(kind):
            if fit(facts, kind, chips, chips, 1, args).fits:
                candidate = (accelerator_memory_gib(kind) * chips, chips, kind)
                if best is None or candidate < best:
                    best = candidate
                break
    return None if best is None else (best[2], best[1])
