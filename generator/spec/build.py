"""The typed spec (model.py) built from a spec's defaulted data.

Hand-written rather than a generic walker over ``dataclasses.fields``: a fleet of 10,000
models builds ~200,000 objects, and the walker costs several times more. A malformed model
raises KeyError/TypeError/AttributeError as its raw reads would: the spec rules that build
models run guarded when the schema already reported the problem.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .model import (
    INHERIT,
    Accelerator,
    ChatUI,
    Cluster,
    CustomMetric,
    Defaults,
    Download,
    Fleet,
    Gateway,
    GatewayAddress,
    GatewayHealthCheck,
    GcsFuse,
    InFlight,
    LoadBalancing,
    Lora,
    Metadata,
    Model,
    ModelFacts,
    ModelHealthCheck,
    ModelResources,
    MultiplexedModel,
    Multiplexing,
    NetworkPolicy,
    Objective,
    Replicas,
    Resources,
    RuntimeEnv,
    SecretRef,
    Security,
    ServiceAccount,
    Storage,
    Tls,
)
from .schema import apply_defaults


def _secret(d: Mapping[str, Any] | None) -> SecretRef | None:
    return None if d is None else SecretRef(name=d["name"], key=d["key"], key_order=tuple(d))


def _resources(d: Mapping[str, Any] | None) -> Resources | None:
    if d is None:
        return None
    return Resources(cpu=d.get("cpu"), memory=d.get("memory"), ephemeral_storage=d.get("ephemeralStorage"))


def _facts(d: Mapping[str, Any] | None) -> ModelFacts | None:
    if d is None:
        return None
    return ModelFacts(
        params=d["params"],
        dtype=d["dtype"],
        layers=d["layers"],
        attention_heads=d["attentionHeads"],
        kv_heads=d.get("kvHeads"),
        head_dim=d.get("headDim"),
        hidden_size=d["hiddenSize"],
        vocab_size=d.get("vocabSize"),
        max_position_embeddings=d["maxPositionEmbeddings"],
        num_experts=d.get("numExperts"),
        experts_per_token=d.get("expertsPerToken"),
    )


def accelerator_from_data(d: Mapping[str, Any]) -> Accelerator:
    return Accelerator(type=d["type"], count=d.get("count"), topology=d.get("topology"))


def _load_balancing(d: Mapping[str, Any] | None) -> LoadBalancing | None:
    if d is None:
        return None
    cm, inf = d.get("customMetric"), d.get("inFlight")
    return LoadBalancing(
        custom_metric=(
            None
            if cm is None
            else CustomMetric(max_utilization=cm["maxUtilization"], dry_run=cm["dryRun"], key_order=tuple(cm))
        ),
        in_flight=(
            None
            if inf is None
            else InFlight(
                max_requests_per_endpoint=inf["maxRequestsPerEndpoint"],
                dry_run=inf["dryRun"],
                key_order=tuple(inf),
            )
        ),
        timeout_sec=d.get("timeoutSec"),
        traffic_duration=d.get("trafficDuration"),
    )


def _storage(d: Mapping[str, Any] | None) -> Storage | None:
    if d is None:
        return None
    fuse = d.get("gcsFuse")
    return Storage(
        gcs_fuse=(
            None
            if fuse is None
            else GcsFuse(
                bucket=fuse["bucket"],
                mount_path=fuse["mountPath"],
                mount_options=fuse["mountOptions"],
                read_only=fuse["readOnly"],
                key_order=tuple(fuse),
            )
        )
    )


def model_from_data(m: Mapping[str, Any]) -> Model:
    """One model of the defaulted data. Raises KeyError/TypeError/AttributeError on a
    malformed model (the spec rules run guarded when the schema already failed)."""
    res = m.get("resources", {})
    hc = m.get("healthCheck", {})
    r = m.get("replicas", {})
    mux, lora, sa = m.get("multiplexing"), m.get("lora"), m.get("serviceAccount")
    dl, chat, renv = m.get("download"), m.get("chatUI"), m.get("runtimeEnv")
    return Model(
        name=m["name"],
        model_id=m.get("modelId"),
        source=m["source"],
        accelerator=accelerator_from_data(m["accelerator"]),
        replicas=Replicas(min=r.get("min", 1), max=r.get("max", 1)),
        engine_args=m.get("engineArgs", {}),
        image=m.get("image"),
        ray_version=m.get("rayVersion"),
        haproxy=m.get("haproxy"),
        hf_token_secret=_secret(m["hfTokenSecret"]) if "hfTokenSecret" in m else INHERIT,
        resources=ModelResources(head=_resources(res.get("head")), worker=_resources(res.get("worker"))),
        health_check=ModelHealthCheck(period_s=hc.get("periodS", 600), timeout_s=hc.get("timeoutS", 300)),
        log_engine_metrics=m.get("logEngineMetrics", True),
        path=m.get("path"),
        clusters=tuple(m["clusters"]) if "clusters" in m else None,
        objectives=tuple(
            Objective(name=o["name"], priority=o.get("priority", 0)) for o in m.get("objectives", ())
        ),
        load_balancing=_load_balancing(m.get("loadBalancing")),
        service_account=(
            None
            if sa is None
            else ServiceAccount(name=sa["name"], gcp_service_account=sa.get("gcpServiceAccount"))
        ),
        storage=_storage(m.get("storage")),
        lora=(
            None
            if lora is None
            else Lora(
                path=lora["path"],
                max_adapters_per_replica=lora.get("maxAdaptersPerReplica", 16),
                max_rank=lora.get("maxRank", 16),
            )
        ),
        multiplexing=(
            None
            if mux is None
            else Multiplexing(
                models=tuple(
                    MultiplexedModel(
                        name=e["name"],
                        id=e["id"],
                        source=e["source"],
                        priority=e.get("priority", 0),
                        model_facts=_facts(e.get("modelFacts")),
                    )
                    for e in mux["models"]
                )
            )
        ),
        dranet=m.get("dranet", False),
        download=(
            None
            if dl is None
            else Download(
                enabled=dl.get("enabled", False),
                image=dl.get("image", "python:3.10-slim"),
                from_=dl.get("from"),
            )
        ),
        chat_ui=None if chat is None else ChatUI(enabled=chat.get("enabled", False), image=chat["image"]),
        runtime_env=None if renv is None else RuntimeEnv(env_vars=renv.get("envVars")),
        env=m.get("env", {}),
        model_facts=_facts(m.get("modelFacts")),
    )


def model_from_raw(m: Mapping[str, Any]) -> Model:
    """A model as written, before schema defaults (tools that build models by hand: bench/)."""
    defaulted: Mapping[str, Any] = apply_defaults({"models": [dict(m)]})["models"][0]
    return model_from_data(defaulted)


def fleet_from_data(data: Mapping[str, Any], build_model: Callable[[Any], Model] = model_from_data) -> Fleet:
    """The typed spec of a valid spec's defaulted data (``build_model``: the spec rules'
    cache of the models they built already)."""
    md, d, gw, sec = data["metadata"], data["defaults"], data["gateway"], data["security"]
    hc, tls, addresses = gw["healthCheck"], gw.get("tls"), gw.get("addresses")
    np = sec.get("networkPolicy")
    return Fleet(
        api_version=data["apiVersion"],
        kind=data["kind"],
        metadata=Metadata(name=md["name"], namespace=md["namespace"], project=md.get("project")),
        defaults=Defaults(
            image=d.get("image"),
            ray_version=d.get("rayVersion"),
            hf_token_secret=_secret(d["hfTokenSecret"]),
            inference_objective_profile=d["inferenceObjectiveProfile"],
        ),
        clusters=tuple(
            Cluster(name=c["name"], region=c.get("region"), mode=c["mode"], role=c["role"])
            for c in data["clusters"]
        ),
        gateway=Gateway(
            name=gw.get("name"),
            class_=gw["class"],
            routing=gw["routing"],
            model_header=gw["modelHeader"],
            port=gw["port"],
            tls=None if tls is None else Tls(certificate_secret=tls["certificateSecret"]),
            addresses=(
                None
                if addresses is None
                else tuple(GatewayAddress(region=a["region"], address=a.get("address")) for a in addresses)
            ),
            health_check=GatewayHealthCheck(
                path=hc["path"],
                check_interval_sec=hc["checkIntervalSec"],
                timeout_sec=hc["timeoutSec"],
                healthy_threshold=hc["healthyThreshold"],
                unhealthy_threshold=hc["unhealthyThreshold"],
            ),
            timeout_sec=gw.get("timeoutSec"),
            metrics_reader=gw["metricsReader"],
        ),
        models=tuple(build_model(m) for m in data["models"]),
        security=Security(
            network_policy=(
                None
                if np is None
                else NetworkPolicy(
                    enabled=np["enabled"],
                    operator_namespace=np["operatorNamespace"],
                    load_balancer_cidrs=tuple(np["loadBalancerCIDRs"]),
                    metrics_namespaces=tuple(np["metricsNamespaces"]),
                )
            )
        ),
    )
