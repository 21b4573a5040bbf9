"""JSON-LD tallies parsed with the shared context cut to their terms (intake/terms.py)
give exactly what the full parser gives: the same triples (blank node labels included)
for every document it takes, the same refusal (class, status, detail) for every one it
does not — hostile ones included: cut short, too deep, too many values, remote or nested
contexts, named graphs, terms that are not RDF."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ddsnode.intake.tally import Tally
from ddsnode.intake.terms import parse_tally, shared_context, used_context, with_used_context
from ddsnode.problem import Problem
from ddsnode.rdf.jsonld import JsonLdLimits, parse_document

BASE = "http://127.0.0.1:8000/"
CTX = "https://w3id.org/dds/context/v1"
CONTEST = BASE + "elections/c"
LIMITS = JsonLdLimits(max_depth=8, max_values=60)


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
    "no context": _encoded({k: v for k, v in _tally().items() if k != "@context"}),
    "nothing but a context": _encoded({"@context": CTX}),
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
}


def _outcome(parse: Any, data: bytes) -> tuple[str, Any]:
    try:
        graph = parse(data)
    except Problem as p:
        return "refused", (type(p).__name__, p.status, p.detail)
    return "graph", sorted(graph.serialize(format="nt").splitlines())


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_cut_context_gives_what_the_full_parser_gives(case: str) -> None:
    data = CASES[case]
    full = _outcome(lambda d: parse_document(d, BASE, limits=LIMITS), data)
    cut = _outcome(lambda d: parse_tally(d, BASE, LIMITS), data)
    assert cut == full


def test_the_cases_cover_both_ways_and_the_limits() -> None:
    """The manifest above holds documents taken and refused, each limit on both sides."""
    kinds = {case: _outcome(lambda d: parse_document(d, BASE, limits=LIMITS), data)
             for case, data in CASES.items()}
    assert kinds["a tally"][0] == "graph" and len(kinds["a tally"][1]) == 15
    assert kinds["just under the number of values"][0] == "graph"
    assert kinds["too many values"][1][:2] == ("DocumentTooComplex", 413)
    assert kinds["too deep"][1][:2] == ("DocumentTooComplex", 413)
    assert kinds["a remote context"][1][:2] == ("RemoteContextRefused", 422)
    assert kinds["cut short"][1][:2] == ("BadRequest", 400)


def test_the_cut_keeps_few_terms_and_is_cached() -> None:
    context = shared_context()
    body = {k: v for k, v in _tally().items() if k != "@context"}
    cut = used_context(context, body)
    assert {"contest", "reportingUnit", "voteCounts", "count", "selection"} <= set(cut)
    assert len(cut) < len(context[1]) / 4
    assert used_context(context, body) is cut  # processed once per shape of tally


def test_the_written_result_has_the_same_triples_with_the_cut_context() -> None:
    tally = Tally(CONTEST, BASE + "places/s1", ((f"{CONTEST}#no", "total", 30),
                                                (f"{CONTEST}#yes", "total", 40)), 100, 3, 1)
    doc = tally.document(BASE + "results/c-s1-seq-1", 1, "unofficialComplete",
                         "2026-03-15T20:00:00Z", (BASE + "intake/evidence?sha256=" + "a" * 64,
                                                  "a" * 64))
    iri = BASE + "results/c-s1-seq-1"
    full = parse_document(json.dumps(doc), iri).serialize(format="nt")
    cut = parse_document(json.dumps(with_used_context(doc)), iri).serialize(format="nt")
    assert sorted(cut.splitlines()) == sorted(full.splitlines())
    assert doc["@context"] == CTX  # the caller's document is left as it was
