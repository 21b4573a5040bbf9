"""Hostile PATCH documents (issue 9, item 2): each is refused with a 4xx/503 problem within
its budget — WHERE solutions (``patch_solution_limit``), time (``sparql_timeout``), result
size (``max_body_bytes``), memory (``patch_memory_mb``) — nothing is changed, and the
node still reads, queries and writes afterwards.

A table of hostile documents, on a shaped resource (a proposal) and an open one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.inprocess import LocalNode, local_node

N3 = "text/n3"
SPARQL = "application/sparql-update"
EX = "http://example.org/"
N3_PREFIXES = ("@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n"
               f"@prefix ex: <{EX}>.\n")
TIMEOUT = 2.0
# An open resource with enough triples for joins to multiply: 40 triples.
OPEN_DOC = "\n".join(f'<#it> <{EX}p{i}> "value number {i}" .' for i in range(40)).encode()


def doublings(n: int, start: str = "?o") -> str:
    """BINDs that double a string n times: ?t1 = ?o?o, ?t2 = ?t1?t1 …, ending in ?t{n}."""
    out, previous = [], start
    for i in range(1, n + 1):
        out.append(f"BIND(CONCAT({previous}, {previous}) AS ?t{i})")
        previous = f"?t{i}"
    return " ".join(out)


@dataclass(frozen=True)
class Case:
    """A hostile PATCH, where it is sent, and the statuses that refuse it."""

    name: str
    target: str  # "proposal" or "open"
    media_type: str
    body: str  # {iri} is the target's IRI
    statuses: tuple[int, ...]


FOUR_JOINS = "?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l ."
CASES = [
    # Row multiplication: 40^4 solutions, a few bytes each — the solution bound (or, on a
    # machine busy enough that the worker has not counted that far in time, the clock: 503).
    Case("rows-multiplied", "open", SPARQL,
         f"INSERT {{ <{{iri}}> <{EX}n> ?c }} WHERE {{ {FOUR_JOINS} }}", (422, 503)),
    Case("rows-multiplied-delete-where", "open", SPARQL,
         "DELETE WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . }", (422, 503)),
    # Row multiplication that yields nothing: only the time limit stops it.
    Case("rows-multiplied-filtered-away", "open", SPARQL,
         f"INSERT {{ <{{iri}}> <{EX}n> ?c }} WHERE {{ {FOUR_JOINS} ?m ?n ?o . "
         "FILTER(?c = ?f && ?f = ?i && ?i = ?l && STR(?l) = \"none\") }", (503,)),
    # CONCAT growth: one solution whose value doubles past a body (16 MiB) — result size
    # (or the clock, on a machine too busy to build 16 MiB within TIMEOUT: 503).
    Case("concat-growth", "open", SPARQL,
         f"INSERT {{ ?s <{EX}big> ?t20 }} WHERE {{ ?s <{EX}p1> ?o . "
         f"{doublings(20)} }}", (413, 503)),
    # CONCAT growth past memory (2^32 × 14 bytes): the worker's memory cap, or its clock.
    Case("concat-exhausts-memory", "open", SPARQL,
         f"INSERT {{ ?s <{EX}big> ?t32 }} WHERE {{ ?s <{EX}p1> ?o . "
         f"{doublings(32)} }}", (413, 503)),
    # Modest values over many solutions: the inserted bytes outgrow a body.
    Case("concat-over-solutions", "open", SPARQL,
         f"INSERT {{ ?s ?p ?t12 }} WHERE {{ ?s ?p ?o . ?x ?y ?z . {doublings(12)} }}",
         (413,)),
    # Each operation doubles the graph: solutions add up over the request (422 at the
    # solution limit, or the clock first on a machine busy enough: 503).
    Case("operations-double-the-graph", "open", SPARQL,
         " ;\n".join([f"INSERT {{ ?s ?p ?o2 }} WHERE {{ ?s ?p ?o . "
                      f"BIND(CONCAT(STR(?o), \"{i}\") AS ?o2) }}" for i in range(12)]),
         (422, 503)),
    # Property paths: closures over every node, joined.
    Case("deep-property-paths", "open", SPARQL,
         f"INSERT {{ <{{iri}}> <{EX}n> \"x\" }} WHERE {{ ?a (!<{EX}q>)* ?b . "
         f"?c (!<{EX}q>|^!<{EX}q>)* ?d . ?e (!<{EX}q>)+/(!<{EX}q>)* ?f . }}",
         (422, 503)),
    Case("property-path-filtered-away", "open", SPARQL,
         f"INSERT {{ <{{iri}}> <{EX}n> \"x\" }} WHERE {{ ?a (!<{EX}q>|^!<{EX}q>)* ?b . "
         f"?c (!<{EX}q>|^!<{EX}q>)* ?d . ?e ?g ?f . FILTER(STR(?f) = \"none\") }}", (503,)),
    # The same on a shaped resource (the node's own proposals).
    Case("rows-multiplied-on-a-proposal", "proposal", SPARQL,
         f"INSERT {{ <{{iri}}> <{EX}n> ?c }} WHERE {{ {FOUR_JOINS} }}", (422, 503)),
    Case("concat-growth-on-a-proposal", "proposal", SPARQL,
         f"DELETE {{ ?s ?p ?o }} INSERT {{ ?s ?p ?t20 }} WHERE {{ ?s ?p ?o . "
         f"FILTER(isLiteral(?o)) {doublings(20)} }}", (413, 503)),
    # N3 Patch: solid:where is a join too.
    Case("n3-where-multiplied", "open", N3,
         N3_PREFIXES + "_:p a solid:InsertDeletePatch; solid:where { ?a ?b ?c. ?d ?e ?f. "
         "?g ?h ?i. ?j ?k ?l. }; solid:inserts { ?a ex:n 1. }.", (409,)),
    Case("n3-where-joined-to-nothing", "open", N3,
         N3_PREFIXES + "_:p a solid:InsertDeletePatch; solid:where { ?a ?b ?c. ?d ?e ?f. "
         "?g ?h ?i. ?j ?k ?l. ?l ?l ?l. }; solid:inserts { ?a ex:n 1. }.", (409, 503)),
    Case("n3-inserts-a-formula", "open", N3,
         N3_PREFIXES + "_:p a solid:InsertDeletePatch; "
         "solid:inserts { <#it> ex:says { <#it> ex:is ex:nothing } }.", (400, 422)),
    Case("n3-inserts-a-literal-subject", "open", N3,
         N3_PREFIXES + "_:p a solid:InsertDeletePatch; solid:inserts { \"x\" ex:p ex:o. }.",
         (400, 422)),
    Case("n3-two-patches", "open", N3,
         N3_PREFIXES + "_:p a solid:InsertDeletePatch; solid:inserts { <#it> ex:a 1. }.\n"
         "_:q a solid:InsertDeletePatch; solid:inserts { <#it> ex:b 1. }.", (422,)),
    Case("n3-unbound-variable", "open", N3,
         N3_PREFIXES + "_:p a solid:InsertDeletePatch; solid:inserts { ?x ex:a 1. }.",
         (422,)),
    Case("n3-deletes-a-blank-node", "open", N3,
         N3_PREFIXES + "_:p a solid:InsertDeletePatch; solid:deletes { _:b ex:a 1. }.",
         (422,)),
    Case("n3-not-n3", "open", N3, "@prefix : <", (400,)),
    # Not RDF 1.1 through SPARQL Update.
    Case("sparql-bad-language-tag", "open", SPARQL,
         "INSERT DATA { <{iri}> <http://example.org/t> \"x\"@abcdefghijklmnop }", (400,)),
    Case("sparql-deeply-nested", "open", SPARQL,
         "INSERT { <{iri}> <http://example.org/t> 1 } WHERE " + "{" * 3000 + "}" * 3000,
         (400, 422)),
    Case("sparql-service", "open", SPARQL,
         "INSERT { <{iri}> <http://example.org/t> ?o } WHERE { SERVICE <http://127.0.0.1:9/> "
         "{ ?s ?p ?o } }", (422,)),
    Case("sparql-load", "open", SPARQL, "LOAD <http://127.0.0.1:9/x>", (422,)),
    Case("sparql-other-graph", "open", SPARQL,
         "INSERT DATA { GRAPH <http://example.org/g> { <urn:a> <urn:b> <urn:c> } }", (422,)),
    Case("sparql-not-utf8", "open", SPARQL, "INSERT DATA { <urn:a> <urn:b> \"\udcff\" }",
         (400,)),
]


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNode]:
    root: Path = tmp_path_factory.mktemp("hostile-patch")
    with local_node(root, settings={"open_containers": "open/",
                                    "sparql_timeout": TIMEOUT}) as node:
        with node.client() as http:
            iri, body = node.example("a-proposal-quai-bike-lane")
            r = http.put(iri, content=body,
                         headers={"Content-Type": "application/ld+json", **node.auth()})
            assert r.status_code == 201, r.text
            node.proposal = iri  # type: ignore[attr-defined]
            for path in ("open/target", "open/other"):
                r = http.put(path, content=OPEN_DOC, headers={"Content-Type": "text/turtle"})
                assert r.status_code == 201, r.text
        yield node


def state(http: httpx.Client, iri: str) -> tuple[str, bytes]:
    """What a reader sees of ``iri``: its ETag and N-Triples."""
    r = http.get(iri, headers={"Accept": "application/n-triples"})
    assert r.status_code == 200
    return r.headers["etag"], r.content


def assert_node_answers(node: LocalNode, http: httpx.Client) -> None:
    """A read of another resource, /sparql and a write all still answer."""
    assert http.get("open/other", headers={"Accept": "text/turtle"}).status_code == 200
    r = http.get("sparql", params={"query": f"ASK {{ ?s <{EX}p1> ?o }}"},
                 headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200 and r.json()["boolean"] is True
    r = http.patch("open/other", content=f'INSERT DATA {{ <#it> <{EX}alive> "yes" }}',
                   headers={"Content-Type": SPARQL})
    assert r.status_code == 204, r.text


# Cases that run the PATCH worker until its clock or its memory cap stops it (seconds of
# CPU each): load scenarios, in CI and not in the fast loop (tests/support/fastloop.py).
UNTIL_STOPPED = {"rows-multiplied-filtered-away", "concat-exhausts-memory",
                 "property-path-filtered-away"}


@pytest.mark.parametrize("case", [
    pytest.param(c, id=c.name, marks=[pytest.mark.slow] if c.name in UNTIL_STOPPED else [])
    for c in CASES])
def test_hostile_patch_is_refused_and_changes_nothing(node: LocalNode, case: Case) -> None:
    iri = node.proposal if case.target == "proposal" else node.url("open/target")  # type: ignore[attr-defined]
    body = case.body.replace("{iri}", iri)
    content = body.encode("utf-8", "surrogateescape")
    with node.client() as http:
        before = state(http, iri)
        r = http.patch(iri, content=content,
                       headers={"Content-Type": case.media_type, **node.auth()})
        assert r.status_code in case.statuses, (r.status_code, r.text[:500])
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["status"] == r.status_code
        assert state(http, iri) == before
        assert_node_answers(node, http)


def test_a_patch_within_budget_still_applies(node: LocalNode) -> None:
    iri = node.url("open/target")
    with node.client() as http:
        r = http.patch(iri, content=f"DELETE {{ <#it> <{EX}p3> ?o }} INSERT {{ <#it> <{EX}p3> "
                                    f"\"changed\" }} WHERE {{ <#it> <{EX}p3> ?o }}",
                       headers={"Content-Type": SPARQL})
        assert r.status_code == 204, r.text
        r = http.patch(iri, content=N3_PREFIXES + "_:p a solid:InsertDeletePatch; "
                       "solid:where { ?s ex:p3 \"changed\". }; "
                       "solid:deletes { ?s ex:p3 \"changed\". }; "
                       "solid:inserts { ?s ex:p3 \"value number 3\". }.",
                       headers={"Content-Type": N3})
        assert r.status_code == 204, r.text
        assert state(http, iri)[1].count(b"value number") == 40


def test_the_solution_bound_is_a_setting(tmp_path: Path) -> None:
    with local_node(tmp_path, settings={"open_containers": "open/",
                                        "patch_solution_limit": 5}) as node, node.client() as http:
        assert http.put("open/r", content=OPEN_DOC,
                        headers={"Content-Type": "text/turtle"}).status_code == 201
        r = http.patch("open/r", content=f"INSERT {{ ?s <{EX}copy> ?o }} WHERE {{ ?s ?p ?o }}",
                       headers={"Content-Type": SPARQL})
        assert r.status_code == 422 and "patch_solution_limit" in r.json()["detail"]
        r = http.patch("open/r", content=f"INSERT {{ ?s <{EX}copy> ?o }} WHERE "
                       f"{{ ?s <{EX}p1> ?o }}", headers={"Content-Type": SPARQL})
        assert r.status_code == 204
