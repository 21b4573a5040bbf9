"""Results whose own numbers cannot be, written over HTTP: a 422 problem, nothing stored.

The write path runs :func:`ddsnode.elections.hook.plausible_results` on every write
(issue 14). Each case spoils the example scenario's referendum result, PUTs it, and
checks the problem, that nothing was stored, and that the node still answers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.inprocess import LocalNode, local_node

Doc = dict[str, Any]
EXAMPLE = "e-result-municipal-2026-referendum-rivemont-seq-1"


def _set(**values: Any) -> Callable[[Doc], None]:
    return lambda doc: doc.update(values)


def _count(index: int, value: int, ctype: str | None = None) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        doc["voteCounts"][index]["count"] = value
        if ctype:
            doc["voteCounts"][index]["countType"] = ctype
    return change


def _add_part(index: int, ctype: str, value: int) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        item = dict(doc["voteCounts"][index])
        doc["voteCounts"].append({**item, "countType": ctype, "count": value})
    return change


@dataclass(frozen=True)
class Case:
    """A spoiled result, the status expected and the finding codes."""

    name: str
    change: Callable[[Doc], None]
    status: int
    codes: tuple[str, ...] = ()


CASES = [
    Case("as published", lambda d: None, 201),
    Case("turnout over 100%", _set(ballotsCast=83911), 422, ("turnout-over-100",)),
    Case("turnout far over 100%", _set(registeredVoters=1, ballotsCast=10**9), 422,
         ("turnout-over-100",)),
    Case("no one registered, ballots cast", _set(registeredVoters=0), 422,
         ("turnout-over-100",)),
    Case("an election-day part over the total", _add_part(0, "electionDay", 24316), 422,
         ("parts-over-total",)),
    Case("parts that add up past the total", lambda d: (_add_part(1, "electionDay", 10000)(d),
                                                       _add_part(1, "absentee", 7944)(d)),
         422, ("parts-over-total",)),
    Case("parts within the total", lambda d: (_add_part(1, "electionDay", 10000)(d),
                                             _add_part(1, "absentee", 7943)(d)), 201),
    Case("both at once", lambda d: (_set(ballotsCast=90000)(d),
                                    _add_part(0, "early", 30000)(d)), 422,
         ("turnout-over-100", "parts-over-total")),
]


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNode]:
    """A running node with the proposal other reads go to."""
    with local_node(tmp_path_factory.mktemp("writepath")) as n:
        iri, body = n.example("a-proposal-school-streets")
        with n.client() as http:
            assert http.put(iri, content=body, headers={
                **n.auth(), "Content-Type": "application/ld+json"}).status_code == 201
        yield n


def still_answers(node: LocalNode) -> None:
    """A read of another resource and a /sparql query succeed."""
    with node.client() as http:
        assert http.get("/proposals/school-streets",
                        headers={"Accept": "text/turtle"}).status_code == 200
        r = http.get("/sparql", params={"query": "ASK { ?s ?p ?o }"},
                     headers={"Accept": "application/sparql-results+json"})
        assert r.status_code == 200, r.text


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_result_over_http(node: LocalNode, case: Case) -> None:
    iri, body = node.example(EXAMPLE)
    doc = json.loads(body)
    target = iri + "-" + str(CASES.index(case))
    doc["id"] = target
    case.change(doc)
    with node.client() as http:
        r = http.put(target, content=json.dumps(doc).encode(),
                     headers={**node.auth(), "Content-Type": "application/ld+json"})
        assert r.status_code == case.status, r.text
        if case.status == 422:
            assert r.headers["content-type"].startswith("application/problem+json")
            problem = r.json()
            assert problem["type"].endswith("implausible-result")
            assert tuple(f["code"] for f in problem["findings"]) == case.codes
            assert http.get(target, headers={"Accept": "text/turtle"}).status_code == 404
    still_answers(node)
