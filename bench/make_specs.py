"""Synthetic fleet specs for the benchmarks (generated, never committed).

Two families, both deterministic (same bytes on every run, no randomness):

* ``render-<N>.yaml`` -- only what ``gen render`` renders today: one implicit cluster,
  NVIDIA GPU models (types and counts from generator/catalog/accelerators.yaml, each
  model on the first type and count, cycling, that its weights and context fit: gen
  validate's capacity rule), varied replicas, engineArgs, modelId, hfTokenSecret and env. ``--routing`` picks
  body (default), header or path (path routing also sets per-model prefixes and a
  backend timeout, so GCPBackendPolicies are emitted too).
* ``validate-<N>.yaml`` -- the full validated surface: three clusters behind a
  multi-cluster gateway, mixed GPU / TPU (the TPU slices its models fit: tensor parallelism
  is the slice's chips, which must divide the attention heads), per-model cluster
  placement, GCS Fuse weights with Workload Identity, DRANET, download Jobs, chat UIs,
  objectives, multi-cluster load balancing and multiplexing. Valid for ``gen validate``;
  ``gen render`` rejects it (multi-cluster and TPU are not rendered yet).

Usage::

    python bench/make_specs.py [--out DIR] [--sizes 10,100,1000,10000] [--routing body]

Default output directory: bench/.specs/ (ignored by git via bench/.gitignore).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from generator.capacity import model_capacity

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = Path(__file__).resolve().parent / ".specs"
SIZES = (10, 100, 1000, 10000)
ROUTINGS = ("body", "header", "path")

# Hugging Face repositories used as sources (org, repo); cycled.
HF_MODELS = [
    ("google", "gemma-2b-it"),
    ("google", "gemma-2-9b-it"),
    ("Qwen", "Qwen2.5-3B"),
    ("Qwen", "Qwen2.5-7B-Instruct"),
    ("meta-llama", "Llama-3.1-8B-Instruct"),
    ("mistralai", "Mistral-7B-Instruct-v0.3"),
    ("microsoft", "Phi-3-mini-4k-instruct"),
    ("deepseek-ai", "DeepSeek-R1-Distill-Qwen-7B"),
]
FAMILIES = ["gemma", "qwen", "llama", "mistral", "phi", "deepseek", "falcon", "granite"]
MAX_MODEL_NAME = 47  # KubeRay RayService name limit (and 63 minus the longest derived suffix)


def _catalog() -> dict[str, Any]:
    with open(ROOT / "generator" / "catalog" / "accelerators.yaml", encoding="utf-8") as fh:
        data: dict[str, Any] = yaml.safe_load(fh)
    return data


def _gpu_choices(cat: dict[str, Any]) -> list[tuple[str, int]]:
    """Every (GPU type, valid count) pair of the catalog, in a fixed order."""
    return [(t, c) for t, g in sorted(cat["gpus"].items()) for c in g["counts"]]


def _tpu_choices(cat: dict[str, Any]) -> list[tuple[str, str, int]]:
    """Every (TPU type, topology, hosts) of the catalog, small slices first."""
    out = [
        (t, topo["topology"], topo["hosts"])
        for t, tpu in sorted(cat["tpus"].items())
        for topo in tpu["topologies"]
    ]
    return sorted(out, key=lambda x: (x[2], x[0], x[1]))


def _name(i: int) -> str:
    name = f"{FAMILIES[i % len(FAMILIES)]}-m{i:05d}-it"
    assert len(name) <= MAX_MODEL_NAME, name
    return name


def _fits(m: dict[str, Any]) -> bool:
    """gen validate's capacity rule: the model fits one replica of its accelerators."""
    return all(c.result is None or c.result.fits for c in model_capacity(m, 0))


def _first_fit(i: int, choices: list[Any], build: Any) -> dict[str, Any]:
    """The model ``build`` makes from the first choice, cycling from ``i``, that fits."""
    for k in range(len(choices)):
        m: dict[str, Any] = build(choices[(i + k) % len(choices)])
        if _fits(m):
            return m
    raise ValueError(f"model {i}: no accelerator of the catalog fits it")


def _gpu_model(i: int, gpus: list[tuple[str, int]], routing: str) -> dict[str, Any]:
    return _first_fit(i, gpus, lambda choice: _gpu_model_on(i, *choice, routing))


def _gpu_model_on(i: int, gtype: str, count: int, routing: str) -> dict[str, Any]:
    org, repo = HF_MODELS[i % len(HF_MODELS)]
    # an InferencePool selects worker pods only: its models keep at least one replica
    lo = max(i % 4, 1 if routing == "inference-pool" else 0)
    m: dict[str, Any] = {
        "name": _name(i),
        "source": f"hf://{org}/{repo}",
        "accelerator": {"type": gtype, "count": count},
        "replicas": {"min": lo, "max": lo + (i % 3) + (1 if lo == 0 else 0)},
    }
    if i % 2:
        m["modelId"] = f"{org.lower()}/{repo}-{i}"
    if i % 3 == 0:
        m["engineArgs"] = {
            # within the context of the smallest-context model (Phi-3-mini-4k: 4096)
            "max_model_len": 512 * (1 + i % 8),
            "tensor_parallel_size": count,
            "gpu_memory_utilization": 0.9,
        }
    elif i % 3 == 1:
        m["engineArgs"] = {"max_model_len": 4096, "enable_prefix_caching": True}
    if i % 5 == 0:
        m["env"] = {"VLLM_LOGGING_LEVEL": "INFO", "SHARD": str(i % 7)}
    if i % 7 == 0:
        m["hfTokenSecret"] = None
    if i % 11 == 0:
        m["resources"] = {"head": {"cpu": 4, "memory": "16Gi", "ephemeralStorage": "32Gi"}}
    if routing == "path" and i % 2:
        m["path"] = f"/v1-{i}"
    return m


def render_spec(n: int, routing: str = "body") -> dict[str, Any]:
    gpus = _gpu_choices(_catalog())
    gateway: dict[str, Any] = {"class": "gke-l7-rilb", "routing": routing}
    if routing == "path":
        gateway["timeoutSec"] = 300
    return {
        "apiVersion": "gen.llm-fleet.dev/v1alpha1",
        "kind": "ModelFleet",
        "metadata": {"name": f"bench-{routing}-{n}", "namespace": "llm"},
        "defaults": {"hfTokenSecret": {"name": "hf-secret", "key": "hf_api_token"}},
        "gateway": gateway,
        "models": [_gpu_model(i, gpus, routing) for i in range(n)],
    }


CLUSTERS = [
    {"name": "gke-west", "region": "europe-west3", "role": "config"},
    {"name": "gke-east", "region": "us-east4"},
    {"name": "gke-central", "region": "us-central1", "mode": "autopilot"},
]


def _validate_model(i: int, gpus: list[tuple[str, int]], tpus: list[tuple[str, str, int]]) -> dict[str, Any]:
    kind = i % 6
    if kind in (0, 1, 2):  # GPU, Hugging Face weights
        m = _gpu_model(i, gpus, "inference-pool")
    else:  # TPU, weights in GCS via GCS Fuse + Workload Identity
        m = _first_fit(i, tpus, lambda choice: _tpu_model_on(i, kind, *choice))
    return _placed(i, m)


def _tpu_model_on(i: int, kind: int, ttype: str, topo: str, hosts: int) -> dict[str, Any]:
    org, repo = HF_MODELS[i % len(HF_MODELS)]
    bucket = f"weights-{i % 13:02d}"
    m = {
        "name": _name(i),
        "modelId": f"{org}/{repo}-tpu-{i}",
        "source": f"gs://{bucket}/{org}/{repo}",
        "accelerator": {"type": ttype, "topology": topo},
        # TPU serving needs a vLLM-TPU image and a Ray with accelerator_config
        "image": "us-east5-docker.pkg.dev/my-project/ray-repo/vllm-tpu-ray:vllm-tpu",
        "rayVersion": "3.0.0",
        "replicas": {"min": 1, "max": 1 + i % 4},
        "serviceAccount": {
            "name": f"ray-ksa-{i % 13}",
            "gcpServiceAccount": "tpu-reader@my-project.iam.gserviceaccount.com",
        },
        "storage": {"gcsFuse": {"bucket": bucket, "mountPath": "/data"}},
        "env": {"JAX_PLATFORMS": "tpu,cpu", "TPU_BACKEND_TYPE": "jax"},
        # tensor parallelism is derived from the slice's chips
        "engineArgs": {"max_model_len": 4096},
    }
    if hosts > 1 and i % 2:
        m["dranet"] = True
    if kind == 4:
        m["download"] = {"enabled": True, "from": f"hf://{org}/{repo}"}
        m["chatUI"] = {"enabled": True}
    if kind == 5 and i % 4 == 1:
        m["multiplexing"] = {
            "models": [
                {
                    "name": f"mux-{i}-a",
                    "id": f"/data/{org}/{repo}-{i}-a",
                    "source": f"gs://{bucket}/{org}/{repo}",
                    "priority": 10,
                },
                {
                    "name": f"mux-{i}-b",
                    "id": f"/data/{org}/{repo}-{i}-b",
                    "source": f"gs://{bucket}/{org}/{repo}-b",
                },
            ]
        }
        m.pop("modelId")
    return m


def _placed(i: int, m: dict[str, Any]) -> dict[str, Any]:
    placement = i % 4
    if placement == 1:
        m["clusters"] = ["gke-west", "gke-east"]
    elif placement == 2:
        m["clusters"] = ["gke-central"]
    if i % 8 == 0 and "multiplexing" not in m:
        m["objectives"] = [{"name": f"obj-{i}-hi", "priority": 10}, {"name": f"obj-{i}-lo"}]
    if i % 3 == 0:
        m["loadBalancing"] = (
            {"customMetric": {"maxUtilization": 60 + i % 30}, "timeoutSec": 120}
            if i % 2
            else {"inFlight": {"maxRequestsPerEndpoint": 8}, "trafficDuration": "LONG"}
        )
    return m


def validate_spec(n: int) -> dict[str, Any]:
    cat = _catalog()
    gpus, tpus = _gpu_choices(cat), _tpu_choices(cat)
    return {
        "apiVersion": "gen.llm-fleet.dev/v1alpha1",
        "kind": "ModelFleet",
        "metadata": {"name": f"bench-mc-{n}", "namespace": "llm", "project": "my-project"},
        "defaults": {"hfTokenSecret": {"name": "hf-token", "key": "token"}},
        "clusters": CLUSTERS,
        "gateway": {
            "name": "fleet-gateway",
            "class": "gke-l7-cross-regional-internal-managed-mc",
            "routing": "inference-pool",
        },
        "models": [_validate_model(i, gpus, tpus) for i in range(n)],
    }


def _dump(data: dict[str, Any]) -> str:
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return "# Generated by bench/make_specs.py; do not commit.\n" + yaml.dump(
        data, Dumper=dumper, sort_keys=False, width=1000
    )


def write_specs(
    out: Path, sizes: tuple[int, ...] = SIZES, routings: tuple[str, ...] = ("body",)
) -> dict[str, Path]:
    """Write every spec (only when its bytes changed); returns name -> path."""
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    jobs: list[tuple[str, Any]] = []
    for n in sizes:
        for routing in routings:
            key = f"render-{n}" if routing == "body" else f"render-{routing}-{n}"
            jobs.append((key, lambda n=n, r=routing: render_spec(n, r)))
        jobs.append((f"validate-{n}", lambda n=n: validate_spec(n)))
    for key, build in jobs:
        path = out / f"{key}.yaml"
        text = _dump(build())
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written[key] = path
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)), help="comma-separated model counts")
    ap.add_argument(
        "--routing", default="body", help=f"comma-separated routings for render specs ({', '.join(ROUTINGS)})"
    )
    args = ap.parse_args(argv)
    sizes = tuple(int(s) for s in args.sizes.split(","))
    routings = tuple(args.routing.split(","))
    bad = [r for r in routings if r not in ROUTINGS]
    if bad:
        ap.error(f"unknown routing {bad[0]!r}")
    for key, path in write_specs(args.out, sizes, routings).items():
        print(f"{key}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
