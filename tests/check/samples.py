"""Load the official samples in tests/fixtures/upstream-samples with placeholders filled."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1] / "fixtures" / "upstream-samples"

# Plausible values for the samples' shell placeholders. An unknown placeholder is an
# error, so a refreshed sample with a new one cannot slip through unsubstituted.
PLACEHOLDERS = {
    "KSA_NAME": "ray-ksa",
    "GSBUCKET": "my-model-bucket",
    "GS_BUCKET": "my-model-bucket",
    "VLLM_IMAGE": "vllm/vllm-tpu:v0.10.0",
    "CUSTOM_IMAGE_URI": "us-docker.pkg.dev/my-project/ray/vllm-tpu:latest",
    "MODEL_ID": "google/gemma-2-9b-it",
    "ASSIST_MODEL_ID": "google/gemma-2-2b-it",
    "SUMMARIZER_MODEL_ID": "google/gemma-2-9b-it",
    "MAX_MODEL_LEN": "8192",
    "DTYPE": "bfloat16",
    "TOKENIZER_MODE": "auto",
}
_PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}|\$([A-Z][A-Z0-9_]*)")


def substitute(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2)
        if name not in PLACEHOLDERS:
            raise KeyError(f"sample placeholder ${name} has no test value")
        return PLACEHOLDERS[name]

    return _PLACEHOLDER.sub(repl, text)


def sample_files() -> list[Path]:
    return sorted(ROOT.rglob("*.yaml"))


def load_docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(substitute(path.read_text(encoding="utf-8"))) if d]


def all_docs() -> list[tuple[str, dict]]:
    """(id "relative/path.yaml#index Kind/name", document) for every sample document."""
    out = []
    for path in sample_files():
        for i, doc in enumerate(load_docs(path)):
            rel = path.relative_to(ROOT).as_posix()
            out.append((f"{rel}#{i} {doc['kind']}/{doc['metadata']['name']}", doc))
    return out
