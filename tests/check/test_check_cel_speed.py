"""CEL rules run at the speed `gen check` needs: cel-cpp evaluates every rule of a node
against one activation, and a process that checks no custom resource never loads it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from generator.check.cel_rules import RuleSet
from generator.check.paths import upstream_dir
from generator.check.schema_index import load_index

REPO = Path(__file__).resolve().parents[2]


def _routes(n: int) -> list[dict]:
    return [
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "HTTPRoute",
            "metadata": {"name": f"m{i}-route"},
            "spec": {
                "parentRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "gw"}],
                "rules": [
                    {
                        "backendRefs": [{"group": "", "kind": "Service", "name": f"m{i}-svc", "port": 8000}],
                        "filters": [
                            {
                                "type": "URLRewrite",
                                "urlRewrite": {
                                    "path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/"}
                                },
                            }
                        ],
                        "matches": [{"path": {"type": "PathPrefix", "value": f"/m{i}"}}],
                        "timeouts": {"request": f"{i + 10}s", "backendRequest": "5s"},
                    }
                ],
            },
        }
        for i in range(n)
    ]


def test_distinct_httproutes_are_cheap() -> None:
    entry = load_index().entries[("gateway.networking.k8s.io/v1", "HTTPRoute")]
    with open(upstream_dir() / "compiled" / entry.compiled_name, encoding="utf-8") as f:
        rules = RuleSet("gateway.networking.k8s.io/v1", "HTTPRoute", json.load(f))
    routes = _routes(250)
    start = time.perf_counter()
    assert all(list(rules.check_cel(r)) == [] for r in routes)
    elapsed = time.perf_counter() - start
    # ~0.05-0.2 s on the shared 2-core dev machine (cel-python alone took ~4.5 s); 1 s only catches
    # a lost fast path (say, a conversion per rule instead of per node), not noise.
    assert elapsed < 1.0, f"{elapsed:.2f} s for 250 HTTPRoutes"


def test_core_kinds_never_load_the_cel_engine() -> None:
    # cel-cpp is loaded by the first custom resource with rules, not by `import` of the checker.
    code = (
        "import sys, json\n"
        "from generator.check.schemas import validate_resource\n"
        "svc = {'apiVersion': 'v1', 'kind': 'Service', 'metadata': {'name': 's'},\n"
        "       'spec': {'ports': [{'port': 80}]}}\n"
        "assert validate_resource(svc) == []\n"
        "assert 'cel_expr_python' not in sys.modules, 'cel engine loaded for a Service'\n"
        f"routes = json.loads({json.dumps(json.dumps(_routes(1)))})\n"
        "routes[0]['spec']['rules'][0]['matches'][0]['path']['value'] = 'v1'\n"
        "problems = validate_resource(routes[0])\n"
        "assert [p.message for p in problems] == [\n"
        "    \"value must be an absolute path and start with '/' when \"\n"
        "    \"type one of ['Exact', 'PathPrefix']\"\n"
        "], problems\n"
        "assert 'cel_expr_python' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, timeout=120)
