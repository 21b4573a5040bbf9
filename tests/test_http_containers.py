"""Containers over HTTP: the root description and type index, discovery, paging, filters (an
in-process node, tests/support/inprocess.py)."""

from __future__ import annotations

import json
import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from email.utils import parsedate_to_datetime

import httpx
import pytest
import rdflib
import rdflib.compare

from ddsnode.ldp.containers import ContainerRegistry, unresolved_terms
from ddsnode.rdf.vocab import DDS
from tests.support.inprocess import (  # noqa: F401 (the "node" and "http" fixtures)
    LocalNode,
    module_node,
    node_client,
)
from tests.support.rdf import parse_rdf

LDP = rdflib.Namespace("http://www.w3.org/ns/ldp#")
SOLID = rdflib.Namespace("http://www.w3.org/ns/solid/terms#")
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
DCT = rdflib.Namespace("http://purl.org/dc/terms/")
PIM = rdflib.Namespace("http://www.w3.org/ns/pim/space#")
TURTLE = {"Accept": "text/turtle"}




def turtle(http: httpx.Client, url: str, **headers: str) -> rdflib.Graph:
    response = http.get(url, headers={**TURTLE, **headers})
    assert response.status_code == 200, response.text
    return parse_rdf(response.content, "turtle", base=url)


def members(http: httpx.Client, url: str) -> list[str]:
    graph = turtle(http, url)
    return sorted(str(o) for o in graph.objects(rdflib.URIRef(url.split("?")[0]), LDP.contains))


def links(response: httpx.Response) -> dict[str, str]:
    """rel -> target of the Link headers."""
    out: dict[str, str] = {}
    for value in response.headers.get_list("link"):
        for target, rel in re.findall(r'<([^>]*)>;\s*rel="([^"]*)"', value):
            out.setdefault(rel, target)
    return out


def test_the_container_table_matches_the_ontology() -> None:
    assert unresolved_terms() == []


def test_root_describes_the_node_with_a_type_index(node: LocalNode, http: httpx.Client) -> None:
    root = rdflib.URIRef(node.base)
    graph = turtle(http, node.base)
    types = set(graph.objects(root, rdflib.RDF.type))
    assert {LDP.BasicContainer, LDP.Container, PIM.Storage, DCAT.DataService,
            SOLID.TypeIndex} <= types
    assert (root, DCT.license, None) in graph
    operator = graph.value(root, DCT.publisher)
    assert operator is not None
    assert str(graph.value(operator, rdflib.FOAF.name)) == "Ville de Rivemont"
    assert (root, DCT.conformsTo, rdflib.URIRef("https://w3id.org/dds/ns/0.1.0")) in graph \
        or (root, DCT.conformsTo, rdflib.URIRef("https://w3id.org/dds/ns")) in graph
    registration = next(graph.subjects(SOLID.forClass, DDS.Proposal))
    assert (registration, rdflib.RDF.type, SOLID.TypeRegistration) in graph
    assert graph.value(registration, SOLID.instanceContainer) == \
        rdflib.URIRef(node.url("proposals/"))
    contained = set(graph.objects(root, LDP.contains))
    for container in ContainerRegistry(open_containers="open/"):
        assert rdflib.URIRef(node.url(container.path)) in contained
    response = http.get(node.base)
    assert links(response)["type"]
    assert '<http://www.w3.org/ns/pim/space#Storage>; rel="type"' in response.headers["link"]


def test_well_known_storage_description_and_void(node: LocalNode, http: httpx.Client) -> None:
    response = http.get(node.base)
    described = links(response)["http://www.w3.org/ns/solid/terms#storageDescription"]
    assert described == node.url(".well-known/solid")
    solid = turtle(http, described)
    assert (rdflib.URIRef(node.base), rdflib.RDF.type, PIM.Storage) in solid
    void = turtle(http, node.url(".well-known/void"))
    sparql = rdflib.URIRef("http://rdfs.org/ns/void#sparqlEndpoint")
    assert (None, sparql, rdflib.URIRef(node.url("sparql"))) in void
    assert http.post(node.url(".well-known/void")).status_code == 405


def test_container_lists_members_with_type_and_title(node: LocalNode, http: httpx.Client) -> None:
    iri, body = node.example("a-proposal-school-streets")
    http.put(iri, content=body, headers={"Content-Type": "application/ld+json", **node.auth()})
    graph = turtle(http, node.url("proposals/?limit=200"))
    member = rdflib.URIRef(iri)
    assert (rdflib.URIRef(node.url("proposals/")), LDP.contains, member) in graph
    assert (member, rdflib.RDF.type, DDS.Proposal) in graph
    assert graph.value(member, DCT.title) is not None


def _fill(node: LocalNode, http: httpx.Client, container: str, count: int) -> list[str]:
    def one(i: int) -> str:
        url = node.url(f"{container}item-{i:04d}.ttl")
        r = http.put(url, content=f"<#it> <#n> {i} .".encode(),
                     headers={"Content-Type": "text/turtle"}, timeout=60)
        assert r.status_code == 201, r.text
        return url

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(count)))


def test_paging_through_300_members_has_no_gaps_or_duplicates(node: LocalNode,
                                                              http: httpx.Client) -> None:
    container = f"open/paging-{uuid.uuid4().hex[:6]}/"
    expected = _fill(node, http, container, 300)
    seen: list[str] = []
    url: str | None = node.url(container + "?limit=40")
    pages = 0
    while url:
        response = http.get(url, headers=TURTLE)
        assert response.status_code == 200
        rels = links(response)
        assert rels["first"] == node.url(container + "?limit=40")
        graph = parse_rdf(response.content, "turtle")
        page = [str(o) for o in graph.objects(rdflib.URIRef(node.url(container)), LDP.contains)]
        assert len(page) <= 40
        seen += page
        url = rels.get("next")
        pages += 1
    assert pages == 8
    assert len(seen) == len(set(seen)) == 300
    assert sorted(seen) == sorted(expected)


def test_prev_links_walk_back_over_the_same_pages(node: LocalNode, http: httpx.Client) -> None:
    container = f"open/back-{uuid.uuid4().hex[:6]}/"
    _fill(node, http, container, 95)

    def page(url: str) -> tuple[list[str], dict[str, str]]:
        response = http.get(url, headers=TURTLE)
        assert response.status_code == 200
        graph = parse_rdf(response.content, "turtle")
        return sorted(str(o) for o in graph.objects(rdflib.URIRef(node.url(container)),
                                                     LDP.contains)), links(response)

    forward: list[list[str]] = []
    url: str | None = node.url(container + "?limit=20")
    while url:
        items, rels = page(url)
        assert ("prev" in rels) == bool(forward)  # the first page has none
        forward.append(items)
        url = rels.get("next")
    assert len(forward) == 5
    backward: list[list[str]] = []
    url = rels.get("prev")
    while url:
        assert "limit=20" in url
        items, rels = page(url)
        backward.append(items)
        url = rels.get("prev")
    assert backward == list(reversed(forward[:-1]))


def test_a_container_page_is_as_recent_as_its_latest_member(node: LocalNode,
                                                            http: httpx.Client) -> None:
    container = f"open/dated-{uuid.uuid4().hex[:6]}/"
    _fill(node, http, container, 2)
    url = node.url(container)
    response = http.get(url, headers=TURTLE)
    modified = response.headers["last-modified"]
    assert http.get(url, headers={**TURTLE, "If-Modified-Since": modified}).status_code == 304
    time.sleep(1.1)  # HTTP dates have one-second resolution (RFC 9110 5.6.7)
    member = url + "item-0000.ttl"
    assert http.put(member, content=b"<#it> <#n> 42 .",
                    headers={"Content-Type": "text/turtle"}).status_code == 204
    again = http.get(url, headers={**TURTLE, "If-Modified-Since": modified})
    assert again.status_code == 200  # a member changed, so the container did
    assert parsedate_to_datetime(again.headers["last-modified"]) > \
        parsedate_to_datetime(modified)
    assert again.headers["last-modified"] == http.get(member).headers["last-modified"]


def test_page_size_is_bounded(node: LocalNode, http: httpx.Client) -> None:
    response = http.get(node.url("proposals/?limit=100000"))
    assert response.status_code == 400
    assert http.get(node.url("proposals/?limit=0")).status_code == 400
    assert http.get(node.url("proposals/?cursor=%%%")).status_code == 400


@pytest.fixture(scope="module")
def filtered(node: LocalNode) -> dict[str, str]:
    """Three proposals that differ in state, topic, area, place, platform, date and text."""
    base, body = node.example("a-proposal-protected-bike-lanes")
    template = json.loads(body)
    tag = uuid.uuid4().hex[:8]
    variants = {
        "north": {"state": "accepted", "topic": ["ddstopic:mobility"], "lat": 45.9, "long": 4.9,
                  "published": "2026-01-10T10:00:00Z", "platform": "https://decidim.a.example/",
                  "word": "cycling"},
        "south": {"state": "rejected", "topic": ["ddstopic:environment"], "lat": 44.1,
                  "long": 3.1, "published": "2026-06-10T10:00:00Z",
                  "platform": "https://consul.b.example/", "word": "trees"},
        "east": {"state": "accepted", "topic": ["ddstopic:environment"], "lat": 45.5,
                 "long": 6.5, "published": "2026-09-01T10:00:00Z",
                 "platform": "https://decidim.a.example/", "word": "benches"},
    }
    iris = {}
    with node.client() as http:
        for name, v in variants.items():
            iri = node.url(f"proposals/filter-{tag}-{name}")
            doc = json.loads(json.dumps(template).replace(base, iri))
            doc.update(state=v["state"], topic=v["topic"], published=v["published"],
                       sourcePlatform=v["platform"])
            doc["title"] = {"en": f"{tag} about {v['word']}"}
            doc["place"]["lat"], doc["place"]["long"] = v["lat"], v["long"]
            doc["place"]["inArea"] = node.url(f"places/area-{tag}-{name}")
            r = http.put(iri, content=json.dumps(doc).encode(),
                         headers={"Content-Type": "application/ld+json", **node.auth()})
            assert r.status_code == 201, r.text
            iris[name] = iri
    iris["tag"] = tag
    return iris


def _names(node: LocalNode, http: httpx.Client, filtered: dict[str, str], query: str) -> set[str]:
    found = members(http, node.url(f"proposals/?limit=200&{query}"))
    return {name for name, iri in filtered.items() if name != "tag" and iri in found}


@pytest.mark.parametrize("query,expected", [
    ("state=accepted", {"north", "east"}),
    ("state=https://w3id.org/dds/state/rejected", {"south"}),
    ("topic=ddstopic:environment", {"south", "east"}),
    ("topic=mobility", {"north"}),
    ("type=Proposal", {"north", "south", "east"}),
    ("type=dds:Comment", set()),
    ("platform=https://consul.b.example/", {"south"}),
    ("bbox=4,45,5,46", {"north"}),
    ("bbox=3,44,7,46", {"north", "south", "east"}),
    ("from=2026-05-01", {"south", "east"}),
    ("to=2026-06-30", {"north", "south"}),
    ("from=2026-05-01&to=2026-06-30", {"south"}),
    ("state=accepted&topic=ddstopic:environment", {"east"}),
])
def test_each_filter(node: LocalNode, http: httpx.Client, filtered: dict[str, str], query: str,
                     expected: set[str]) -> None:
    assert _names(node, http, filtered, query) == expected


def test_area_and_text_filters(node: LocalNode, http: httpx.Client,
                               filtered: dict[str, str]) -> None:
    tag = filtered["tag"]
    area = node.url(f"places/area-{tag}-south")
    assert _names(node, http, filtered, f"area={area}") == {"south"}
    assert _names(node, http, filtered, "q=benches") == {"east"}
    assert _names(node, http, filtered, f"q={tag}") == {"north", "south", "east"}


@pytest.mark.parametrize("query", ["bbox=1,2,3", "bbox=5,45,4,46", "from=yesterday",
                                   "type=nope:Thing", "colour=red", "limit=1&limit=2"])
def test_bad_filters_are_400(node: LocalNode, http: httpx.Client, query: str) -> None:
    response = http.get(node.url(f"proposals/?{query}"))
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


def test_next_link_keeps_the_filters(node: LocalNode, http: httpx.Client,
                                     filtered: dict[str, str]) -> None:
    response = http.get(node.url("proposals/?state=accepted&limit=1"), headers=TURTLE)
    nxt = links(response)["next"]
    assert "state=accepted" in nxt and "cursor=" in nxt and "limit=1" in nxt


@pytest.mark.parametrize("container", ["proposals/?limit=5", "open/", ""])
def test_container_pages_round_trip_in_every_format(node: LocalNode, http: httpx.Client,
                                                    container: str) -> None:
    url = node.url(container)
    base = url.split("?")[0]
    reference = parse_rdf(http.get(url, headers={"Accept": "application/n-triples"}).content,
                          "nt")
    assert (rdflib.URIRef(base), rdflib.RDF.type, LDP.BasicContainer) in reference
    for accept, fmt in (("text/turtle", "turtle"), ("application/ld+json", "json-ld"),
                        ('application/ld+json;profile="http://www.w3.org/ns/json-ld#expanded"',
                         "json-ld")):
        got = parse_rdf(http.get(url, headers={"Accept": accept}).content, fmt, base=base)
        assert rdflib.compare.isomorphic(got, reference), accept
    html = http.get(url, headers={"Accept": "text/html"})
    # A browser at the root gets the explorer's home (docs/explorer.md), and at a
    # container its members as cards (the explorer's container page), not a triple table.
    members = 'action="/explore"' if container == "" else 'id="result-count"'
    assert html.status_code == 200 and members in html.text
