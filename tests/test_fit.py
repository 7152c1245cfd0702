"""Capacity fit (generator/fit.py): hand-computed memory arithmetic and the catalog."""

from __future__ import annotations

import math

import pytest

from generator import catalog, fit

GIB = 1024**3
LLAMA_8B = "meta-llama/Llama-3.1-8B-Instruct"
L4 = "nvidia-l4"
L4_GIB = 22.494  # 23034 MiB, what nvidia-smi reports
REQUIRED = (
    "params",
    "dtype",
    "layers",
    "attention_heads",
    "kv_heads",
    "head_dim",
    "hidden_size",
    "vocab_size",
    "max_position_embeddings",
    "source",
    "verified",
)


def facts(repo: str) -> fit.ModelFacts:
    found = fit.load_model_facts(repo)
    assert found is not None, repo
    return found


# ── catalog/models.yaml ─────────────────────────────────────────────────────


def test_memory_table_covers_exactly_the_accelerator_catalog():
    table = fit._models_table()["accelerator_memory_gib"]
    assert sorted(table) == catalog.accelerator_types()
    for kind, entry in table.items():
        assert 10 < entry["gib"] < 200, kind
        assert entry["source"] and isinstance(entry["verified"], bool), kind


@pytest.mark.parametrize("repo", sorted(fit._models_table()["models"]))
def test_catalog_entry_is_complete(repo):
    entry = fit._models_table()["models"][repo]
    assert [k for k in REQUIRED if k not in entry] == []
    assert entry["source"] == f"https://huggingface.co/{repo}/blob/main/config.json"
    # an unverified entry says which fields were not checked
    assert entry["verified"] is True or entry["unverified"]
    model = fit.ModelFacts.from_dict(repo, entry)
    assert model.attention_heads % model.kv_heads == 0
    assert (model.num_experts is None) == (model.experts_per_token is None)


def test_model_names_are_unique_so_gs_paths_resolve():
    names = [m.name.lower() for m in fit.catalog_models().values()]
    assert len(names) == len(set(names))


def test_every_family_the_issue_asks_for_is_present():
    models = fit.catalog_models()
    for repo in (
        LLAMA_8B,
        "meta-llama/Llama-3.1-405B-Instruct",
        "google/gemma-2b-it",
        "google/gemma-2-27b-it",
        "google/gemma-3-27b-it",
        "Qwen/Qwen2.5-72B-Instruct",
        "Qwen/Qwen3-30B-A3B",
        "mistralai/Mixtral-8x7B-Instruct-v0.1",
        "deepseek-ai/DeepSeek-R1-Distill-Llama-70B",
        "microsoft/phi-4",
    ):
        assert repo in models


# ── lookup ──────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    "ref",
    [
        LLAMA_8B,
        "META-LLAMA/llama-3.1-8b-instruct",
        "hf://meta-llama/Llama-3.1-8B-Instruct",
        "gs://bucket/path/Llama-3.1-8B-Instruct",
        "gs://bucket/path/Llama-3.1-8B-Instruct/",
        "gs://bucket/meta-llama/Llama-3.1-8B-Instruct",
        "llama-3.1-8b-instruct",
    ],
)
def test_lookup_forms(ref):
    assert facts(ref).repo_id == LLAMA_8B


@pytest.mark.parametrize(
    "ref",
    [
        "someone/Llama-3.1-8B-Instruct",  # a fine-tune is not the base model
        "hf://meta-llama/Llama-3.1-8B",
        "gs://only-a-bucket",
        "gs://bucket/weights/my-finetune",
    ],
)
def test_lookup_misses(ref):
    assert fit.load_model_facts(ref) is None


def test_gemma4_from_the_tpu_example_resolves():
    # examples/tpu-multihost-dranet: source gs://my-weights-bucket/google/gemma-4-31B-it
    assert facts("gs://my-weights-bucket/google/gemma-4-31B-it").layers == 60


def test_user_supplied_facts_fill_transformers_defaults():
    model = fit.ModelFacts.from_dict(
        "me/tiny",
        {
            "params": 1.5e9,
            "dtype": "torch.bfloat16",
            "layers": 24,
            "attention_heads": 16,
            "hidden_size": 2048,
            "max_position_embeddings": 4096,
        },
    )
    assert (model.params, model.kv_heads, model.head_dim) == (1_500_000_000, 16, 128)
    # 2 x 24 layers x 16 heads x 128 x 2 bytes
    assert fit.kv_bytes_per_token(model) == 196_608


def test_user_supplied_facts_must_be_complete():
    with pytest.raises(ValueError, match="lack layers"):
        fit.ModelFacts.from_dict(
            "me/x",
            {
                "params": 1e9,
                "dtype": "bfloat16",
                "attention_heads": 8,
                "hidden_size": 1024,
                "max_position_embeddings": 2048,
            },
        )
    with pytest.raises(ValueError, match="unknown dtype"):
        fit.ModelFacts.from_dict(
            "me/x",
            {
                "params": 1e9,
                "dtype": "int3",
                "layers": 2,
                "attention_heads": 8,
                "hidden_size": 1024,
                "max_position_embeddings": 2048,
            },
        )


# ── bytes per parameter / per KV element ────────────────────────────────────


@pytest.mark.parametrize(
    "dtype, engine_args, expected",
    [
        ("bfloat16", {}, 2.0),
        ("float16", {"dtype": "auto"}, 2.0),
        ("float32", {}, 2.0),  # vLLM serves float32 configs in 16 bit
        ("float32", {"dtype": "float32"}, 4.0),
        ("bfloat16", {"dtype": "float32"}, 4.0),
        ("bfloat16", {"dtype": "half"}, 2.0),
        ("bfloat16", {"quantization": "fp8"}, 1.0),
        ("bfloat16", {"quantization": "awq"}, 0.5625),
        ("float16", {"quantization": "gptq"}, 0.5625),
        ("bfloat16", {"quantization": "bitsandbytes"}, 0.5625),
    ],
)
def test_bytes_per_param(dtype, engine_args, expected):
    assert fit.bytes_per_param(dtype, engine_args) == expected


def test_unknown_quantization_is_an_error_not_a_guess():
    with pytest.raises(ValueError, match="unknown quantization 'hqq'"):
        fit.bytes_per_param("bfloat16", {"quantization": "hqq"})


@pytest.mark.parametrize(
    "engine_args, expected",
    [
        ({}, 2),
        ({"kv_cache_dtype": "auto"}, 2),
        ({"kv_cache_dtype": "fp8"}, 1),
        ({"kv_cache_dtype": "fp8_e5m2"}, 1),
        ({"quantization": "fp8"}, 2),  # fp8 weights, KV cache still in bf16
        ({"dtype": "float32"}, 4),
    ],
)
def test_kv_dtype_bytes(engine_args, expected):
    assert fit.kv_dtype_bytes("bfloat16", engine_args) == expected


# ── dense model, hand-computed ──────────────────────────────────────────────


def test_llama_8b_kv_bytes_per_token():
    # 2 (K,V) x 32 layers x 8 KV heads x 128 head_dim x 2 bytes (bf16)
    assert fit.kv_bytes_per_token(facts(LLAMA_8B)) == 2 * 32 * 8 * 128 * 2 == 131_072
    assert fit.kv_bytes_per_token(facts(LLAMA_8B), 1, {"kv_cache_dtype": "fp8"}) == 65_536


def test_llama_8b_1xl4_arithmetic_step_by_step():
    r = fit.fit(facts(LLAMA_8B), L4, 1, engine_args={"max_model_len": 8192})
    weights = 8_030_261_248 * 2  # 16,060,522,496 B = 14.96 GiB
    free = L4_GIB * 0.9 * GIB - weights - 1.0 * GIB  # 4.287 GiB
    assert r.weights_gib == pytest.approx(14.9575, abs=1e-4)
    assert r.weights_gib_per_chip == r.weights_gib
    assert r.usable_gib == pytest.approx(20.2446)
    assert r.activation_gib == fit.ACTIVATION_ALLOWANCE_GIB == 1.0
    assert r.kv_gib_per_chip == pytest.approx(free / GIB) == pytest.approx(4.2871, abs=1e-4)
    # 4,603,209,410 B / 131,072 B = 35,119.7 tokens, whole 16-token blocks: 35,104
    assert r.kv_capacity_tokens == math.floor(free / (131_072 * 16)) * 16 == 35_104


def test_llama_8b_1xl4_default_context_131072_does_not_fit_fix_is_34816():
    model = facts(LLAMA_8B)
    r = fit.fit(model, L4, 1)
    assert r.max_model_len == 131_072  # max_position_embeddings
    assert not r.fits
    assert r.largest_context == 35_104
    assert "KV cache holds 35,104 tokens, fewer than max_model_len 131,072" in r.reason
    fix = fit.smallest_fix(model, L4, 1)
    assert fix == (
        "set engineArgs.max_model_len: 34816 (KV cache holds 35,104 tokens), "
        "or use accelerator.count: 2 (tensor parallelism 2)"
    )


def test_llama_8b_1xl4_max_model_len_8192_fits_35104_tokens():
    model = facts(LLAMA_8B)
    r = fit.fit(model, L4, 1, engine_args={"max_model_len": 8192})
    assert r.fits and r.reason.startswith("fits:")
    assert (r.max_model_len, r.kv_capacity_tokens) == (8192, 35_104)
    assert fit.smallest_fix(model, L4, 1, engine_args={"max_model_len": 8192}) is None


def test_llama_8b_2xl4_tp2_max_model_len_8192_fits_192768_tokens():
    r = fit.fit(facts(LLAMA_8B), L4, 2, 2, 1, {"max_model_len": 8192})
    assert r.fits and (r.tensor_parallel, r.pipeline_parallel) == (2, 1)
    # each GPU holds half the weights (7.48 GiB) and 4 of the 8 KV heads
    assert r.weights_gib_per_chip == pytest.approx(7.4788, abs=1e-4)
    assert r.kv_bytes_per_token_per_chip == 2 * 32 * 4 * 128 * 2 == 65_536
    assert r.kv_bytes_per_token == 131_072
    # (20.2446 - 7.4788 - 1) GiB = 11.7658 GiB / 65,536 B = 192,775 -> 192,768
    assert r.kv_capacity_tokens == 192_768
    assert r.largest_context == 131_072  # capped by max_position_embeddings


def test_parallelism_defaults_to_one_tp_group_over_all_chips():
    r = fit.fit(facts(LLAMA_8B), L4, 4)
    assert (r.tensor_parallel, r.pipeline_parallel) == (4, 1)
    r = fit.fit(facts(LLAMA_8B), L4, 4, engine_args={"tensor_parallel_size": 2})
    assert r.tensor_parallel == 2 and r.weights_gib_per_chip == pytest.approx(7.4788, 1e-4)


def test_pipeline_parallel_splits_layers_not_heads():
    r = fit.fit(facts(LLAMA_8B), L4, 2, 1, 2, {"max_model_len": 8192})
    # 16 layers per stage, all 8 KV heads: same per-chip cost as TP 2
    assert r.kv_bytes_per_token_per_chip == 2 * 16 * 8 * 128 * 2 == 65_536
    assert r.weights_gib_per_chip == pytest.approx(7.4788, abs=1e-4)
    assert r.fits


def test_more_parallel_ranks_than_chips_does_not_fit():
    r = fit.fit(facts(LLAMA_8B), L4, 1, 2, 1, {"max_model_len": 8192})
    assert not r.fits and "needs 2 chips, the replica has 1" in r.reason


# ── GQA with tensor parallelism above the KV head count ─────────────────────


def test_kv_heads_are_replicated_when_tp_exceeds_them():
    assert [fit.kv_heads_per_rank(8, tp) for tp in (1, 2, 8, 16)] == [8, 4, 1, 1]
    gemma = facts("google/gemma-2b-it")  # multi-query: 1 KV head
    # 2 x 18 layers x 1 head x 256 x 2 bytes, once per rank
    assert fit.kv_bytes_per_token(gemma, 1) == 18_432
    assert fit.kv_bytes_per_token(gemma, 2) == 2 * 18_432
    llama70 = facts("meta-llama/Llama-3.1-70B-Instruct")
    r = fit.fit(llama70, "nvidia-tesla-a100", 16, engine_args={"max_model_len": 8192})
    # 16 ranks, 8 KV heads: each rank keeps 1 head (2 x 80 x 1 x 128 x 2 bytes)
    assert r.kv_bytes_per_token_per_chip == 40_960
    assert r.kv_bytes_per_token == 16 * 40_960 == 2 * fit.kv_bytes_per_token(llama70)
    assert r.fits


def test_tp_must_divide_the_attention_heads():
    qwen = facts("Qwen/Qwen2.5-7B-Instruct")  # 28 heads, 4 KV heads
    r = fit.fit(qwen, L4, 8)
    assert not r.fits
    assert "28 attention heads do not divide over tensor parallelism 8" in r.reason
    fix = fit.smallest_fix(qwen, L4, 8)
    assert fix == "set engineArgs.tensor_parallel_size: 4 and pipeline_parallel_size: 2"
    assert fit.fit(qwen, L4, 8, 4, 2).fits


# ── MoE ─────────────────────────────────────────────────────────────────────


def test_mixtral_weights_count_every_expert():
    mixtral = facts("mistralai/Mixtral-8x7B-Instruct-v0.1")
    assert (mixtral.num_experts, mixtral.experts_per_token) == (8, 2)
    args = {"max_model_len": 32768}
    one = fit.fit(mixtral, "nvidia-h100-80gb", 1, engine_args=args)
    # 46,702,792,704 params x 2 B = 86.99 GiB; the 12.9B active ones alone would fit
    assert one.weights_gib == pytest.approx(46_702_792_704 * 2 / GIB)
    assert one.weights_gib == pytest.approx(86.99, abs=0.01)
    assert not one.fits and one.kv_capacity_tokens == 0
    assert "weights need 86.99 GiB per chip but only 70.68 GiB is usable" in one.reason
    assert fit.smallest_fix(mixtral, "nvidia-h100-80gb", 1, engine_args=args) == (
        "use accelerator.count: 2 (tensor parallelism 2)"
    )
    two = fit.fit(mixtral, "nvidia-h100-80gb", 2, engine_args=args)
    # (79.647 x 0.9 - 43.50 - 1) GiB = 27.18 GiB / (2 x 32 x 4 x 128 x 2 B) = 445,424
    assert two.fits and two.kv_capacity_tokens == 445_424


# ── quantization ────────────────────────────────────────────────────────────


def test_fp8_halves_the_weights_and_fp8_kv_halves_the_cache():
    model = facts(LLAMA_8B)
    bf16 = fit.fit(model, L4, 1)
    fp8 = fit.fit(model, L4, 1, engine_args={"quantization": "fp8"})
    assert fp8.weights_gib == pytest.approx(bf16.weights_gib / 2)
    assert fp8.weights_gib == pytest.approx(8_030_261_248 / GIB)
    # (20.2446 - 7.4788 - 1) GiB / 131,072 B = 96,387 -> 96,384 tokens: still < 131,072
    assert fp8.kv_capacity_tokens == 96_384 and not fp8.fits
    both = fit.fit(model, L4, 1, engine_args={"quantization": "fp8", "kv_cache_dtype": "fp8"})
    assert both.kv_bytes_per_token == 65_536
    assert both.kv_capacity_tokens == 192_768 and both.fits


def test_gpu_memory_utilization_comes_from_engine_args():
    r = fit.fit(facts(LLAMA_8B), L4, 1, engine_args={"gpu_memory_utilization": 0.95})
    assert r.usable_gib == pytest.approx(L4_GIB * 0.95)


# ── fixes ───────────────────────────────────────────────────────────────────


def test_no_context_fix_when_the_weights_do_not_fit():
    # Llama 8B on one T4 (15 GiB): 14.96 GiB of weights leave nothing for KV cache,
    # 2 T4s hold 82k tokens (< 131,072), 4 T4s hold 287k
    fix = fit.smallest_fix(facts(LLAMA_8B), "nvidia-tesla-t4", 1)
    assert fix == "use accelerator.count: 4 (tensor parallelism 4)"


def test_larger_accelerator_when_no_count_of_this_one_fits():
    model = facts("meta-llama/Llama-3.1-405B-Instruct")  # 756 GiB of bf16 weights
    args = {"max_model_len": 4096}
    assert not fit.fit(model, L4, 8, engine_args=args).fits
    fix = fit.smallest_fix(model, L4, 8, engine_args=args)
    # 8 x A100-80GB / H100 leave < 1 GiB per GPU after 94.5 GiB weights; H200 fits
    assert fix == ("use accelerator.type: nvidia-h200-141gb with count: 8 (tensor parallelism 8)")


def test_tpu_fix_names_a_topology():
    model = facts("meta-llama/Llama-3.1-70B-Instruct")
    assert not fit.fit(model, "tpu-v6e", 4).fits  # 32.9 GiB of weights per 32 GiB chip
    assert fit.smallest_fix(model, "tpu-v6e", 1) == (
        "use accelerator.topology: 2x4 (8 chips, tensor parallelism 8)"
    )


def test_context_longer_than_the_model_is_reported_and_fixed():
    model = facts("microsoft/Phi-3-mini-4k-instruct")
    r = fit.fit(model, L4, 1, engine_args={"max_model_len": 8192})
    assert not r.fits and "exceeds the model's max_position_embeddings 4,096" in r.reason
    fix = fit.smallest_fix(model, L4, 1, engine_args={"max_model_len": 8192})
    assert fix is not None and fix.startswith("set engineArgs.max_model_len: 4096 ")


def test_tpu_example_gemma4_on_v6e_4x4_fits():
    # examples/tpu-multihost-dranet: 16 chips, tensor parallelism 16, 8192 tokens
    r = fit.fit(
        facts("google/gemma-4-31B-it"),
        "tpu-v6e",
        16,
        engine_args={"max_model_len": 8192},
    )
    assert r.fits and r.tensor_parallel == 16
    assert r.weights_gib_per_chip == pytest.approx(31.27e9 * 2 / 16 / GIB)


def test_valid_chip_counts_come_from_accelerators_yaml():
    assert fit.valid_chip_counts(L4) == [1, 2, 4, 8]
    assert fit.valid_chip_counts("tpu-v6e") == [1, 4, 8, 16, 32, 64, 128, 256]
    assert fit.valid_chip_counts("nvidia-h200-141gb") == [8]


# ── every catalog model fits somewhere ──────────────────────────────────────


def _first_fit(model: fit.ModelFacts) -> fit.FitResult | None:
    for kind in catalog.accelerator_types():
        for chips in fit.valid_chip_counts(kind):
            result = fit.fit(model, kind, chips, engine_args={"max_model_len": 4096})
            if result.fits:
                return result
    return None


@pytest.mark.parametrize("repo", sorted(fit.catalog_models()))
def test_every_catalog_model_fits_some_accelerator_at_4096(repo):
    found = _first_fit(facts(repo))
    assert found is not None, f"{repo} fits no accelerator/count in the catalog"
    assert found.kv_capacity_tokens >= 4096
