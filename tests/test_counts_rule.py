"""Issue 10 item 2: one rule for counts, every way in (docs/federation.md, "Counts").

A count a writer states (``supportCount`` in an HTTP PUT, as in a Decidim import) is the
source's total: it becomes the baseline, and the reactions the node verifies are added on
top (312 + 1 = 313). The verified support is recorded here through the functions
federation itself calls when it has verified a remote support (``ReactionLedger.record``
then ``Federation.recount``), on the same node directory the HTTP app serves.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ddsnode.assembly import assemble
from ddsnode.federation.hub import Federation
from ddsnode.settings import Settings
from tests.support.inprocess import LocalNode, local_node

JSONLD = "application/ld+json"
NT = "application/n-triples"
DDS = "https://w3id.org/dds/ns#"
PEER = "https://peer.example/"


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNode]:
    root: Path = tmp_path_factory.mktemp("counts")
    with local_node(root) as n:
        yield n


@pytest.fixture(scope="module")
def fed(node: LocalNode) -> Iterator[Federation]:
    assembly = assemble(Settings.load(node.dir))
    try:
        yield assembly.federation
    finally:
        asyncio.run(assembly.federation.client.aclose())
        assembly.close()


def _proposal(node: LocalNode, slug: str, **fields: object) -> tuple[str, bytes]:
    iri, body = node.example("a-proposal-protected-bike-lanes")
    doc = json.loads(body.replace(iri.encode(), node.url(f"proposals/{slug}").encode()))
    for key, value in fields.items():
        if value is None:
            doc.pop(key, None)
        else:
            doc[key] = value
    return node.url(f"proposals/{slug}"), json.dumps(doc).encode()


def _count(http: httpx.Client, iri: str, term: str = "supportCount") -> int | None:
    r = http.get(iri, headers={"Accept": NT})
    assert r.status_code == 200, r.text
    for line in r.text.splitlines():
        if line.startswith(f"<{iri}> <{DDS}{term}> "):
            return int(line.split('"')[1])
    return None


def _put(node: LocalNode, http: httpx.Client, iri: str, body: bytes,
         media_type: str = JSONLD) -> None:
    r = http.put(iri, content=body, headers={"Content-Type": media_type, **node.auth()})
    assert r.status_code in (200, 201, 204), r.text


def _verified_support(fed: Federation, target: str, n: int) -> None:
    """What federation does once it has dereferenced a remote support from its peer."""
    if fed.ledger.record(f"{PEER}reactions/s-{n}", f"{PEER}participants/p-{n}", target,
                         "support", PEER):
        fed.recount(target)


@pytest.mark.parametrize("platform", ["https://decidim.rivemont.example/", None],
                         ids=["imported-from-a-platform", "written-by-hand"])
def test_a_stated_total_is_the_baseline_of_verified_supports(
        node: LocalNode, fed: Federation, platform: str | None) -> None:
    slug = "stated-" + ("platform" if platform else "hand")
    iri, body = _proposal(node, slug, supportCount=312, sourcePlatform=platform)
    with node.client() as http:
        _put(node, http, iri, body)
        assert _count(http, iri) == 312
        _verified_support(fed, iri, 1)
        assert _count(http, iri) == 313


def test_the_rule_holds_for_every_later_write(node: LocalNode, fed: Federation) -> None:
    iri, body = _proposal(node, "later", supportCount=312)
    with node.client() as http:
        _put(node, http, iri, body)
        _verified_support(fed, iri, 10)
        assert _count(http, iri) == 313
        # The same total stated again (a re-import, a client re-sending its document).
        _put(node, http, iri, body)
        assert _count(http, iri) == 313
        # A round trip of what the node serves (313) does not count the support twice.
        _put(node, http, iri, http.get(iri, headers={"Accept": "text/turtle"}).content,
             "text/turtle")
        assert _count(http, iri) == 313
        # A document without counts keeps the node's.
        _, bare = _proposal(node, "later", supportCount=None)
        _put(node, http, iri, bare)
        assert _count(http, iri) == 313
        # The source states a new total: it is the new baseline, verified supports on top.
        _, restated = _proposal(node, "later", supportCount=400)
        _put(node, http, iri, restated)
        assert _count(http, iri) == 401
        _verified_support(fed, iri, 11)
        assert _count(http, iri) == 402
