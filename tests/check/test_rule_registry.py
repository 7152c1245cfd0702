"""Every registered GKE lint and reference check has a case in the negative corpus
(tests/check/negative/) that it alone finds, run on its own: adding a rule without its
fixture fails here."""

from __future__ import annotations

import pytest

from generator.check import crossref, lints
from generator.check.loader import load

from .corpus_patch import NEGATIVE, PATCH, materialize

CASES = sorted(p.parent.name for p in NEGATIVE.glob(f"*/{PATCH}"))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Each case's clusters: {case: {scope: [objects]}}."""
    root = tmp_path_factory.mktemp("negative")
    out = {}
    for case in CASES:
        loaded = load([str(materialize(case, root / case))])
        out[case] = {s.name: [d.obj for d in s.docs] for s in loaded.scopes}
    return out


def _lint_hits(scopes, rule):
    indexes = crossref.index_scopes(scopes)
    world = crossref._World(indexes)
    return [hit for ix in indexes.values() for hit in rule(lints.Lint(ix, world.resolves))]


def _reference_hits(scopes, kinds, check):
    indexes = crossref.index_scopes(scopes)
    world = crossref._World(indexes)
    hits = []
    for scope, ix in indexes.items():
        checker = crossref._Checker(scope, ix, world)
        for i, obj in enumerate(ix.objs):
            if not isinstance(obj, dict) or not isinstance(obj.get("kind"), str):
                continue
            gk = (obj.get("apiVersion", "").rpartition("/")[0], obj["kind"])
            if kinds is None or gk in kinds or obj["kind"] in kinds:
                check(checker, i, obj)
        hits += checker.out
    return hits


@pytest.mark.parametrize("rule", lints.LINTS, ids=lambda r: r.__name__)
def test_every_lint_has_a_case(corpus, rule):
    found = [case for case, scopes in corpus.items() if _lint_hits(scopes, rule)]
    assert found, f"no case in tests/check/negative/ breaks {rule.__name__}: add one"


@pytest.mark.parametrize("entry", crossref.REFERENCE_CHECKS, ids=lambda e: e[1].__name__.strip("_"))
def test_every_reference_check_has_a_case(corpus, entry):
    kinds, check = entry
    found = [case for case, scopes in corpus.items() if _reference_hits(scopes, kinds, check)]
    assert found, f"no case in tests/check/negative/ breaks {check.__name__}: add one"


def test_a_clean_base_trips_no_rule(corpus, tmp_path):
    from .corpus_patch import read_tree

    for base in ("base/single-cluster-gpu", "base/path-routing"):
        files = read_tree(NEGATIVE / base)
        assert files, base
        for rel, text in files.items():
            (tmp_path / base / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / base / rel).write_text(text)
        loaded = load([str(tmp_path / base)])
        scopes = {s.name: [d.obj for d in s.docs] for s in loaded.scopes}
        assert not [h for rule in lints.LINTS for h in _lint_hits(scopes, rule)], base
        assert not [
            h for kinds, check in crossref.REFERENCE_CHECKS for h in _reference_hits(scopes, kinds, check)
        ]
