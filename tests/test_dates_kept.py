"""Issue 10 item 3: a resource's own dates (and publisher) are data, kept as sent.

The node adds ``dct:created`` at the first write, ``dct:modified`` at each write and
``dct:publisher`` only when the client gives none; its own times are the record's
(Last-Modified). A client's value is never replaced.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx
import pytest
import rdflib

from tests.support.inprocess import LocalNode, local_node

JSONLD = "application/ld+json"
NT = "application/n-triples"
DCT = rdflib.Namespace("http://purl.org/dc/terms/")
XSD_DT = "http://www.w3.org/2001/XMLSchema#dateTime"


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNode]:
    root: Path = tmp_path_factory.mktemp("dates")
    with local_node(root) as n:
        yield n


def _proposal(node: LocalNode, slug: str, **fields: object) -> tuple[str, bytes]:
    iri, body = node.example("a-proposal-quai-bike-lane")
    doc = json.loads(body.replace(iri.encode(), node.url(f"proposals/{slug}").encode()))
    for key, value in fields.items():
        if value is None:
            doc.pop(key, None)
        else:
            doc[key] = value
    return node.url(f"proposals/{slug}"), json.dumps(doc).encode()


def _values(http: httpx.Client, iri: str, predicate: rdflib.URIRef) -> list[str]:
    r = http.get(iri, headers={"Accept": NT})
    assert r.status_code == 200, r.text
    return sorted(line.split(" ", 2)[2].rsplit(" .", 1)[0] for line in r.text.splitlines()
                  if line.startswith(f"<{iri}> <{predicate}> "))


def _put(node: LocalNode, http: httpx.Client, iri: str, body: bytes) -> httpx.Response:
    return http.put(iri, content=body, headers={"Content-Type": JSONLD, **node.auth()})


#: (field, value as sent, predicate): each kept with its exact lexical form.
SENT = [
    ("created", "2019-03-04T21:17:09+01:00", DCT.created),
    ("created", "2019-03-04T20:17:09Z", DCT.created),
    ("created", "2019-03-04T20:17:09.250Z", DCT.created),
    ("modified", "2020-01-02T03:04:05-05:00", DCT.modified),
    ("published", "2019-03-05T08:00:00Z", DCT.issued),
]


@pytest.mark.parametrize("field,value,predicate", SENT, ids=[f"{f}-{v}" for f, v, _ in SENT])
def test_a_clients_date_is_kept_exactly(node: LocalNode, field: str, value: str,
                                        predicate: rdflib.URIRef) -> None:
    slug = f"d-{field}-{SENT.index((field, value, predicate))}"
    iri, body = _proposal(node, slug, **{field: {"@value": value, "@type": XSD_DT}})
    with node.client() as http:
        r = _put(node, http, iri, body)
        assert r.status_code == 201, r.text
        assert _values(http, iri, predicate) == [f'"{value}"^^<{XSD_DT}>']
        # The record's own time is the node's clock, not the client's date.
        last = parsedate_to_datetime(http.get(iri).headers["Last-Modified"])
        assert last.year >= 2026
        # Written again, unchanged: still the client's value, once.
        assert _put(node, http, iri, body).status_code in (200, 204)
        assert _values(http, iri, predicate) == [f'"{value}"^^<{XSD_DT}>']


def test_the_node_adds_dates_only_when_none_are_sent(node: LocalNode) -> None:
    iri, body = _proposal(node, "no-dates", created=None, modified=None, publisher=None)
    with node.client() as http:
        assert _put(node, http, iri, body).status_code == 201
        created = _values(http, iri, DCT.created)
        assert len(created) == 1 and len(_values(http, iri, DCT.modified)) == 1
        assert _values(http, iri, DCT.publisher) == [f"<{node.base}>"]
        # A second write keeps the first write's creation date.
        assert _put(node, http, iri, body).status_code in (200, 204)
        assert _values(http, iri, DCT.created) == created
        assert len(_values(http, iri, DCT.modified)) == 1


def test_a_round_trip_keeps_one_modified_date(node: LocalNode) -> None:
    """A client that reads the node's stamped dct:modified and writes it back does not
    freeze it: the node recognises its own stamp and refreshes it (never two values)."""
    iri, body = _proposal(node, "round-trip", created=None, modified=None)
    with node.client() as http:
        assert _put(node, http, iri, body).status_code == 201
        turtle = http.get(iri, headers={"Accept": "text/turtle"}).content
        r = http.put(iri, content=turtle, headers={"Content-Type": "text/turtle", **node.auth()})
        assert r.status_code in (200, 204), r.text
        assert len(_values(http, iri, DCT.modified)) == 1
        assert len(_values(http, iri, DCT.created)) == 1


def test_a_patch_keeps_the_clients_creation_date(node: LocalNode) -> None:
    sent = "2018-06-07T10:00:00+02:00"
    iri, body = _proposal(node, "patched", created={"@value": sent, "@type": XSD_DT})
    with node.client() as http:
        assert _put(node, http, iri, body).status_code == 201
        state = "https://w3id.org/dds/ns#platformState"
        patch = (f'DELETE {{ <{iri}> <{state}> ?s }} INSERT {{ <{iri}> <{state}> "evaluating" }}'
                 f' WHERE {{ <{iri}> <{state}> ?s }}')
        r = http.patch(iri, content=patch.encode(),
                       headers={"Content-Type": "application/sparql-update", **node.auth()})
        assert r.status_code in (200, 204), r.text
        assert _values(http, iri, DCT.created) == [f'"{sent}"^^<{XSD_DT}>']


def test_a_clients_publisher_is_kept(node: LocalNode) -> None:
    operator = "https://participa.rivemont.example/organisations/metropole-rivemont"
    iri, body = _proposal(node, "publisher", publisher=operator)
    with node.client() as http:
        r = _put(node, http, iri, body)
        if r.status_code == 422:  # the shapes decide what a publisher may be, not the node
            pytest.skip("the example's shapes refuse this publisher")
        assert r.status_code == 201, r.text
        assert _values(http, iri, DCT.publisher) == [f"<{operator}>"]
