"""Capacity fit at `gen validate` time, and `gen describe` (issue: capacity fit).

The arithmetic itself is tested in test_fit.py; here: the spec contract around it."""

from __future__ import annotations

import json

import pytest

from generator.capacity import fleet_capacity
from generator.layout import replica_layout
from generator.spec import validate_document
from generator.spec.build import model_from_data
from generator.spec.loader import load_text

from .conftest import EXAMPLES, ROOT

HEAD = "apiVersion: gen.llm-fleet.dev/v1alpha1\nkind: ModelFleet\nmetadata: {name: f}\nmodels:\n"
LLAMA = "  - name: llama\n    source: hf://meta-llama/Llama-3.1-8B-Instruct\n"


def _validate(models: str):
    return validate_document(load_text(HEAD + models, "m.yaml"))


def _messages(models: str) -> list[str]:
    return [d.format() for d in _validate(models)[1]]


def test_llama_8b_on_one_l4_with_its_default_context_does_not_fit():
    (message,) = _messages(LLAMA + "    accelerator: {type: nvidia-l4}\n")
    assert message.startswith("m.yaml:5:5: models[0]: meta-llama/Llama-3.1-8B-Instruct does not fit")
    assert "KV cache holds 35,104 tokens, fewer than max_model_len 131,072" in message
    assert "set engineArgs.max_model_len: 34816" in message
    assert "accelerator.count: 2" in message


def test_llama_8b_on_one_l4_with_8192_tokens_fits():
    assert (
        _messages(LLAMA + "    accelerator: {type: nvidia-l4}\n    engineArgs: {max_model_len: 8192}\n") == []
    )


def test_llama_8b_on_two_l4s_fits_with_derived_tensor_parallelism():
    data, diags = _validate(LLAMA + "    accelerator: {type: nvidia-l4, count: 2}\n")
    assert diags == []
    (c,) = fleet_capacity(data)
    assert (c.layout.chips, c.layout.tensor_parallel, c.layout.explicit) == (2, 2, False)
    assert c.result is not None and c.result.fits
    assert c.result.kv_capacity_tokens == 192_768  # 11.77 GiB per L4 / 65,536 bytes per token


def test_a_too_long_max_model_len_is_reported_at_its_line():
    (message,) = _messages(
        LLAMA + "    accelerator: {type: nvidia-l4}\n    engineArgs: {max_model_len: 65536}\n"
    )
    assert message.startswith("m.yaml:8:33: models[0].engineArgs.max_model_len: ")


def test_weights_that_fit_nowhere_on_the_accelerator_propose_a_larger_one():
    big = "  - name: big\n    source: hf://meta-llama/Llama-3.1-70B-Instruct\n"
    big += "    accelerator: {type: nvidia-l4}\n"
    (message,) = _messages(big)
    assert "does not fit one replica of 1x nvidia-l4" in message
    assert "nvidia-" in message.split(";", 1)[1]  # a fix naming an accelerator or count


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (
            "{tensor_parallel_size: 2}",
            "is 2, but one replica has 4 nvidia-h100-80gb chips, so 2 would stay idle",
        ),
        ("{tensor_parallel_size: 4, pipeline_parallel_size: 2}", "is 8, but one replica has 4"),
    ],
)
def test_explicit_parallelism_must_use_exactly_the_replicas_gpus(args, fragment):
    (message,) = _messages(
        LLAMA + f"    accelerator: {{type: nvidia-h100-80gb, count: 4}}\n    engineArgs: {args}\n"
    )
    assert fragment in message


def test_explicit_parallelism_that_matches_is_accepted():
    data, diags = _validate(
        LLAMA + "    accelerator: {type: nvidia-h100-80gb, count: 4}\n"
        "    engineArgs: {tensor_parallel_size: 2, pipeline_parallel_size: 2}\n"
    )
    assert diags == []
    layout = replica_layout(model_from_data(data["models"][0]))
    assert (layout.tensor_parallel, layout.pipeline_parallel, layout.explicit) == (2, 2, True)


def test_unknown_model_is_skipped_with_one_note(cli):
    spec = HEAD + "  - name: mine\n    source: hf://acme/secret-model\n    accelerator: {type: nvidia-l4}\n"
    data, diags = validate_document(load_text(spec, "m.yaml"))
    assert diags == []
    (c,) = fleet_capacity(data)
    assert c.facts is None and c.result is None


def test_model_facts_in_the_spec_are_checked(tmp_path, cli):
    facts = (
        "    modelFacts: {params: 8030261248, dtype: bfloat16, layers: 32, attentionHeads: 32,\n"
        "                 kvHeads: 8, hiddenSize: 4096, maxPositionEmbeddings: 131072}\n"
    )
    spec = tmp_path / "models.yaml"
    spec.write_text(
        HEAD
        + "  - name: mine\n    source: hf://acme/llama-copy\n    accelerator: {type: nvidia-l4}\n"
        + facts
    )
    result = cli("validate", str(spec))
    assert result.exit_code == 1
    assert "acme/llama-copy does not fit one replica of 1x nvidia-l4" in result.output
    spec.write_text(spec.read_text().replace("131072}", "131072}\n    engineArgs: {max_model_len: 8192}"))
    assert cli("validate", str(spec)).exit_code == 0


def test_validate_notes_an_unknown_model_once(tmp_path, cli):
    spec = tmp_path / "models.yaml"
    spec.write_text(
        HEAD + "  - name: mine\n    source: hf://acme/secret-model\n    accelerator: {type: nvidia-l4}\n"
    )
    result = cli("validate", str(spec))
    assert result.exit_code == 0
    notes = [line for line in result.output.splitlines() if line.startswith("note:")]
    assert notes == [
        f"note: {spec}: models[0]: hf://acme/secret-model is not in gen's model catalog; "
        "capacity not checked (add modelFacts to check it)"
    ]


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_example_model_is_known_and_fits(example, cli):
    result = cli("describe", "--format", "json", str(ROOT / "examples" / example / "models.yaml"))
    assert result.exit_code == 0
    models = json.loads(result.output)["models"]
    assert models and all(m["checked"] and m["fits"] for m in models), models
    assert all(m["chips"] == m["tensorParallel"] * m["pipelineParallel"] for m in models)


def test_describe_table_shows_the_numbers(cli):
    result = cli("describe", str(ROOT / "examples" / "multiplexing-gcsfuse" / "models.yaml"))
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split() == [
        "MODEL",
        "ACCELERATOR",
        "TP",
        "PP",
        "WEIGHTS/CHIP",
        "KV",
        "CACHE",
        "CONTEXT",
        "MAX",
        "CONTEXT",
        "FITS",
    ]
    llama = next(line for line in lines if "Llama-3.1-8B" in line)
    assert llama.split() == [
        "/gcs/meta-llama/Llama-3.1-8B-Instruct",
        "2x",
        "nvidia-l4",
        "2",
        "1",
        "7.48",
        "GiB",
        "192,768",
        "tokens",
        "131,072",
        "131,072",
        "yes",
    ]


def test_describe_an_invalid_spec_exits_1(tmp_path, cli):
    spec = tmp_path / "models.yaml"
    spec.write_text(HEAD + LLAMA + "    accelerator: {type: nvidia-l4}\n")
    result = cli("describe", str(spec))
    assert result.exit_code == 1
    assert "does not fit" in result.output and "nothing to describe" in result.output


def test_fits_are_worked_out_per_distinct_model_and_unhashable_engine_args_still_count():
    """capacity memoizes fit per (facts, layout, engineArgs): models that differ only in name
    share it, a differing max_model_len does not, and a list or map among the engine
    arguments (unhashable) is fitted without the memo."""
    two = LLAMA + "    accelerator: {type: nvidia-l4}\n    engineArgs: {max_model_len: 8192}\n"
    two += two.replace("name: llama", "name: llama-b").replace("8192", "65536")
    two += LLAMA.replace("name: llama", "name: llama-c") + (
        "    accelerator: {type: nvidia-l4}\n    engineArgs: {max_model_len: 65536, hf_overrides: {a: 1}}\n"
    )
    messages = _messages(two)
    assert [m.split(": ")[1] for m in messages] == [
        "models[1].engineArgs.max_model_len",
        "models[2].engineArgs.max_model_len",
    ]
    assert all("KV cache holds 35,104 tokens, fewer than max_model_len 65,536" in m for m in messages)
