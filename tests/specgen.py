"""Hypothesis strategies that draw ModelFleet specs from schemas/models.schema.json.

``schema_value(node)`` walks any node of the spec's JSON Schema ($ref, const, enum, type,
pattern, min/max, required and optional properties, additionalProperties): every field
the schema has can be drawn, and a field added to the schema is drawn without a change
here (``tests/test_contract.py`` checks that the draws cover every schema path).

``fleets()`` draws whole specs. Most draws are *coherent*: the parts the semantic rules
tie together (clusters and their regions, gateway class and routing, accelerator type
and count/topology, gs:// sources and their GCS Fuse bucket and service account, unique
names and ids, TPU images, ...) are drawn consistent with each other, so that most specs
are accepted and reach the renderer. The rest are raw schema draws (and coherent draws
with one subtree redrawn raw), which mostly exercise the rejection path.
"""

from __future__ import annotations

import json
import os
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from generator import catalog
from generator.bundled import spec_schema_path

# Hypothesis keeps caches (and, where enabled, its example database) in .hypothesis/ of the
# working directory; the runs here use no database and keep even the caches out of the
# repository.
if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "gen-hypothesis")

# Integers the spec leaves unbounded are drawn up to this value, floats in engineArgs between
# 1e-4 and 1e6 and never -0.0. Helm formats numbers of values files through float64 (1e+06,
# 2^53 + 1 -> 2^53, -0.0 -> 0): see test_contract.NUMBER_CASES; until the charts carry numbers
# exactly, the property test stays inside these bounds unless GEN_FUZZ_NUMBERS=1
# (make fuzz NUMBERS=1) asks for the whole range.
SAFE_INT_MAX = 999_999
WIDE_NUMBERS = os.environ.get("GEN_FUZZ_NUMBERS") == "1"
INT_MAX = 2**63 - 1 if WIDE_NUMBERS else SAFE_INT_MAX
MAX_MODELS = int(os.environ.get("GEN_FUZZ_MAX_MODELS", "6"))

# Characters for free text: printable, across scripts (no surrogates, no C0/C1 controls,
# which the loader refuses on purpose: tests/hostile covers those).
TEXT = st.characters(
    codec="utf-8",
    exclude_categories=("Cs", "Cc", "Co", "Cn", "Zl", "Zp"),
)


@cache
def schema() -> dict[str, Any]:
    with open(spec_schema_path(), encoding="utf-8") as fh:
        loaded: dict[str, Any] = json.load(fh)
    return loaded


def resolve(node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = schema()
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def at(*path: str) -> dict[str, Any]:
    """The resolved schema node at a property path, e.g. at("models", "replicas")."""
    node = resolve(schema())
    for part in path:
        node = resolve(node["items"] if part == "[]" else node["properties"][part])
    return node  # type: ignore[no-any-return]


# --- names ------------------------------------------------------------------------------

_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"


@st.composite
def dns_label(draw: st.DrawFn, max_len: int = 63, letter_first: bool = False) -> str:
    """A DNS-1123 label; lengths favour short names and the limits (1, 47, 63)."""
    size = draw(
        st.one_of(
            st.integers(1, min(12, max_len)),
            st.sampled_from(sorted({n for n in (1, 2, 41, 47, 48, 52, 55, 63) if n <= max_len})),
            st.integers(1, max_len),
        )
    )
    first = draw(st.sampled_from("abcdefghijklmnopqrstuvwxyz" if letter_first else _ALNUM))
    if size == 1:
        return first
    middle = draw(st.text(_ALNUM + "-", min_size=size - 2, max_size=size - 2))
    return first + middle + draw(st.sampled_from(_ALNUM))


def _bounded(strategy: st.SearchStrategy[str], node: dict[str, Any]) -> st.SearchStrategy[str]:
    lo, hi = node.get("minLength", 0), node.get("maxLength")
    return strategy.filter(lambda s: len(s) >= lo and (hi is None or len(s) <= hi))


def string_value(node: dict[str, Any]) -> st.SearchStrategy[str]:
    pattern = node.get("pattern")
    if pattern == resolve({"$ref": "#/$defs/dnsLabel"})["pattern"]:
        return dns_label()
    if pattern == resolve({"$ref": "#/$defs/dns1035Label"})["pattern"]:
        return dns_label(letter_first=True)
    if pattern:
        return _bounded(st.from_regex(pattern, fullmatch=True, alphabet=TEXT), node)
    return st.text(TEXT, min_size=node.get("minLength", 0), max_size=min(node.get("maxLength", 40), 40))


# --- the generic walker -----------------------------------------------------------------


def json_scalars() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.booleans(),
        st.integers(-INT_MAX, INT_MAX),
        st.floats(allow_nan=False, allow_infinity=False, allow_subnormal=False, width=32).filter(
            lambda f: WIDE_NUMBERS or str(f) == "0.0" or 1e-4 <= abs(f) < 1e6
        ),
        st.text(TEXT, max_size=20),
    )


@cache
def json_values() -> st.SearchStrategy[Any]:
    return st.recursive(
        json_scalars(),
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.dictionaries(st.text(TEXT, min_size=1, max_size=12), inner, max_size=3),
        ),
        max_leaves=6,
    )


_STRATEGIES: dict[str, st.SearchStrategy[Any]] = {}


def schema_value(node: Any) -> st.SearchStrategy[Any]:
    """Any value the schema node accepts (plus free JSON where it allows anything)."""
    key = json.dumps(node, sort_keys=True)
    if key not in _STRATEGIES:
        _STRATEGIES[key] = _schema_value(node)
    return _STRATEGIES[key]


def _schema_value(node: Any) -> st.SearchStrategy[Any]:
    node = resolve(node)
    if "const" in node:
        return st.just(node["const"])
    if "enum" in node:
        return st.sampled_from(node["enum"])
    types = node.get("type")
    if isinstance(types, list):
        return st.one_of(*(schema_value({**node, "type": t}) for t in types))
    if types == "object" or "properties" in node:
        return object_value(node)
    if types == "array":
        return st.lists(
            schema_value(node["items"]),
            min_size=node.get("minItems", 0),
            max_size=max(node.get("minItems", 0), 3),
            unique=bool(node.get("uniqueItems")),
        )
    if types == "string":
        return string_value(node)
    if types == "integer":
        lo, hi = node.get("minimum", -INT_MAX), node.get("maximum", INT_MAX)
        edges = sorted({lo, hi, min(lo + 1, hi), max(hi - 1, lo)})
        return st.one_of(st.integers(lo, hi), st.sampled_from(edges))
    if types == "boolean":
        return st.booleans()
    if types == "null":
        return st.none()
    return json_values()


@st.composite
def object_value(draw: st.DrawFn, node: dict[str, Any]) -> dict[str, Any]:
    props = node.get("properties", {})
    required = set(node.get("required", []))
    out: dict[str, Any] = {}
    for key, sub in props.items():
        if key in required or draw(st.booleans()):
            out[key] = draw(schema_value(sub))
    extra = node.get("additionalProperties", True)
    if not props and extra is not False:
        names = node.get("propertyNames", {}).get("pattern")
        key_strategy = (
            st.from_regex(names, fullmatch=True).filter(lambda k: len(k) <= 40)
            if names
            else st.text(TEXT, min_size=1, max_size=20)
        )
        values = json_values() if extra is True else schema_value(extra)
        out.update(draw(st.dictionaries(key_strategy, values, max_size=4)))
    return out


# --- coherent fleets ---------------------------------------------------------------------

HF_KNOWN = ["google/gemma-2b-it", "Qwen/Qwen2.5-3B-Instruct", "meta-llama/Llama-3.1-8B-Instruct"]
REGIONS = ["us-central1", "us-east4", "europe-west3", "asia-southeast1"]
# engineArgs keys gen and the capacity check read; drawn separately so the layout stays valid
_LAYOUT_KEYS = {"tensor_parallel_size", "pipeline_parallel_size", "max_model_len", "quantization", "dtype"}


def _accelerators() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for kind, gpu in catalog.gpus().items():
        out += [{"type": kind, "count": c} for c in gpu["counts"]]
        if 1 in gpu["counts"]:
            out.append({"type": kind})
    for kind, tpu in catalog.tpus().items():
        out += [{"type": kind, "topology": t["topology"]} for t in tpu["topologies"]]
    return out


@st.composite
def engine_args(draw: st.DrawFn, accelerator: dict[str, Any]) -> dict[str, Any]:
    args: dict[str, Any] = draw(
        st.dictionaries(
            st.one_of(
                st.sampled_from(["max_num_seqs", "enable_prefix_caching", "speculative_config", "seed"]),
                st.from_regex(r"[a-z][a-z0-9_]{0,30}", fullmatch=True),
            ).filter(lambda k: k not in _LAYOUT_KEYS),
            json_values(),
            max_size=4,
        )
    )
    if draw(st.booleans()):
        args["max_model_len"] = draw(st.sampled_from([1024, 2048, 4096]))
    if accelerator["type"] in catalog.gpus() and draw(st.booleans()):
        args["tensor_parallel_size"] = accelerator.get("count", 1)
    return args


@st.composite
def model(draw: st.DrawFn, ctx: dict[str, Any], i: int) -> dict[str, Any]:
    m: dict[str, Any] = draw(schema_value(at("models", "[]")))  # every optional field, raw
    name = draw(
        dns_label(max_len=draw(st.sampled_from([12, 40, 47])), letter_first=draw(st.integers(0, 9)) > 0)
    )
    while name in ctx["names"]:
        name = f"m{i}-{name}"[:40].rstrip("-")
    ctx["names"].add(name)
    m["name"] = name
    kind = draw(st.sampled_from(sorted({a["type"] for a in _accelerators()})))
    acc = draw(st.sampled_from([a for a in _accelerators() if a["type"] == kind]))
    m["accelerator"] = dict(acc)
    tpu = acc["type"] in catalog.tpus()
    # sources: unknown HF repos (capacity unchecked), known ones on big chips, or GCS
    where = draw(st.sampled_from(["hf", "hf", "known", "gs"]))
    m.pop("storage", None)
    m.pop("download", None)
    if where == "gs":
        bucket = draw(schema_value(at("models", "[]", "storage", "gcsFuse", "bucket")))
        fuse = draw(schema_value(at("models", "[]", "storage", "gcsFuse")))
        fuse["bucket"] = bucket
        m["storage"] = {"gcsFuse": fuse}
        m["serviceAccount"] = draw(schema_value(at("models", "[]", "serviceAccount")))
        sub = draw(st.sampled_from(["", "/", "/weights", "/org/model-1"]))
        m["source"] = f"gs://{bucket}{sub}"
        if draw(st.booleans()):
            m["download"] = draw(schema_value(at("models", "[]", "download")))
            m["download"]["from"] = f"hf://{draw(st.sampled_from(HF_KNOWN))}"
    elif where == "known" and not tpu and acc.get("count", 1) >= 2:
        m["source"] = f"hf://{draw(st.sampled_from(HF_KNOWN))}"
    else:
        m["source"] = draw(
            string_value({"pattern": r"^hf://[A-Za-z0-9][A-Za-z0-9._-]{0,20}/[A-Za-z0-9._-]{1,30}$"})
        )
    if where in ("known", "gs"):
        m.pop("modelFacts", None)
    elif "modelFacts" in m and draw(st.integers(0, 3)):
        m.pop("modelFacts")
    m["engineArgs"] = draw(engine_args(acc)) if draw(st.booleans()) else {}
    if not m["engineArgs"]:
        m.pop("engineArgs")
    if tpu:
        m["image"] = draw(schema_value(at("models", "[]", "image")))
    else:
        m.pop("dranet", None)
    if "rayVersion" in m and "image" not in m:
        m["rayVersion"] = draw(st.sampled_from(sorted(catalog.releases()["ray"]["images"])))
    r = m.get("replicas", {})
    lo = r.get("min", 1)
    hi = r.get("max", 1)
    if ctx["routing"] == "inference-pool":
        lo = max(lo, 1)
    if lo > hi:
        lo, hi = hi, lo
        lo = max(lo, 1 if ctx["routing"] == "inference-pool" else 0)
    m["replicas"] = {"min": lo, "max": max(hi, 1, lo)}
    if ctx["routing"] != "path":
        m.pop("path", None)
    elif "path" in m:
        if m["path"] in ctx["paths"] or m["path"] in ("", "/"):
            m["path"] = f"/{name}"
        if m["path"] in ctx["paths"]:
            m.pop("path")
    ctx["paths"].add(m.get("path", "/" + name))
    if "clusters" in m:
        m["clusters"] = draw(st.lists(st.sampled_from(ctx["clusters"]), min_size=1, unique=True))
    for key in ("objectives",):
        for o in m.get(key, []):
            while o["name"] in ctx["objectives"]:
                o["name"] = f"o{len(ctx['objectives'])}-{o['name']}"[:63].rstrip("-")
            ctx["objectives"].add(o["name"])
    mux = m.get("multiplexing")
    if mux:
        if m["source"].startswith("gs://"):
            for e in mux["models"]:
                e["source"] = m["source"]
        else:
            for e in mux["models"]:
                if e["source"].startswith("gs://"):
                    e["source"] = m["source"]
        for e in mux["models"]:
            while e["name"] in ctx["objectives"]:
                e["name"] = f"x{len(ctx['objectives'])}-{e['name']}"[:63].rstrip("-")
            ctx["objectives"].add(e["name"])
            if "modelFacts" in e and draw(st.integers(0, 3)):
                e.pop("modelFacts")
        m.pop("modelId", None)
    ids = [e["id"] for e in mux["models"]] if mux else [m.get("modelId", name)]
    if any(x in ctx["ids"] for x in ids) or len(set(ids)) != len(ids):
        if mux:
            for j, e in enumerate(mux["models"]):
                e["id"] = f"{name}/{j}"
        else:
            m["modelId"] = f"{name}/id"
        ids = [e["id"] for e in mux["models"]] if mux else [m["modelId"]]
    ctx["ids"].update(ids)
    lb = m.get("loadBalancing")
    if lb and "customMetric" in lb and "inFlight" in lb:
        lb.pop(draw(st.sampled_from(["customMetric", "inFlight"])))
    reserved = set(catalog.accelerators()["hfTokenEnv"].values()) | {
        "RAY_SERVE_THROUGHPUT_OPTIMIZED",
        "RAY_SERVE_ENABLE_HA_PROXY",
    }
    for key in reserved & set(m.get("env", {})):
        m["env"].pop(key)
    if m.get("storage") is None:
        m.pop("storage", None)
    return m


@st.composite
def coherent_fleet(draw: st.DrawFn) -> dict[str, Any]:
    spec: dict[str, Any] = {"apiVersion": "gen.llm-fleet.dev/v1alpha1", "kind": "ModelFleet"}
    meta = draw(schema_value(at("metadata")))
    meta["name"] = draw(dns_label(max_len=draw(st.sampled_from([12, 40, 55]))))
    if meta.get("namespace", "default").startswith("kube-") or meta.get("namespace") in (
        "gmp-system",
        "gke-managed-system",
        "gke-gmp-system",
    ):
        meta["namespace"] = "serving"
    spec["metadata"] = meta
    if draw(st.booleans()):
        defaults = draw(schema_value(at("defaults")))
        if "rayVersion" in defaults and "image" not in defaults:
            defaults["rayVersion"] = draw(st.sampled_from(sorted(catalog.releases()["ray"]["images"])))
        spec["defaults"] = defaults

    n_clusters = draw(st.sampled_from([1, 1, 1, 2, 3, 4]))
    classes = catalog.gateway_classes()
    multi = n_clusters > 1
    gw: dict[str, Any] = draw(schema_value(at("gateway")))
    gw["class"] = draw(st.sampled_from(sorted(c for c, v in classes.items() if v["multiCluster"] == multi)))
    if multi:
        gw["routing"] = "inference-pool"
    routing = gw.get("routing", "body")
    if routing != "inference-pool":
        gw.pop("metricsReader", None)
    clusters: list[dict[str, Any]] = []
    if n_clusters > 1 or draw(st.booleans()):
        names: list[str] = []
        while len(names) < n_clusters:
            name = draw(dns_label(max_len=20))
            if name not in names:
                names.append(name)
        for j, name in enumerate(names):
            c = draw(schema_value(at("clusters", "[]")))
            c["name"] = name
            c["role"] = "config" if multi and j == 0 else "workload"
            if multi:
                c["region"] = draw(st.sampled_from(REGIONS))
            clusters.append(c)
        spec["clusters"] = clusters
    cluster_names = [c["name"] for c in clusters] or ["default"]
    if multi and "addresses" in gw:
        regions = sorted({c["region"] for c in clusters})
        gw["addresses"] = [
            {"region": r, **({"address": draw(dns_label(max_len=40))} if draw(st.booleans()) else {})}
            for r in regions
        ]
    else:
        gw.pop("addresses", None)
    spec["gateway"] = gw

    ctx: dict[str, Any] = {
        "routing": routing,
        "clusters": cluster_names,
        "names": set(),
        "ids": set(),
        "paths": set(),
        "objectives": set(),
    }
    n_models = draw(st.integers(1, MAX_MODELS))
    spec["models"] = [draw(model(ctx, i)) for i in range(n_models)]
    # LoRA adapters are requested as `<model id>:<adapter>`: only a route that takes every
    # request to the model (path routing, or a pool with this model alone) reaches them
    exact = routing in ("body", "header") or (routing == "inference-pool" and n_models > 1)
    wants_lora = any("lora" in m and not m.get("multiplexing") for m in spec["models"])
    if exact and wants_lora and routing in ("body", "header"):
        gw["routing"], exact = "path", False  # body/header -> path: nothing else depends on it
    for m in spec["models"]:
        if exact or m.get("multiplexing"):
            m.pop("lora", None)

    if draw(st.integers(0, 3)):
        sec = draw(schema_value(at("security")))
        npol = sec.get("networkPolicy")
        if npol is not None:
            cls = classes[gw["class"]]
            if (cls["regional"] or cls["internal"]) and not npol.get("loadBalancerCIDRs"):
                npol["loadBalancerCIDRs"] = [draw(st.sampled_from(["10.129.0.0/23", "192.168.0.0/24"]))]
        spec["security"] = sec
    return spec


@st.composite
def fleets(draw: st.DrawFn) -> dict[str, Any]:
    """Mostly coherent fleets; some raw schema draws and some with one part redrawn raw."""
    how = draw(st.sampled_from(["coherent"] * 8 + ["raw", "mutated"]))
    if how == "raw":
        return draw(schema_value(schema()))  # type: ignore[no-any-return]
    spec = draw(coherent_fleet())
    if how == "mutated":
        key = draw(st.sampled_from(["metadata", "defaults", "clusters", "gateway", "security", "models"]))
        spec[key] = draw(schema_value(schema()["properties"][key]))
    return spec
