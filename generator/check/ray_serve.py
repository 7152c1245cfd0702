"""Validate a RayService ``spec.serveConfigV2`` with Ray's own models, offline.

Needs the ``ray`` extra (``ray[serve]==2.60.*``, ``pyarrow``, ``boto3``) but no vLLM and
no GPU (``import ray.serve.llm`` needs vLLM or SGLang; the config models below do not).
Ray 2.60's Serve schemas and ``LLMConfig`` are pydantic v2 models, and ``LLMConfig`` knows
``accelerator_config`` (``{kind: tpu, topology: ...}``), so TPU slices are validated by Ray
like every other config. Nothing here touches the network: Ray only reads Hugging Face configs when a
replica starts (``LLMConfig.apply_checkpoint_info``), never while validating.
"""

from __future__ import annotations

import functools
import importlib.util
import inspect
import json
import logging
from collections.abc import Container
from types import SimpleNamespace
from typing import Any

from generator.check import ray_prefetch
from generator.diagnostics import format_path
from generator.objects import LLM_BUILDERS, load_serve_config

# What the ray extra must provide; ray.llm imports pyarrow and boto3 at module level.
_REQUIRED = ("ray", "pyarrow", "boto3", "yaml")
# the import paths of Ray Serve LLM's OpenAI app builder (operational.py reads them too)
# LLMServingArgs fields (ray/llm/_internal/serve/core/ingress/builder.py): that module
# imports vLLM, so its checks are repeated here instead of importing it.
_SERVING_ARGS = {"llm_configs", "ingress_cls_config", "ingress_deployment_config"}

_Where = tuple[str | int, ...]  # a path inside the serve config


class RayNotInstalled(ImportError):
    """Ray Serve (with pyarrow and boto3) is not importable; nothing was validated."""


def ray_available() -> bool:
    """True when the ray extra is installed; does not import it (that takes ~1 s)."""
    return all(importlib.util.find_spec(name) is not None for name in _REQUIRED)


def ray_models_built() -> bool:
    """Whether this process has imported Ray's models already."""
    return _ray_models.cache_info().currsize > 0


def ray_version() -> str:
    """The version of the Ray whose models validate serve configs (imports nothing heavy)."""
    from importlib.metadata import version

    return version("ray")


# Identity strings abstracted from a serve config's shape: any string is valid there
# (ModelLoadingConfig.model_id: str, model_source: str | CloudMirrorConfig), so two
# configs that differ only in them have the same problems.
_IDENTITY_KEYS = ("model_id", "model_source")
_SHAPE_TOKEN = "gen-serve-shape-{}-7f3a"


def _shape(config: dict[str, Any]) -> tuple[str, dict[str, str]] | None:
    """(canonical JSON of the config with its model ids/sources replaced by placeholders
    that keep which are equal, placeholder -> original); None when not JSON-like."""
    tokens: dict[str, str] = {}
    originals: dict[str, str] = {}
    try:
        apps = config.get("applications")
        if isinstance(apps, list):
            swapped = []
            for app in apps:
                args = app.get("args") if isinstance(app, dict) else None
                llms = args.get("llm_configs") if isinstance(args, dict) else None
                if not isinstance(args, dict) or not isinstance(llms, list):
                    swapped.append(app)
                    continue
                new_llms = []
                for llm in llms:
                    mlc = llm.get("model_loading_config") if isinstance(llm, dict) else None
                    if isinstance(mlc, dict):
                        mlc = dict(mlc)
                        for key in _IDENTITY_KEYS:
                            value = mlc.get(key)
                            if isinstance(value, str):
                                if value not in tokens:
                                    tokens[value] = _SHAPE_TOKEN.format(len(tokens))
                                    originals[tokens[value]] = value
                                mlc[key] = tokens[value]
                        llm = {**llm, "model_loading_config": mlc}
                    new_llms.append(llm)
                swapped.append({**app, "args": {**args, "llm_configs": new_llms}})
            config = {**config, "applications": swapped}
        if not _plain(config):
            return None
        return json.dumps(config, separators=(",", ":")), originals
    except (TypeError, ValueError):  # values JSON cannot hold: no shape
        return None


def _plain(value: Any) -> bool:
    """Only JSON types with string keys (YAML may have int keys or dates, which JSON
    would turn into other values)."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return value is None or isinstance(value, (str, int, float))


_SHAPES: dict[str, list[str]] = {}  # canonical shape -> its problems (with placeholders)


def validate_serve_config(text: str) -> list[str]:
    """Problems in a serveConfigV2 string, each ``path: message``; empty when valid.

    Configs of the same shape (equal but for their model ids and sources, as a fleet's
    models mostly are) are validated by Ray once per process: pydantic's validation of
    a deployment config (a cloudpickle of its request router) costs ~10 ms. A shape whose
    problems mention a model id or source is validated again with the real strings, so
    every message is what validating this config alone would say."""
    found = ray_prefetch.problems(text)  # validated by the second process (ray_prefetch.py)
    if found is not None:
        return found
    ray = _import_ray()
    import yaml

    try:
        config = load_serve_config(text)
    except yaml.YAMLError as e:
        return [f"(root): not valid YAML: {e}"]
    if not isinstance(config, dict):
        return [f"(root): expected a mapping, got {type(config).__name__}"]
    shape = _shape(config)
    if shape is None:
        return _validate_config(ray, config)
    key, originals = shape
    problems = _SHAPES.get(key)
    if problems is None:
        problems = _validate_config(ray, json.loads(key))  # the placeholders' config
        if len(_SHAPES) >= 256:  # a bounded memo: shapes are few, a pathological input is not
            _SHAPES.clear()
        _SHAPES[key] = problems
    if any(token in p for p in problems for token in originals):
        return _validate_config(ray, config)
    return list(problems)


def _validate_config(ray: SimpleNamespace, config: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    report = _Reporter(problems)
    # Ray Serve's schemas ignore unknown keys (forward compatibility), so a typo there
    # would be dropped silently on the cluster: flag it.
    report.unknown(config, ray.fields(ray.ServeDeploySchema), ())
    try:
        ray.ServeDeploySchema.model_validate(config)
    except Exception as e:  # pydantic ValidationError
        report.errors(e, ())

    apps = config.get("applications")
    for i, app in enumerate(apps if isinstance(apps, list) else []):
        if not isinstance(app, dict):
            continue
        where = ("applications", i)
        report.unknown(app, ray.fields(ray.ServeApplicationSchema), where)
        for j, dep in enumerate(app.get("deployments") or []):
            if not isinstance(dep, dict):
                continue
            report.unknown(dep, ray.deployment_fields, (*where, "deployments", j))
            auto = dep.get("autoscaling_config")
            if isinstance(auto, dict):  # a plain dict in DeploymentSchema: checked on deploy
                at = (*where, "deployments", j, "autoscaling_config")
                report.unknown(auto, ray.fields(ray.AutoscalingConfig), at)
                try:
                    ray.AutoscalingConfig.model_validate(auto)
                except Exception as e:
                    report.errors(e, at)
        if app.get("import_path") in LLM_BUILDERS and isinstance(app.get("args"), dict):
            _check_llm_args(ray, app["args"], (*where, "args"), report)
    return problems


def _check_llm_args(ray: SimpleNamespace, args: dict[str, Any], where: _Where, report: _Reporter) -> None:
    report.unknown(args, _SERVING_ARGS, where)
    ingress = args.get("ingress_deployment_config")
    if isinstance(ingress, dict):
        # Passed straight to serve.deployment(**options) when the app is built.
        at = (*where, "ingress_deployment_config")
        report.deployment_options(ray, ingress, ray.deployment_options, at)
        try:
            ray.DeploymentConfig(**ingress)
        except Exception as e:
            report.errors(e, at)

    configs = args.get("llm_configs")
    if not isinstance(configs, list) or not configs:
        report.add((*where, "llm_configs"), "must be a non-empty list of LLM configs")
        return
    seen: dict[str, int] = {}
    for k, raw in enumerate(configs):
        at = (*where, "llm_configs", k)
        if isinstance(raw, str):
            continue  # a YAML file path on the cluster: cannot be read from here
        if not isinstance(raw, dict):
            report.add(at, f"expected a mapping, got {type(raw).__name__}")
            continue
        cfg = dict(raw)
        if isinstance(cfg.get("server_cls"), str):
            cfg["server_cls"] = None  # Ray imports this class while validating; don't
        for key in sorted(raw.keys() & (ray.deployment_options - set(ray.LLMConfig.model_fields))):
            del cfg[key]
            report.add(
                (*at, key), "unknown field; it is a Serve deployment option: put it under deployment_config"
            )
        if _valid_deployment_config(ray, cfg.get("deployment_config")):
            # LLMConfig's only reader of deployment_config is its own field validator
            # (Serve's DeploymentConfig, ~10 ms: a cloudpickle of the request router),
            # whose verdict on this value is known: the other fields are validated alone
            del cfg["deployment_config"]
        try:
            ray.LLMConfig.model_validate(cfg)
        except Exception as e:
            report.errors(e, at)
        dc = raw.get("deployment_config")
        if isinstance(dc, dict):
            # LLMServer.get_deployment_options computes the placement group itself.
            allowed = ray.deployment_options - {"placement_group_bundles", "placement_group_strategy"}
            report.deployment_options(ray, dc, allowed, (*at, "deployment_config"))
        _check_engine_kwargs(raw, at, report)
        _check_placement(raw, at, report)
        mlc = raw.get("model_loading_config")
        model_id = mlc.get("model_id") if isinstance(mlc, dict) else None
        if isinstance(model_id, str):
            if model_id in seen:
                report.add(
                    (*at, "model_loading_config", "model_id"),
                    f"duplicate model id {model_id!r} (also llm_configs[{seen[model_id]}])",
                )
            seen.setdefault(model_id, k)


_VALID_DEPLOYMENT_CONFIGS: set[str] = set()


def _valid_deployment_config(ray: SimpleNamespace, value: Any) -> bool:
    """True when LLMConfig's deployment_config validator accepts ``value`` (a dict of
    JSON values; memoized per process by its canonical JSON)."""
    if not isinstance(value, dict) or not _plain(value):
        return False
    key = json.dumps(value, sort_keys=True)
    if key in _VALID_DEPLOYMENT_CONFIGS:
        return True
    try:
        ray.LLMConfig.validate_deployment_config(dict(value))
    except Exception:
        return False  # validated with the config: its errors are reported from there
    if len(_VALID_DEPLOYMENT_CONFIGS) < 4096:
        _VALID_DEPLOYMENT_CONFIGS.add(key)
    return True


def _check_engine_kwargs(raw: dict[str, Any], at: _Where, report: _Reporter) -> None:
    kwargs = raw.get("engine_kwargs", {})
    if not isinstance(kwargs, dict):
        return  # LLMConfig already reported it
    # VLLMEngineConfig.get_initialization_kwargs rejects these at replica start.
    for key in ("model", "served_model_name"):
        if key in kwargs:
            report.add(
                (*at, "engine_kwargs", key), "not allowed by Ray Serve LLM; set model_loading_config instead"
            )
    # vLLM loads no adapter unless LoRA is enabled (Ray's own config generator sets it).
    if raw.get("lora_config") and kwargs.get("enable_lora") is not True:
        report.add((*at, "engine_kwargs", "enable_lora"), "must be true when lora_config is set")


def _check_placement(raw: dict[str, Any], at: _Where, report: _Reporter) -> None:
    # Ray's PlacementGroupConfig lives in a vLLM-importing module; repeat its rules.
    pg = raw.get("placement_group_config")
    if pg is None:
        return
    where = (*at, "placement_group_config")
    if not isinstance(pg, dict) or not isinstance(pg.get("bundles"), list):
        report.add(where, "must be a mapping with a 'bundles' list")
        return
    report.unknown(pg, {"bundles", "strategy"}, where)
    if pg.get("strategy", "PACK") not in ("PACK", "SPREAD", "STRICT_PACK", "STRICT_SPREAD"):
        report.add((*where, "strategy"), "must be one of PACK, SPREAD, STRICT_PACK, STRICT_SPREAD")
    accel = str(raw.get("accelerator_type") or "")
    for b, bundle in enumerate(pg["bundles"]):
        if not isinstance(bundle, dict) or not all(
            isinstance(v, (int, float)) and v >= 0 for v in bundle.values()
        ):
            report.add((*where, "bundles", b), "must map resource names to non-negative numbers")
        elif "GPU" not in bundle and (accel.startswith("TPU") or "TPU" in bundle):
            # BundleConfig.GPU defaults to 1.0, so a TPU bundle would also ask for a GPU.
            report.add((*where, "bundles", b), "no GPU key: Ray defaults GPU to 1; set GPU: 0")


def _field_names(model: Any) -> set[str]:
    """A pydantic v2 model's field names and their aliases (what YAML may spell)."""
    return {n for name, f in model.model_fields.items() for n in (name, f.alias) if n}


class _Reporter:
    def __init__(self, problems: list[str]):
        self.problems = problems

    def add(self, where: _Where, message: str) -> None:
        self.problems.append(f"{format_path(where) or '(root)'}: {message}")

    def unknown(self, mapping: dict[Any, Any], allowed: Container[str], where: _Where) -> None:
        for key in mapping:
            if key not in allowed:
                self.add((*where, str(key)), "unknown field")

    def deployment_options(
        self, ray: SimpleNamespace, options: dict[Any, Any], allowed: Container[str], where: _Where
    ) -> None:
        # serve.deployment() raises TypeError on any other keyword, and ValueError on
        # num_replicas together with autoscaling_config (ray/serve/api.py).
        self.unknown(options, allowed, where)
        auto = options.get("autoscaling_config")
        if isinstance(auto, dict):
            self.unknown(auto, ray.fields(ray.AutoscalingConfig), (*where, "autoscaling_config"))
        if auto is not None and options.get("num_replicas") not in (None, "auto"):
            self.add((*where, "num_replicas"), "cannot be set together with autoscaling_config")

    def errors(self, exc: Exception, where: _Where) -> None:
        """Flatten a pydantic error, unwrapping Ray's 'Invalid ...' wrappers."""
        if not hasattr(exc, "errors"):
            self.add(where, str(exc))
            return
        errs = exc.errors()
        if any(e["loc"] != ("__root__",) for e in errs):
            # pydantic v1 runs root validators after a field failed; Ray's then trip
            # over the missing field (TypeError) and only add noise.
            errs = [e for e in errs if not (e["loc"] == ("__root__",) and e["type"] == "type_error")]
        for err in errs:
            loc = (*where, *(p for p in err["loc"] if p != "__root__"))
            cause = getattr((err.get("ctx") or {}).get("error"), "__cause__", None)
            if cause is not None and hasattr(cause, "errors"):
                self.errors(cause, loc)
                continue
            msg = err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
            if err.get("type") == "extra_forbidden":
                msg = "unknown field"
            if err.get("type", "").endswith(("_type", "_parsing")) and "input" in err:
                msg += f" (got {type(err['input']).__name__})"
            self.add(loc, msg)


def _import_ray() -> SimpleNamespace:
    missing = [name for name in _REQUIRED if importlib.util.find_spec(name) is None]
    if missing:
        raise RayNotInstalled(f"missing {', '.join(missing)}; install the 'ray' extra")
    return _ray_models()


@functools.lru_cache(maxsize=1)  # built once per process (field sets, signatures); errors are not cached
def _ray_models() -> SimpleNamespace:
    # try_import() logs "Could not import torch/transformers"; neither is needed here.
    logging.getLogger("ray.llm._internal.common.utils.import_utils").setLevel(logging.ERROR)
    try:
        from ray import serve

        # ray.serve.llm.LLMConfig is a bare subclass of this one, but importing
        # ray.serve.llm pulls in vLLM (via the OpenAI ingress).
        from ray.llm._internal.serve.core.configs.llm_config import LLMConfig
        from ray.serve._private.config import DeploymentConfig
        from ray.serve.config import AutoscalingConfig
        from ray.serve.schema import DeploymentSchema, ServeApplicationSchema, ServeDeploySchema
    except ImportError as e:
        raise RayNotInstalled(f"{e}; install the 'ray' extra (ray[serve]==2.60.*)") from e
    return SimpleNamespace(
        ServeDeploySchema=ServeDeploySchema,
        ServeApplicationSchema=ServeApplicationSchema,
        AutoscalingConfig=AutoscalingConfig,
        DeploymentConfig=DeploymentConfig,
        LLMConfig=LLMConfig,
        fields=_field_names,
        deployment_fields=_field_names(DeploymentSchema),
        deployment_options=set(inspect.signature(serve.deployment).parameters) - {"_func_or_class"},
    )
