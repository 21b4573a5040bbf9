"""The explorer's search index (ddsnode/explorer/search.py): folding in four languages,
facets with counts, keyset paging, incremental replay, rebuild, privacy, peer copies.

The index is built from a real node's store (written through the HTTP write path, in
process) and its real peer cache (``PeerCache._store``: the parse, check and validation
a fetched peer document goes through, without a network).
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ddsnode.explorer.query import Limits, parse
from ddsnode.explorer.search import FILE, SearchIndex
from ddsnode.federation.hub import Federation
from ddsnode.outbound.address import normalise_origin
from tests.support.inprocess import LocalNode, local_node

DDS = "https://w3id.org/dds/ns#"
PEER = "https://peer.example/"
ORIGIN = normalise_origin(PEER)  # how the cache names the peer (scheme://host:port)

# (slug, language, title, body): one proposal per language, each with words the others
# lack, so that each query below must find exactly its own.
PROPOSALS = [
    ("fr-ecole", "fr", "Une nouvelle école pour le quartier",
     "Les écoles du quartier débordent ; les enfants traversent la rocade."),
    ("es-presupuesto", "es", "Presupuesto de participación ciudadana",
     "Las participaciones vecinales deciden el gasto del barrio."),
    ("ca-placa", "ca", "Una nova plaça per al barri",
     "Les places del barri no tenen ombra a l'estiu."),
    ("en-routes", "en", "Safer cycling routes to the station",
     "Cyclists ride between buses; protected lanes would help."),
]
# query -> slugs it must find (and nothing else among PROPOSALS)
FOLDING = [
    ("ecole", {"fr-ecole"}), ("ÉCOLE", {"fr-ecole"}), ("écoles", {"fr-ecole"}),
    ("ecoles", {"fr-ecole"}),
    ("participacion", {"es-presupuesto"}), ("PARTICIPACIÓN", {"es-presupuesto"}),
    ("participaciones", {"es-presupuesto"}),
    ("placa", {"ca-placa"}), ("plaça", {"ca-placa"}), ("places", {"ca-placa"}),
    ("cycling", {"en-routes"}), ("route", {"en-routes"}), ("cyclist", {"en-routes"}),
    ("quartier rocade", {"fr-ecole"}), ("quartier gare", set()),
    ('"école', {"fr-ecole"}), ("école*", {"fr-ecole"}), ("NEAR(a b)", set()),
]


def proposal(node: LocalNode, slug: str, lang: str, title: str, body: str,
             **extra: Any) -> tuple[str, bytes]:
    """A valid proposal (the school-streets example) with this id, title and body."""
    _, raw = node.example("a-proposal-school-streets")
    doc = json.loads(raw)
    doc["id"] = node.url(f"proposals/{slug}")
    doc["title"] = {lang: title}
    doc["body"] = {lang: body}
    doc.pop("machineTranslated", None)
    doc["place"]["id"] = doc["id"] + "#place"
    doc.update(extra)
    return doc["id"], json.dumps(doc).encode()


def put(http: httpx.Client, node: LocalNode, iri: str, body: bytes) -> None:
    node.put(http, iri, body)


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNode]:
    with local_node(tmp_path_factory.mktemp("explorer-search"),
                    settings={"private_containers": "private/"}) as running:
        with running.client() as http:
            for slug, lang, title, body in PROPOSALS:
                put(http, running, *proposal(running, slug, lang, title, body))
            secret = running.url("private/secret")
            r = http.put(secret, content=(
                f'<{secret}> a <{DDS}Proposal> ; <http://purl.org/dc/terms/title> '
                f'"Une école secrète"@fr .').encode(),
                headers={"Content-Type": "text/turtle", **running.auth()})
            assert r.status_code == 201, r.text
        yield running


def index_of(node: LocalNode) -> SearchIndex:
    core = node.app.node  # type: ignore[attr-defined]
    index = SearchIndex(node.dir, core.store, core.base, core.containers)
    index.sync()
    return index


def slugs(index: SearchIndex, **params: str) -> set[str]:
    results = index.search(parse(list(params.items()), Limits()))
    return {h.iri.rsplit("/", 1)[-1] for h in results.hits
            if "/proposals/" in h.iri and h.iri.rsplit("/", 1)[-1] in
            {p[0] for p in PROPOSALS}}


@pytest.mark.parametrize(("q", "expected"), FOLDING)
def test_accents_case_and_word_forms_fold(node: LocalNode, q: str, expected: set[str]) -> None:
    """ecole finds école, participacion participación, placa plaça; plurals their
    singular; FTS syntax in a query is just text (never an error)."""
    assert slugs(index_of(node), q=q) == expected


def test_private_resources_are_never_indexed(node: LocalNode) -> None:
    index = index_of(node)
    assert index.hit(node.url("private/secret")) is None
    found = index.search(parse([("q", "secrète")], Limits()))
    assert found.total == 0 and found.hits == []


def test_facet_counts_follow_the_filters(node: LocalNode) -> None:
    index = index_of(node)
    everything = index.search(parse([], Limits()))
    kinds = dict(everything.facets["kind"])
    assert kinds[DDS + "Proposal"] == len(PROPOSALS)
    languages = dict(everything.facets["language"])
    assert {languages[lang] for lang in ("fr", "es", "ca", "en")} == {1}
    spanish = index.search(parse([("language", "es")], Limits()))
    assert spanish.total == 1 and dict(spanish.facets["language"]) == {"es": 1}
    both = index.search(parse([("language", "es"), ("language", "ca")], Limits()))
    assert both.total == 2  # values of one facet: either; facets together: all
    none = index.search(parse([("language", "es"), ("kind", DDS + "Comment")], Limits()))
    assert none.total == 0 and none.hits == []
    topic = "https://w3id.org/dds/topic/mobility"
    assert dict(everything.facets["topic"])[topic] == len(PROPOSALS)
    assert dict(everything.facets["state"])["https://w3id.org/dds/state/evaluating"] == \
        len(PROPOSALS)


def test_date_range_and_bbox(node: LocalNode) -> None:
    index = index_of(node)
    assert index.search(parse([("from", "2026-03-12"), ("to", "2026-03-12")],
                              Limits())).total == len(PROPOSALS)
    assert index.search(parse([("from", "2026-03-13")], Limits())).total == 0
    assert index.search(parse([("bbox", "4,45,5,46")], Limits())).total == len(PROPOSALS)
    assert index.search(parse([("bbox", "-10,40,-9,41")], Limits())).total == 0


def test_keyset_pages_cover_every_result_once_both_ways(node: LocalNode) -> None:
    index = index_of(node)
    total = index.search(parse([], Limits())).total
    seen: list[str] = []
    pages = []
    cursor = None
    while True:
        pairs = [("size", "2")] + ([("cursor", cursor)] if cursor else [])
        page = index.search(parse(pairs, Limits()))
        pages.append(([h.iri for h in page.hits], page.prev))
        seen += [h.iri for h in page.hits]
        if page.next is None:
            break
        cursor = page.next
    assert len(seen) == len(set(seen)) == total and len(pages) == (total + 1) // 2
    assert pages[0][1] is None  # the first page has no previous page
    # Walking back with each page's previous cursor gives the page before it.
    for (before, _), (_, prev) in itertools.pairwise(pages):
        back = index.search(parse([("size", "2"), ("cursor", prev)], Limits()))
        assert [h.iri for h in back.hits] == before


def test_new_writes_are_indexed_without_a_rebuild(node: LocalNode) -> None:
    index = index_of(node)
    before = index.search(parse([], Limits())).total
    with node.client() as http:
        iri, body = proposal(node, "late-one", "fr", "Un jardin partagé", "Des potagers.")
        put(http, node, iri, body)
        assert index.sync() >= 1
        assert slugs_all(index, "jardins") == {iri}
        assert index.search(parse([], Limits())).total == before + 1
        assert http.delete(iri, headers=node.auth()).status_code == 204
    index.sync()
    assert slugs_all(index, "jardin") == set()
    assert index.search(parse([], Limits())).total == before


def slugs_all(index: SearchIndex, q: str) -> set[str]:
    return {h.iri for h in index.search(parse([("q", q)], Limits())).hits}


def test_a_missing_index_is_rebuilt(node: LocalNode, tmp_path: Path) -> None:
    index = index_of(node)
    expected = index.search(parse([], Limits()))
    index.close()
    for suffix in ("", "-wal", "-shm"):
        (node.dir / (FILE + suffix)).unlink(missing_ok=True)
    rebuilt = index_of(node)
    again = rebuilt.search(parse([], Limits()))
    assert [h.iri for h in again.hits] == [h.iri for h in expected.hits]
    assert again.total == expected.total and again.facets == expected.facets


def test_peer_copies_are_indexed_under_their_origin_iri(node: LocalNode) -> None:
    core = node.app.node  # type: ignore[attr-defined]
    cache = Federation.for_node(core).cache
    iri = PEER + "proposals/escola"
    _, raw = node.example("a-proposal-school-streets")
    doc = json.loads(raw.decode().replace(node.base, PEER))
    doc["id"], doc["title"] = iri, {"ca": "Camins escolars segurs"}
    doc["place"]["id"] = iri + "#place"
    cache._store(iri, ORIGIN, iri, json.dumps(doc).encode(), "application/ld+json",
                 None, None, 60.0, time.time())
    index = index_of(node)
    hit = index.hit(iri)
    assert hit is not None and hit.node == ORIGIN
    found = index.search(parse([("q", "cami"), ("node", ORIGIN)], Limits()))
    assert [h.iri for h in found.hits] == [iri]
    assert dict(index.search(parse([], Limits())).facets["node"])[ORIGIN] == 1
    assert cache.drop(iri)
    index.sync()
    assert index.hit(iri) is None


@pytest.mark.parametrize(("pairs", "why"), [
    ([("q", "x" * 201)], "longer than"),
    ([("q", " ".join(["mot"] * 13))], "more than"),
    ([("kind", str(i)) for i in range(11)], "more than"),
    ([("kind", "k" * 2049)], "longer than"),
    ([("size", "0")], "size"), ([("size", "101")], "size"), ([("size", "ten")], "size"),
    ([("from", "2026-13-01")], "date"), ([("to", "yesterday")], "date"),
    ([("from", "2026-05-01"), ("to", "2026-04-01")], "after"),
    ([("bbox", "1,2,3")], "bbox"), ([("bbox", "1,2,nan,4")], "bbox"),
    ([("bbox", "5,2,1,4")], "bbox"), ([("bbox", "1,2,3,400")], "bbox"),
    ([("cursor", "!!!")], "cursor"), ([("cursor", "eA")], "cursor"),
    ([("cursor", "x" * 300)], "cursor"),
])
def test_bad_queries_are_refused_with_the_reason(pairs: list[tuple[str, str]],
                                                 why: str) -> None:
    from ddsnode.problem import BadRequest
    with pytest.raises(BadRequest, match=why):
        parse(pairs, Limits())
