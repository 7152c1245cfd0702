"""The CEL environment Kubernetes gives CRD validation rules, on cel-cpp (``cel-expr-python``).

``self`` is dynamically typed (the API server types it from the schema; the pinned rules
passed that check when their CRDs were written, and ``cel_rules.to_native`` gives each
value the type its schema declares). The environment holds CEL's standard library and
cel-cpp's strings extension, the only Kubernetes-enabled library the pinned rules call
(``split``). Kubernetes' own libraries (quantity, IP/CIDR, URL, format, lists, regex,
semver) are not called by any pinned rule: a rule that calls one does not compile here
and is listed as not evaluated, naming the function, rather than guessed at.

cel-cpp is imported on first use (~10 ms; the environment's default protobuf descriptor
pool imports protobuf, which ``gen check`` has already loaded for Ray).
"""

from __future__ import annotations

import re
from typing import Any

# Functions of Kubernetes' CEL libraries (k8s.io/apiserver/pkg/cel/library) this
# environment lacks, named in the reason a rule calling one is not evaluated.
KUBERNETES_LIBRARY = frozenset(
    {
        # lists
        "isSorted", "sum", "min", "max", "indexOf", "lastIndexOf",
        # regex
        "find", "findAll",
        # url
        "url", "isURL", "getScheme", "getHost", "getHostname", "getPort", "getEscapedPath", "getQuery",
        # quantity
        "quantity", "isQuantity", "sign", "isInteger", "asInteger", "asApproximateFloat", "add", "sub",
        "isGreaterThan", "isLessThan", "compareTo",
        # ip / cidr
        "ip", "isIP", "cidr", "isCIDR", "family", "isUnspecified", "isLoopback", "isLinkLocalMulticast",
        "isLinkLocalUnicast", "isGlobalUnicast", "isCanonical", "containsIP", "containsCIDR", "prefixLength",
        "masked",
        # format, semver
        "format", "validate", "semver", "isSemver", "major", "minor", "patch",
    }
)  # fmt: skip
_UNDECLARED = re.compile(r"undeclared reference to '([^']+)'")
_ENV: Any = None
_ERROR: Any = None  # cel.Type.ERROR, kept once the engine is loaded
_PROGRAMS: dict[str, Any] = {}


class CompileError(Exception):
    """The rule does not compile in this environment; ``str()`` is the reason for users."""


class EvalError(Exception):
    """The rule evaluated to a CEL error (the API server rejects the object too)."""


def _env() -> Any:
    global _ENV, _ERROR
    if _ENV is None:
        from cel_expr_python import cel
        from cel_expr_python.ext import ext_strings

        _ENV = cel.NewEnv(variables={"self": cel.Type.DYN}, extensions=[ext_strings.ExtStrings()])
        _ERROR = cel.Type.ERROR
    return _ENV


def compile_expression(text: str) -> Any:
    """The compiled program of ``text`` (shared by kinds that pin the same rule, e.g.
    HTTPRoute v1 and v1beta1); raises CompileError with a reason users can read."""
    program = _PROGRAMS.get(text)
    if program is not None:
        return program
    try:
        program = _PROGRAMS[text] = _env().compile(text)
        return program
    except RuntimeError as exc:  # cel-cpp reports every compile failure as RuntimeError
        detail = str(exc)
        missing = _UNDECLARED.search(detail)
        if missing and missing.group(1) in KUBERNETES_LIBRARY:
            raise CompileError(
                f"uses {missing.group(1)}(), a Kubernetes CEL library function this checker "
                "does not implement"
            ) from None
        first = detail.replace("INVALID_ARGUMENT: ", "").replace("ERROR: <input>:", "").splitlines()[0]
        raise CompileError(f"does not compile in Kubernetes' CEL environment: {first}") from None


def activation(self_value: Any) -> Any:
    """Bindings for ``self``, shared by every rule of one node. Values the engine cannot
    hold (an int beyond int64) become errors of the rules that read them, as in cel-go."""
    return _env().Activation({"self": self_value})


def evaluate(program: Any, bindings: Any) -> Any:
    """The plain Python result of ``program``, or an EvalError for a CEL error."""
    value = program.eval(bindings)
    if value.value() is True:
        return True  # the common case, without asking for the type
    if value.type() == _ERROR:
        return EvalError(str(value.value()))
    return value.plain_value()
