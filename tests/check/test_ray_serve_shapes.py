"""Serve configs of one shape are validated by Ray once: every config still gets exactly
the problems validating it alone gives (issue 19)."""

from __future__ import annotations

import pytest
import yaml

from generator.check import ray_serve
from generator.check.ray_serve import ray_available, validate_serve_config

pytestmark = pytest.mark.skipif(not ray_available(), reason="needs the ray extra")

TEMPLATE = """\
applications:
- name: llm_app
  route_prefix: "/"
  import_path: ray.serve.llm:build_openai_app
  args:
    llm_configs:
    - model_loading_config:
        model_id: {a}
        model_source: {src}
      accelerator_type: {accel}
      {extra}
      deployment_config:
        autoscaling_config:
          min_replicas: {low}
          max_replicas: {high}
    - model_loading_config:
        model_id: {b}
        model_source: org/other
      accelerator_type: L4
"""


def _case(**fields: object) -> dict[str, object]:
    return fields


CASES = [
    _case(a="m-1", b="m-2", src="org/m", accel="L4", extra="", low=1, high=2),
    _case(a="m-3", b="m-4", src="org/n", accel="L4", extra="", low=1, high=2),  # same shape
    _case(a="m-5", b="m-5", src="org/m", accel="L4", extra="", low=1, high=2),  # duplicate id
    _case(a="m-6", b="m-6", src="org/q", accel="L4", extra="", low=1, high=2),  # same, other ids
    _case(a="m-7", b="m-8", src="org/m", accel="L4", extra="", low=3, high=2),  # min > max
    _case(a="m-9", b="m-10", src="org/m", accel="L4", extra="", low=3, high=2),
    _case(a="m-11", b="m-12", src="org/m", accel="NOPE", extra="", low=1, high=2),
    _case(a="m-13", b="m-14", src="org/m", accel="L4", extra="num_replicas: 2", low=1, high=2),
    _case(a="m-15", b="m-16", src="org/m", accel="L4", extra="bogus: 1", low=1, high=2),
    _case(a="m-17", b="m-18", src="org/m", accel="L4", extra="bogus: 1", low=1, high=2),
    _case(a="1", b="m-19", src="2", accel="L4", extra="", low=1, high=2),  # YAML ints: not strings
]


def _alone(text: str) -> list[str]:
    ray_serve._SHAPES.clear()
    ray_serve._VALID_DEPLOYMENT_CONFIGS.clear()
    return ray_serve._validate_config(ray_serve._import_ray(), yaml.safe_load(text))


def test_each_config_gets_the_problems_it_has_alone() -> None:
    texts = [TEMPLATE.format(**case) for case in CASES]
    expected = [_alone(t) for t in texts]
    ray_serve._SHAPES.clear()
    ray_serve._VALID_DEPLOYMENT_CONFIGS.clear()
    got = [validate_serve_config(t) for t in texts]
    assert got == expected
    assert got[0] == got[1] == []
    assert any("'m-5'" in p for p in got[2]) and any("'m-6'" in p for p in got[3])
    assert got[4] and got[6] and got[7] and got[8]
    assert got[10]  # model_id: 1 is not a string
    # cached: the same shapes give the same answers again
    assert [validate_serve_config(t) for t in texts] == expected
