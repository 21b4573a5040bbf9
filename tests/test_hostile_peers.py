"""Hostile peers and strangers at the federation endpoints (issue 9, items 1, 5, 16;
issue 10, item 5).

One node runs in this process (tests/support/inprocess.py); its peer is a fake node on
127.0.0.1 (tests/support/fake_peer.py) that records every request it receives, so each
case can show that the node sent no request, or a bounded number. Every case also shows
that nothing was cached as valid and that the node still answers: a read of a local
resource and a ``/sparql`` query succeed.

Peer documents are ingested through the node's own federation runtime, on the app's event
loop (``Peered.ingest``), exactly as a notification or a feed item makes it happen, so
the test knows when the ingest has ended without polling.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.support.cluster import wait_for
from tests.support.peered import Peered, peered

CONTEXT = "https://w3id.org/dds/context/v1"
PROBLEM = "application/problem+json"
# Readers never drive revalidation in these tests (peered() reads the feed once), and
# documents above 256 KiB are refused, so every request the fake peer sees is one a case
# caused.
SETTINGS = {"peer_revalidate_seconds": 600.0, "peer_max_document_bytes": 256 * 1024,
            "jsonld_max_values": 50_000}


@pytest.fixture(scope="module")
def peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Peered]:
    with peered(tmp_path_factory.mktemp("hostile-peers"), **SETTINGS) as p:
        yield p


def _problem(response: httpx.Response, *statuses: int) -> dict[str, Any]:
    assert response.status_code in statuses, (response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == response.status_code
    return body


def _proposal(iri: str, **extra: Any) -> dict[str, Any]:
    return {"@context": CONTEXT, "id": iri, "type": "Proposal",
            "title": {"en": "Shade trees on the quay"}, "state": "evaluating",
            "created": "2026-03-12T07:58:30Z", **extra}


# --- strangers: /federation/resource only serves what federation learned ----------------

STRANGER_IRIS = [  # (iri, with {peer} the fake's base; expected status)
    ("{peer}proposals/never-announced", 404),
    ("{peer}proposals/p1?page=2&sort=desc", 404),
    ("{peer}feed?after=0", 404),
    ("{peer}inbox", 404),
    ("{peer}", 404),  # its description
    ("{peer}#main-key", 404),
    ("{peer}%2e%2e/%2e%2e/admin?delete=all", 404),
    ("{peer}proposals/known?x=1", 404),  # a learned IRI with a query of one's choosing
    ("{peer}proposals/known/child", 404),
    ("http://169.254.169.254/latest/meta-data/", 404),
    ("http://127.0.0.1:9/private", 404),
    ("{peer}" + "a" * 5000, 400),
    ("not an iri", 400),
    ("", 400),
]


@pytest.mark.parametrize(("template", "status"), STRANGER_IRIS,
                         ids=[t[:40] for t, _ in STRANGER_IRIS])
def test_a_stranger_cannot_make_the_node_fetch(peer: Peered, template: str,
                                               status: int) -> None:
    known = peer.fake.serve("/proposals/known", json.dumps(
        _proposal(peer.fake.base + "proposals/known")).encode())
    if peer.fed.cache.get(known) is None:
        assert peer.ingest(known) == "fetched"
    before = list(peer.fake.requests)
    cached = peer.fed.cache.count() + peer.fed.cache.count("quarantined")
    iri = template.replace("{peer}", peer.fake.base)
    response = peer.http.get("/federation/resource", params={"iri": iri},
                             headers={"Accept": "text/turtle"})
    _problem(response, status)
    # /trace dereferences through the same cache: a stranger's IRI is walked as
    # unavailable, never fetched.
    traced = peer.http.get("/trace", params={"iri": iri},
                           headers={"Accept": "application/ld+json"})
    assert traced.status_code in (200, 400, 404), traced.text[:500]
    assert peer.fake.requests == before  # not one request to the peer
    assert peer.fed.cache.count() + peer.fed.cache.count("quarantined") == cached
    peer.answers()


def test_reading_a_learned_resource_does_not_drive_requests(peer: Peered) -> None:
    iri = peer.fake.serve("/proposals/read-often", json.dumps(
        _proposal(peer.fake.base + "proposals/read-often")).encode())
    assert peer.ingest(iri) == "fetched"
    for _ in range(25):  # stale at once (no Cache-Control), yet no revalidation per read
        assert peer.http.get("/federation/resource", params={"iri": iri},
                             headers={"Accept": "text/turtle"}).status_code == 200
    assert peer.fake.gets("/proposals/read-often") == 1
    peer.answers()


# --- forged signatures: a bounded number of key refetches ---------------------------------

FORGERIES = [  # (what, keyid fragment, signing key: None = a stranger's)
    ("another key under the peer's key IRI", "main-key"),
    ("an unknown key IRI on the peer", "other-key"),
]


@pytest.mark.parametrize(("what", "fragment"), FORGERIES, ids=[f[0] for f in FORGERIES])
def test_forged_signatures_cause_a_bounded_number_of_key_refetches(
        peer: Peered, what: str, fragment: str) -> None:
    inbox = peer.node.url("inbox")
    stranger = Ed25519PrivateKey.generate()
    described = peer.fake.gets("/")
    for n in range(20):
        activity = {"id": f"{peer.fake.base}feed#forged-{fragment}-{n}", "type": "Create",
                    "actor": peer.fake.base, "object": peer.fake.base + "proposals/x"}
        body, headers = peer.fake.signed(inbox, activity, key=stranger)
        if fragment != "main-key":
            headers["Signature-Input"] = headers["Signature-Input"].replace(
                "#main-key", "#" + fragment)
        _problem(peer.http.post("/inbox", content=body, headers=headers), 401)
    # At most one description fetch per peer per peer_key_refetch_seconds (60 s here).
    assert peer.fake.gets("/") - described <= 1, what
    assert peer.fed.cache.get(peer.fake.base + "proposals/x", quarantined=True) is None
    peer.answers()


@pytest.mark.parametrize("headers", [{}, {"Signature": "dds=:AAAA:"},
                                     {"Signature-Input": 'dds=("@method");keyid="x"',
                                      "Signature": "dds=:AAAA:"}],
                         ids=["unsigned", "signature-only", "bad-signature"])
def test_an_unsigned_notification_gets_a_401_that_explains_signatures(
        peer: Peered, headers: dict[str, str]) -> None:
    activity = {"id": peer.fake.base + "feed#x", "type": "Create", "actor": peer.fake.base,
                "object": peer.fake.base + "proposals/y"}
    response = peer.http.post("/inbox", content=json.dumps(activity).encode(),
                              headers={"Content-Type": "application/ld+json", **headers})
    problem = _problem(response, 401)
    assert "RFC 9421" in problem["detail"] and "docs/federation.md#signed-notifications" in \
        problem["detail"]
    assert problem["documentation"] == "docs/federation.md#signed-notifications"
    assert "@target-uri" in response.headers["accept-signature"]
    assert response.headers["www-authenticate"]
    assert peer.fed.cache.get(peer.fake.base + "proposals/y", quarantined=True) is None
    peer.answers()


def _activity(**fields: object) -> bytes:
    base = {"id": "{base}feed#n-{n}", "type": "Create", "actor": "{base}",
            "object": "{base}proposals/never-fetched"}
    return json.dumps({**base, **fields}).encode()


SIGNED_NOTIFICATIONS = [  # (name, body with {base} the peer's and {n} a counter, status)
    ("not JSON", b"{not json", 400),
    ("JSON nested 100,000 deep", b"[" * 100_000 + b"]" * 100_000, 400),
    ("a JSON array", b"[]", 400),
    ("no id", json.dumps({"type": "Create", "actor": "{base}"}).encode(), 400),
    ("an id that is a number", _activity(id=5), 400),
    ("an unknown type", _activity(type="Burn"), 400),
    ("an actor on another origin", _activity(actor="https://elsewhere.example/"), 403),
    ("an id on another origin", _activity(id="https://elsewhere.example/feed#1"), 403),
    ("an object on another origin", _activity(object="http://169.254.169.254/x"), 403),
    ("an object that is no IRI", _activity(object={"id": 12}), 403),
    ("larger than inbox_max_bytes", _activity(summary="x" * 300_000), 413),
]


@pytest.mark.parametrize(("name", "body", "status"), SIGNED_NOTIFICATIONS,
                         ids=[n[0] for n in SIGNED_NOTIFICATIONS])
def test_a_malformed_signed_notification_is_refused(peer: Peered, name: str, body: bytes,
                                                    status: int) -> None:
    inbox = peer.node.url("inbox")
    body = body.replace(b"{base}", peer.fake.base.encode()).replace(
        b"{n}", str(len(peer.fake.requests)).encode())
    before = list(peer.fake.requests)
    response = peer.http.post("/inbox", content=body,
                              headers=peer.fake.sign_bytes(inbox, body))
    _problem(response, status)
    assert peer.fake.requests == before  # nothing fetched because of it
    assert peer.fed.cache.get(peer.fake.base + "proposals/never-fetched",
                              quarantined=True) is None
    peer.answers()


def test_the_inbox_says_what_it_accepts_and_lists_without_remote_context(peer: Peered) -> None:
    options = peer.http.options("/inbox")
    assert options.status_code == 204
    assert "application/ld+json" in options.headers["accept-post"]
    listing = peer.http.get("/inbox", headers={"Accept": "application/ld+json"})
    assert listing.status_code == 200
    body = listing.json()
    assert "@context" not in body  # nothing to fetch: full IRIs
    assert "http://www.w3.org/ns/ldp#Container" in body["@type"]
    assert isinstance(body["http://www.w3.org/ns/ldp#contains"], list)


# --- hostile peer documents: checked off the loop, never cached as valid -------------------

def _deep(n: int) -> bytes:
    return b"[" * n + b"]" * n


def _doc(**extra: Any) -> bytes:
    return json.dumps(_proposal("{iri}", **extra)).encode()


# (name, body with {iri}, media type, expected outcome, quarantined? None: either way)
PEER_DOCUMENTS: list[tuple[str, bytes, str, str, bool | None]] = [
    ("datatype IRI with a quote", _doc(created={
        "@value": "2026-03-12T07:58:30Z", "@type": 'http://x.example/dt"q'}),
     "application/ld+json", "errors", True),
    ("datatype IRI with a brace", _doc(created={
        "@value": "2026-03-12T07:58:30Z", "@type": "http://x.example/{dt}"}),
     "application/ld+json", "errors", True),
    ("language tag of 11 letters", _doc(title={"abcdefghijk": "Shade"}),
     "application/ld+json", "errors", True),
    # JSON-LD itself refuses it (an invalid language tag): kept aside or not kept at all.
    ("language tag en_US", _doc(title={"en_US": "Shade"}), "application/ld+json",
     "errors", None),
    ("subject IRI with a space", json.dumps({"@context": CONTEXT, "@graph": [
        _proposal("{iri}"), {"id": "{iri}#a b", "title": {"en": "x"}}]}).encode(),
     "application/ld+json", "errors", True),
    ("a value outside the shapes", _doc(state="no-such-state"), "application/ld+json",
     "errors", True),
    ("not JSON", b'{"@context": ', "application/ld+json", "errors", False),
    ("JSON nested 100,000 deep", _deep(100_000), "application/ld+json", "errors", False),
    ("JSON nested 500 deep", json.dumps(_proposal(
        "{iri}", description=json.loads(_deep(500)))).encode(), "application/ld+json",
     "errors", False),
    ("larger than peer_max_document_bytes", _doc(description={"en": "x" * 300_000}),
     "application/ld+json", "errors", False),
    # The same JSON-LD budget as local writes (jsonld_max_values, 50,000 here).
    ("more JSON values than jsonld_max_values", _doc(ignored=[0] * 60_000),
     "application/ld+json", "errors", False),
    ("Turtle with an IRI holding a space", b"<{iri}> <http://x.example/p> <http://a b> .",
     "text/turtle", "errors", False),
    ("N-Triples with a literal subject", b'"s" <http://x.example/p> "o" .\n',
     "application/n-triples", "errors", False),
    ("an HTML page", b"<html><body>hello</body></html>", "text/html", "errors", False),
    ("an empty body", b"", "application/ld+json", "errors", False),
]


@pytest.mark.parametrize(("name", "body", "media_type", "outcome", "quarantined"),
                         PEER_DOCUMENTS, ids=[d[0] for d in PEER_DOCUMENTS])
def test_a_hostile_peer_document_is_never_cached_as_valid(
        peer: Peered, name: str, body: bytes, media_type: str, outcome: str,
        quarantined: bool | None) -> None:
    path = "/proposals/hostile-" + base64.urlsafe_b64encode(name.encode()).decode().rstrip("=")
    iri = peer.fake.base + path.lstrip("/")
    peer.fake.serve(path, body.replace(b"{iri}", iri.encode()), media_type)
    assert peer.ingest(iri) == outcome
    assert peer.fake.gets(path) == 1
    assert peer.fed.cache.get(iri) is None  # nothing cached as valid
    held = peer.fed.cache.get(iri, quarantined=True)
    if quarantined is not None:
        assert (held is not None) == quarantined
    for _ in range(2):  # reads of it never 500: quarantined (502) or unknown (404)
        read = peer.http.get("/federation/resource", params={"iri": iri},
                             headers={"Accept": "application/ld+json"})
        _problem(read, 502 if held is not None else 404)
    listing = peer.http.get("/proposals/", params={"scope": "federation"},
                            headers={"Accept": "application/ld+json"})
    assert listing.status_code == 200 and iri not in listing.text
    assert peer.fake.gets(path) == 1  # the reads asked the peer nothing
    peer.answers()


@pytest.mark.slow  # load scenario: a 20,000-part peer document parsed while reads are served
def test_a_large_peer_document_is_ingested_off_the_event_loop(tmp_path: Path) -> None:
    with peered(tmp_path, **{**SETTINGS, "peer_max_document_bytes": 16 * 1024 * 1024,
                             "jsonld_max_values": 1_000_000}) as p:
        iri = p.fake.base + "proposals/large"
        graph = [_proposal(iri)] + [{"id": f"{iri}#part-{n}", "title": {"en": f"part {n}"},
                                     "description": {"en": "x" * 40}}
                                    for n in range(20_000)]
        p.fake.serve("/proposals/large", json.dumps({"@context": CONTEXT,
                                                     "@graph": graph}).encode())
        ingest = asyncio.run_coroutine_threadsafe(
            p.fed.cache.fetch(iri, revalidate=True, learned=True), p.node.loop)
        wait_for(lambda: ("GET", "/proposals/large") in p.fake.served, what="body sent")
        answered_meanwhile = 0
        while not ingest.done():
            read = p.http.get(p.local, headers={"Accept": "text/turtle"})
            assert read.status_code == 200
            if not ingest.done():
                answered_meanwhile += 1
        # Reads were answered while the document was still being parsed and checked: the
        # parse runs in a worker thread, not on the event loop that serves requests.
        assert answered_meanwhile >= 1
        try:
            ingest.result()
        except Exception:  # noqa: BLE001, S110 — valid or not, the point is the loop
            pass
        p.answers()


def test_a_slow_peer_is_cut_off_by_the_peer_timeout(tmp_path: Path) -> None:
    with peered(tmp_path, **SETTINGS, peer_timeout_seconds=0.5) as p:
        path = "/proposals/slow"
        iri = p.fake.serve(path, json.dumps(_proposal(p.fake.base + path[1:])).encode())
        p.fake.pauses[path] = 2.0
        assert p.ingest(iri) == "stale"  # a timeout: tried again at the next sync
        assert p.fed.cache.get(iri, quarantined=True) is None
        assert p.fake.gets(path) == 1
        p.answers()


def test_the_cache_is_bounded_per_peer(tmp_path: Path) -> None:
    with peered(tmp_path, **SETTINGS, peer_cache_max_per_peer=3) as p:
        for n in range(6):
            iri = p.fake.serve(f"/proposals/many-{n}", json.dumps(
                _proposal(p.fake.base + f"proposals/many-{n}")).encode())
            assert p.ingest(iri) == "fetched"
        assert p.fed.cache.count() == 3
        assert p.fed.cache.get(p.fake.base + "proposals/many-5") is not None
        assert p.fed.cache.get(p.fake.base + "proposals/many-0") is None
        p.answers()


# --- hostile feed pages: the sync records an error and goes on, fetching nothing else ------

def _page(items: object = (), nxt: str | None = "feed?after=0") -> bytes:
    page: dict[str, object] = {"type": "OrderedCollectionPage",
                               "orderedItems": list(items) if isinstance(items, tuple) else items}
    if nxt is not None:
        page["next"] = "{base}" + nxt
    return json.dumps(page).encode()


def _created(obj: object) -> dict[str, object]:
    return {"id": "{base}feed#change-1", "type": "Create", "actor": "{base}", "object": obj}


FEED_PAGES = [  # (name, page body with {base} the fake's base)
    ("not JSON", b"<html>not a feed</html>"),
    ("a JSON array", b"[]"),
    ("a JSON string", b'"feed"'),
    ("a next cursor of 20 digits", _page(nxt="feed?after=" + "9" * 20)),
    ("a next cursor past SQLite's INTEGER", _page(nxt=f"feed?after={2**63}")),
    ("a negative next cursor", _page(nxt="feed?after=-5")),
    ("items that are not a list", _page(items="Create")),
    ("items about other origins", _page(items=(
        _created("http://169.254.169.254/latest/meta-data/"),
        _created("http://127.0.0.1:9/x"), _created({"id": "https://elsewhere.example/p"})))),
    ("objects that are not IRIs", _page(items=(
        _created(5), _created(["{base}x"]), _created({"id": 7}), _created("http://[::1"),
        _created(None)))),
    ("a nested JSON bomb", b"[" * 100_000 + b"]" * 100_000),
]


@pytest.mark.parametrize(("name", "body"), FEED_PAGES, ids=[f[0] for f in FEED_PAGES])
def test_a_hostile_feed_page_is_survived(peer: Peered, name: str, body: bytes) -> None:
    fake, fed = peer.fake, peer.fed
    fake.serve("/feed", body.replace(b"{base}", fake.base.encode()),
               "application/activity+json")
    try:
        cached = fed.cache.count() + fed.cache.count("quarantined")
        before = [r for r in fake.requests if not r[1].startswith("/feed")]
        configured = fed.peers.all()[0]
        stats = peer.run(fed.sync_peer(configured))
        assert stats["fetched"] == 0, name
        after = fed.peers.get(configured.origin)
        # The attempt is recorded, so the loop waits before the next (no retry storm).
        assert after is not None and after.last_sync is not None
        assert after.last_sync > (configured.last_sync or 0)
        assert after.cursor < 2**63
        assert [r for r in fake.requests if not r[1].startswith("/feed")] == before
        assert fed.cache.count() + fed.cache.count("quarantined") == cached
        peer.answers()
    finally:
        fake.serve_feed([])


# --- cursors -----------------------------------------------------------------------------

FEED_PARAMS = [
    {"after": "9" * 20}, {"after": str(2**63)}, {"after": "-1"}, {"after": "1e3"},
    {"after": "0x10"}, {"after": ""}, {"after": "１２"}, {"after": " 1"},
    {"after": "0" * 25 + "1"}, {"after": "1", "limit": "9" * 20}, {"after": "1", "limit": "-5"},
    {"after": "1", "limit": "ten"},
]


@pytest.mark.parametrize("params", FEED_PARAMS, ids=[json.dumps(p) for p in FEED_PARAMS])
def test_a_feed_cursor_out_of_range_is_a_400(peer: Peered, params: dict[str, str]) -> None:
    problem = _problem(peer.http.get("/feed", params=params), 400)
    assert problem["parameter"] in params
    peer.answers()


def test_the_largest_feed_cursor_is_an_empty_page(peer: Peered) -> None:
    page = peer.http.get("/feed", params={"after": str(2**63 - 1)})
    assert page.status_code == 200 and page.json()["orderedItems"] == []


def _cursor(*parts: str) -> str:
    return base64.urlsafe_b64encode("\x1f".join(parts).encode()).decode().rstrip("=")


LISTING_CURSORS = [_cursor("C", "9" * 20), _cursor("C", "-1"), _cursor("C", "x"),
                   _cursor("Z", "1"), _cursor("C", "1", "2"), "!!!", "A" * 5000,
                   _cursor("C", "１")]


@pytest.mark.parametrize("cursor", LISTING_CURSORS, ids=[c[:30] for c in LISTING_CURSORS])
def test_a_federated_listing_cursor_not_made_here_is_a_400(peer: Peered, cursor: str) -> None:
    response = peer.http.get("/proposals/", params={"scope": "federation", "cursor": cursor},
                             headers={"Accept": "application/ld+json"})
    _problem(response, 400)
    peer.answers()
