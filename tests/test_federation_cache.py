"""The peer cache: authority, quarantine, RFC 9111 revalidation, stale-if-error, bounds.

The peer is an ``httpx.MockTransport`` (tests/support/mock_peer.py) because it misbehaves
in ways a real node will not: redirects to loopback or to another origin, 503s, invalid
data, triples about other origins.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from ddsnode.federation.cache import NotAuthoritative, PeerCache, Quarantined
from ddsnode.federation.database import FederationDB
from ddsnode.ldp.containers import ContainerRegistry
from ddsnode.outbound import OutboundRefused
from ddsnode.problem import Gone
from tests.support.mock_peer import mock_client

PEER = "http://peer.test/"
IRI = PEER + "proposals/p1"
CONTEXT = "https://w3id.org/dds/context/v1"


def _proposal(iri: str = IRI, title: str = "Shade trees on the quay", **extra: object) -> bytes:
    doc = {"@context": CONTEXT, "id": iri, "type": "Proposal", "title": {"en": title},
           "state": "evaluating", "created": "2026-03-12T07:58:30Z", **extra}
    return json.dumps(doc).encode()


def _cache(tmp_path: Path, answer: Callable[[httpx.Request], httpx.Response],
           **kwargs: int) -> tuple[PeerCache, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    client = mock_client(answer, seen, allowed_origins={"http://peer.test:80"})
    return PeerCache(FederationDB(tmp_path), client, ContainerRegistry(), **kwargs), seen


def _ld(body: bytes, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, content=body,
                          headers={"Content-Type": "application/ld+json", **headers})


def test_etag_revalidation_costs_a_304(tmp_path: Path) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.headers.get("if-none-match") == '"v1"':
            return httpx.Response(304, headers={"ETag": '"v1"'})
        return _ld(_proposal(), ETag='"v1"', **{"Cache-Control": "max-age=60"})

    cache, seen = _cache(tmp_path, answer)
    entry = asyncio.run(cache.fetch(IRI, learned=True))
    assert entry.title == "Shade trees on the quay" and entry.container == "proposals/"
    assert entry.fresh and entry.max_age == 60
    again_fresh = asyncio.run(cache.fetch(IRI, learned=True))
    assert again_fresh == entry and len(seen) == 1  # fresh: no request
    again = asyncio.run(cache.fetch(IRI, revalidate=True, learned=True))
    assert len(seen) == 2 and seen[1].headers["if-none-match"] == '"v1"'
    assert again.ntriples == entry.ntriples


def test_stale_if_error_then_gone(tmp_path: Path) -> None:
    state = {"status": 200}

    def answer(request: httpx.Request) -> httpx.Response:
        return _ld(_proposal(), state["status"]) if state["status"] == 200 else \
            httpx.Response(state["status"])

    cache, _ = _cache(tmp_path, answer)
    asyncio.run(cache.fetch(IRI, learned=True))
    state["status"] = 503
    stale = asyncio.run(cache.fetch(IRI, revalidate=True, learned=True))
    assert stale.stale_error and "503" in stale.stale_error
    state["status"] = 410
    with pytest.raises(Gone):
        asyncio.run(cache.fetch(IRI, revalidate=True, learned=True))
    assert cache.get(IRI) is None


def test_invalid_data_is_quarantined_with_its_report(tmp_path: Path) -> None:
    bad = json.dumps({"@context": CONTEXT, "id": IRI, "type": "Proposal",
                      "state": "no-such-state"}).encode()
    cache, _ = _cache(tmp_path, lambda r: _ld(bad))
    with pytest.raises(Quarantined):
        asyncio.run(cache.fetch(IRI, learned=True))
    assert cache.get(IRI) is None
    held = cache.get(IRI, quarantined=True)
    assert held is not None and held.status == "quarantined" and "errors" in (held.report or "")


def test_triples_about_other_origins_are_not_kept(tmp_path: Path) -> None:
    other = "http://elsewhere.test/proposals/x"
    doc = json.loads(_proposal())
    body = json.dumps({"@context": CONTEXT, "@graph": [
        {k: v for k, v in doc.items() if k != "@context"},
        {"id": other, "supportCount": 9999}]}).encode()
    cache, _ = _cache(tmp_path, lambda r: _ld(body))
    entry = asyncio.run(cache.fetch(IRI, learned=True))
    assert other not in entry.ntriples and IRI in entry.ntriples


def test_an_answer_from_another_origin_is_not_kept(tmp_path: Path) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.host == "peer.test":
            return httpx.Response(302, headers={"Location": "http://elsewhere.test/p1"})
        return _ld(_proposal())

    cache, seen = _cache(tmp_path, answer)
    with pytest.raises(NotAuthoritative):
        asyncio.run(cache.fetch(IRI, learned=True))
    assert cache.get(IRI, quarantined=True) is None and len(seen) == 2


def test_a_redirect_to_loopback_is_refused_without_connecting(tmp_path: Path) -> None:
    cache, seen = _cache(tmp_path, lambda r: httpx.Response(
        302, headers={"Location": "http://127.0.0.1:9/steal"}))
    with pytest.raises(OutboundRefused):
        asyncio.run(cache.fetch(IRI, learned=True))
    assert [str(r.url) for r in seen] == [IRI]


def test_the_cache_is_bounded(tmp_path: Path) -> None:
    cache, _ = _cache(tmp_path, lambda r: _ld(_proposal(str(r.url))), max_entries=2)
    for n in range(3):
        asyncio.run(cache.fetch(f"{PEER}proposals/p{n}", learned=True))
    assert cache.count() == 2 and cache.get(f"{PEER}proposals/p0") is None
