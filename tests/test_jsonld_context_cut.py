"""JSON-LD parsed with the shared context cut to its terms (rdf/context_cut.py) gives
exactly what the whole context gives: the same triples (blank node labels included) for
every document taken, the same refusal (class, status, detail) for every one refused.

The manifest: every JSON-LD file of ``examples/`` and ``examples/invalid/``, the
compacted form of broken variants of them, the hostile bodies of
``tests/test_hostile_jsonld.py``, and tallies (the intake's submissions and written
results) — cut short, too deep, too many values, remote or nested contexts, named
graphs, terms that are not RDF.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
import rdflib

from ddsnode import resources
from ddsnode.intake.tally import Tally
from ddsnode.problem import Problem
from ddsnode.rdf import compaction, context_cut
from ddsnode.rdf.jsonld import (
    JsonLdLimits,
    bundled_contexts,
    is_own_context,
    jsonld_to_graph,
    parse_document,
)
from tests.support.variants import variants
from tests.test_hostile_jsonld import CASES as HOSTILE

BASE = "http://127.0.0.1:8000/"
CTX = resources.CONTEXT_IRI
CONTEST = BASE + "elections/c"
LIMITS = JsonLdLimits(max_depth=8, max_values=60)
EXAMPLES = sorted(resources.examples_dir().rglob("*.jsonld"))


def _tally(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": CTX, "type": "ContestResult", "contest": CONTEST,
        "reportingUnit": BASE + "places/s1", "ballotsCast": 100, "blankBallots": 3,
        "voteCounts": [{"type": "VoteCount", "selection": f"{CONTEST}#{s}",
                        "countType": "total", "count": n} for s, n in (("yes", 40), ("no", 30))]}
    doc.update(changes)
    return doc


def _encoded(doc: Any) -> bytes:
    return json.dumps(doc).encode()


CASES: dict[str, bytes] = {
    "a tally": _encoded(_tally()),
    "the node's own context URL": _encoded(_tally(**{"@context": BASE + "context/v1"})),
    "the context IRI with .jsonld": _encoded(_tally(**{"@context": CTX + ".jsonld"})),
    "the context last": _encoded({**{k: v for k, v in _tally().items() if k != "@context"},
                                  "@context": CTX}),
    "compact IRIs as keys and values": _encoded(_tally(**{
        "dds:registeredVoters": 500, "type": "dds:ContestResult"})),
    "an absolute IRI as a key": _encoded(_tally(**{
        "https://w3id.org/dds/ns#invalidBallots": 2})),
    "a key the context does not define": _encoded(_tally(unknownThing=7)),
    "an id and language strings": _encoded(_tally(id=BASE + "results/x",
                                                  name={"en": "x", "fr": "y"})),
    "typed and @vocab values": _encoded(_tally(resultsStatus="unofficialComplete",
                                               reportedAt="2026-03-15T20:00:00Z")),
    "a count as a string": _encoded(_tally(ballotsCast="100")),
    "an inline context": _encoded(_tally(**{"@context": {"@vocab": "https://w3id.org/dds/ns#"}})),
    "a context array": _encoded(_tally(**{"@context": [CTX, {"extra": "http://e.org/x"}],
                                          "extra": 1})),
    "a nested context": _encoded(_tally(voteCounts=[{
        "@context": {"count": "http://e.org/count"}, "type": "VoteCount",
        "selection": f"{CONTEST}#yes", "count": 1}])),
    "a protected term redefined inside": _encoded(_tally(voteCounts=[{
        "@context": {"type": "http://e.org/t"}, "type": "VoteCount"}])),
    "a remote context": _encoded(_tally(**{"@context": "https://evil.example/ctx"})),
    "a remote context inside": _encoded(_tally(voteCounts=[{
        "@context": "https://evil.example/ctx", "count": 1}])),
    "another node's context URL": _encoded(_tally(**{
        "@context": "http://127.0.0.1:9/context/v1"})),
    "no context": _encoded({k: v for k, v in _tally().items() if k != "@context"}),
    "nothing but a context": _encoded({"@context": CTX}),
    "only unknown terms": _encoded({"@context": CTX, "nope": 1}),
    "a named graph": _encoded(_tally(id=BASE + "g", **{"@graph": [{"id": BASE + "x",
                                                                      "name": "x"}]})),
    "an IRI with a space": _encoded(_tally(contest="http://e.org/a b")),
    "a language tag that is not one": _encoded(_tally(name={"@value": "x",
                                                           "@language": "en US"})),
    "a list at the top": _encoded([_tally(), _tally(reportingUnit=BASE + "places/s2")]),
    "too deep": _encoded(_tally(voteCounts=[[[[[[[[{"count": 1}]]]]]]]])),
    "too many values": _encoded(_tally(voteCounts=[
        {"type": "VoteCount", "selection": f"{CONTEST}#s{i}", "count": i} for i in range(15)])),
    "just under the number of values": _encoded(_tally(voteCounts=[
        {"type": "VoteCount", "selection": f"{CONTEST}#s{i}", "count": i} for i in range(11)])),
    "cut short": _encoded(_tally())[:57],
    "not JSON": b"\xff\xfe<xml/>",
    "a string": b'"@context"',
    "@context as a value": _encoded(_tally(name="@context")),
    "a keyword value that is not one": _encoded(_tally(**{"@type": 42})),
}


def _outcome(data: bytes, base: str, limits: JsonLdLimits, *, cut: bool) -> tuple[str, Any]:
    try:
        graph = parse_document(data, base, limits=limits, cut_context=cut)
    except Problem as p:
        return "refused", (type(p).__name__, p.status, p.detail)
    return "graph", sorted(graph.serialize(format="nt").splitlines())


def _same_both_ways(data: bytes, base: str, limits: JsonLdLimits = JsonLdLimits()) -> Any:
    whole = _outcome(data, base, limits, cut=False)
    assert _outcome(data, base, limits, cut=True) == whole
    return whole


def _bundled(base: str) -> Any:
    return lambda url: url in bundled_contexts() or is_own_context(url, base)


def _cut_alone(data: bytes, base: str) -> list[str]:
    """The triples of the cut document parsed by the whole way's machinery (no fallback
    to hide a difference: the cut context is an inline context there)."""
    cut = context_cut.cut_document(json.loads(data), _bundled(base))
    assert cut is not None, "the document takes the cut way"
    return sorted(jsonld_to_graph(cut, base, cut_context=False).serialize(
        format="nt").splitlines())


@pytest.mark.parametrize("case", sorted(CASES))
def test_tallies_and_their_hostile_kin_give_what_the_whole_context_gives(case: str) -> None:
    _same_both_ways(CASES[case], BASE, LIMITS)


def test_the_cases_cover_both_ways_and_the_limits() -> None:
    """The manifest above holds documents taken and refused, each limit on both sides."""
    kinds = {case: _outcome(data, BASE, LIMITS, cut=False) for case, data in CASES.items()}
    assert kinds["a tally"][0] == "graph" and len(kinds["a tally"][1]) == 15
    assert kinds["just under the number of values"][0] == "graph"
    assert kinds["too many values"][1][:2] == ("DocumentTooComplex", 413)
    assert kinds["too deep"][1][:2] == ("DocumentTooComplex", 413)
    assert kinds["a remote context"][1][:2] == ("RemoteContextRefused", 422)
    assert kinds["another node's context URL"][1][:2] == ("RemoteContextRefused", 422)
    assert kinds["only unknown terms"][1][:2] == ("NoStatements", 422)
    assert kinds["an IRI with a space"][1][:2] == ("InvalidTerm", 400)
    assert kinds["a named graph"][1][:2] == ("BadRequest", 400)
    assert kinds["cut short"][1][:2] == ("BadRequest", 400)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: str(p.relative_to(EXAMPLES[0].parent)))
def test_every_example_gives_the_same_triples_both_ways(path: Path) -> None:
    data = path.read_bytes()
    iri = json.loads(data).get("id") or BASE
    kind, triples = _same_both_ways(data, iri)
    assert kind == "graph" and triples
    assert _cut_alone(data, iri) == triples


def _variant_bodies() -> list[tuple[str, bytes, str]]:
    logging.getLogger("rdflib.term").setLevel(logging.ERROR)  # ill-typed on purpose
    top = sorted(resources.examples_dir().glob("*.jsonld"))
    graphs = [(p, parse_document(p.read_bytes(), cut_context=False)) for p in top]
    classes = sorted({o for _, g in graphs for o in g.objects(None, rdflib.RDF.type)}, key=str)
    out = []
    for path, graph in graphs:
        main = json.loads(path.read_bytes())["id"]
        for i, v in enumerate(variants(graph, path.stem, classes)):
            if i % 5 == 0:
                out.append((v.name, _encoded(compaction.compacted(v.graph, main)), main))
    return out


VARIANTS = _variant_bodies()


@pytest.mark.parametrize(("name", "data", "base"), VARIANTS, ids=[v[0] for v in VARIANTS])
def test_compacted_variants_give_the_same_triples_both_ways(name: str, data: bytes,
                                                            base: str) -> None:
    kind, triples = _same_both_ways(data, base)
    if kind == "graph":
        assert _cut_alone(data, base) == triples


@pytest.mark.parametrize("case", HOSTILE, ids=[c.name for c in HOSTILE])
def test_hostile_bodies_get_the_same_answer_both_ways(case: Any) -> None:
    _same_both_ways(case.body, BASE + case.path)


def test_own_and_bundled_context_urls_take_the_cut_way_and_others_do_not() -> None:
    body = {"id": BASE + "proposals/p", "type": "Proposal", "name": "x"}
    bundled = _bundled(BASE + "proposals/p")
    for url in (CTX, CTX + "/", CTX + ".jsonld", BASE + "context/v1"):
        assert context_cut.cut_document({"@context": url, **body}, bundled) is not None, url
    for doc in ({"@context": "http://127.0.0.1:9/context/v1", **body},
                {"@context": [CTX], **body}, {"@context": {"@vocab": CTX}, **body},
                {"@context": CTX, **body, "hasPart": {"@context": CTX, "name": "y"}},
                [{"@context": CTX, **body}], {**body}):
        assert context_cut.cut_document(doc, bundled) is None, doc


def test_the_cut_keeps_few_terms_is_cached_and_used_by_every_parse() -> None:
    context = resources.context_document()["@context"]
    body = {k: v for k, v in _tally().items() if k != "@context"}
    cut = context_cut.cut(context_cut.reachable_names(body))
    assert {"contest", "reportingUnit", "voteCounts", "count", "selection"} <= set(cut)
    assert "@protected" in cut and len(cut) < len(context) / 4
    assert context_cut.cut(context_cut.reachable_names(body)) is cut  # once per shape
    # A proposal POSTed over HTTP goes through parse_document, and so through the cut.
    before = context_cut._cut.cache_info()
    proposal = resources.examples_dir() / "a-proposal-school-streets.jsonld"
    parse_document(proposal.read_bytes(), BASE + "proposals/x")
    after = context_cut._cut.cache_info()
    assert after.hits + after.misses == before.hits + before.misses + 1
    assert after.maxsize == context_cut.CACHED_CUTS


def test_the_parse_leaves_the_callers_document_as_it_was() -> None:
    tally = Tally(CONTEST, BASE + "places/s1", ((f"{CONTEST}#no", "total", 30),
                                                (f"{CONTEST}#yes", "total", 40)), 100, 3, 1)
    iri = BASE + "results/c-s1-seq-1"
    doc = tally.document(iri, 1, "unofficialComplete", "2026-03-15T20:00:00Z",
                         (BASE + "intake/evidence?sha256=" + "a" * 64, "a" * 64))
    kept = json.dumps(doc)
    graph = jsonld_to_graph(doc, iri)
    assert json.dumps(doc) == kept and len(graph) > 10
    assert _same_both_ways(kept.encode(), iri)[1] == sorted(
        graph.serialize(format="nt").splitlines())
