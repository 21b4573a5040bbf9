"""The explorer's page cache (ddsnode/explorer/web/page_cache.py) and the index's
"nothing to replay" check (``SearchIndex.caught_up``): rendered pages are served from
memory with the ETag made with them, and never once the data moved.

One node in process, written through the HTTP write path; each test reads pages as a
browser (HTML) or a program (JSON-LD) would, writes, and reads again.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ddsnode.explorer.web.page_cache import ENTRY_OVERHEAD, PageCache
from ddsnode.explorer.web.routes import site_of
from ddsnode.explorer.web.site import Site
from tests.support.inprocess import LocalNode, local_node

HTML = {"Accept": "text/html"}
JSONLD = {"Accept": "application/ld+json"}


def proposal(node: LocalNode, slug: str, title: str, body: str) -> tuple[str, bytes]:
    """A valid proposal (the school-streets example) under ``proposals/slug``."""
    _, raw = node.example("a-proposal-school-streets")
    doc = json.loads(raw)
    doc["id"] = node.url(f"proposals/{slug}")
    doc["title"] = {"fr": title}
    doc["body"] = {"fr": body}
    doc.pop("machineTranslated", None)
    doc["place"]["id"] = doc["id"] + "#place"
    return doc["id"], json.dumps(doc).encode()


def comment(node: LocalNode, slug: str, on: str, text: str) -> tuple[str, bytes]:
    """A valid comment (the c-101 example) replying to ``on``."""
    _, raw = node.example("a-comment-c-101")
    doc = json.loads(raw)
    doc["id"] = node.url(f"comments/{slug}")
    doc["body"] = {"fr": text}
    doc.pop("machineTranslated", None)
    doc["inReplyTo"] = on
    return doc["id"], json.dumps(doc).encode()


def put(http: httpx.Client, node: LocalNode, iri: str, body: bytes) -> None:
    node.put(http, iri, body)


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNode]:
    with local_node(tmp_path_factory.mktemp("explorer-pages-cache")) as running:
        with running.client() as http:
            put(http, running, *proposal(running, "velo", "Des arceaux à vélo",
                                         "Des arceaux devant la médiathèque."))
        yield running


def site(node: LocalNode) -> Site:
    return site_of(node.app.node)  # type: ignore[attr-defined]


def test_a_repeated_page_is_a_hit_with_the_same_tag_and_304(node: LocalNode) -> None:
    path = "/proposals/velo"
    with node.client() as http:
        first = http.get(path, headers=HTML)
        assert first.status_code == 200 and "arceaux" in first.text
        kept = len(site(node).pages)
        again = http.get(path, headers=HTML)
        assert again.content == first.content
        assert again.headers["etag"] == first.headers["etag"]
        assert again.headers["etag"].startswith('"')  # strong (RFC 9110 8.8.3)
        assert len(site(node).pages) == kept  # served from the cache, nothing new kept
        held = http.get(path, headers={**HTML, "If-None-Match": first.headers["etag"]})
        assert held.status_code == 304 and held.content == b""
        weak = http.get(path, headers={**HTML, "If-None-Match": "W/" + first.headers["etag"]})
        assert weak.status_code == 304  # weak comparison for GET (RFC 9110 13.1.2)


def test_an_update_shows_on_the_next_request(node: LocalNode) -> None:
    path = "/proposals/velo-update"
    with node.client() as http:
        iri, body = proposal(node, "velo-update", "Un abri à vélos", "Près de la gare.")
        put(http, node, iri, body)
        before = http.get(path, headers=HTML)
        assert "Un abri à vélos" in before.text
        put(http, node, *proposal(node, "velo-update", "Un abri à trottinettes",
                                  "Près de la gare."))
        after = http.get(path, headers={**HTML, "If-None-Match": before.headers["etag"]})
        assert after.status_code == 200  # the old tag no longer matches
        assert "Un abri à trottinettes" in after.text and "Un abri à vélos" not in after.text
        assert after.headers["etag"] != before.headers["etag"]


def test_a_new_comment_shows_on_the_page_it_answers(node: LocalNode) -> None:
    """The proposal's own version does not move: the index generation in the key does."""
    path = "/proposals/velo"
    with node.client() as http:
        before = http.get(path, headers=HTML)
        assert "Bonne idée, et des places cargo" not in before.text
        put(http, node, *comment(node, "c-velo", node.url("proposals/velo"),
                                 "Bonne idée, et des places cargo"))
        after = http.get(path, headers=HTML)
        assert "Bonne idée, et des places cargo" in after.text
        assert after.headers["etag"] != before.headers["etag"]


def test_a_cached_search_shows_a_new_resource_at_once(node: LocalNode) -> None:
    query = "/explore?q=composteur"
    with node.client() as http:
        page = http.get(query, headers=HTML)
        data = http.get(query, headers=JSONLD).json()
        assert data["hydra:totalItems"] == 0 and "Un composteur" not in page.text
        http.get(query, headers=HTML)  # now both are cached
        iri, body = proposal(node, "compost", "Un composteur de quartier", "Au square.")
        put(http, node, iri, body)
        page = http.get(query, headers=HTML)
        data = http.get(query, headers=JSONLD).json()
        assert "Un composteur de quartier" in page.text
        assert data["hydra:totalItems"] == 1 and data["hydra:member"][0]["id"] == iri
        assert http.delete(iri, headers=node.auth()).status_code == 204
        assert http.get(query, headers=JSONLD).json()["hydra:totalItems"] == 0
        assert "Un composteur de quartier" not in http.get(query, headers=HTML).text


def test_languages_and_media_types_are_kept_apart(node: LocalNode) -> None:
    with node.client() as http:
        fr = http.get("/explore?q=arceaux", headers={**HTML, "Accept-Language": "fr"})
        en = http.get("/explore?q=arceaux", headers={**HTML, "Accept-Language": "en"})
        data = http.get("/explore?q=arceaux", headers=JSONLD)
    assert 'lang="fr"' in fr.text and 'lang="en"' in en.text
    assert len({fr.headers["etag"], en.headers["etag"], data.headers["etag"]}) == 3
    assert data.headers["content-type"].startswith("application/ld+json")
    assert data.json()["hydra:totalItems"] == 1


def test_caught_up_sees_waiting_changes_and_a_running_sync(node: LocalNode) -> None:
    index = site(node).index
    index.sync()
    assert index.caught_up()
    with node.client() as http:
        put(http, node, *proposal(node, "banc", "Un banc", "Sous le tilleul."))
    assert not index.caught_up()  # a write waits: the caller must sync
    index.sync()
    assert index.caught_up()
    holding, release = threading.Event(), threading.Event()

    def sync_in_progress() -> None:
        with index._write_lock:  # what a long replay holds
            holding.set()
            release.wait(10)
    worker = threading.Thread(target=sync_in_progress)
    worker.start()
    try:
        assert holding.wait(10)
        assert not index.caught_up()  # never waits, never guesses
    finally:
        release.set()
        worker.join(10)
    assert index.caught_up()


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNode]:
    """A node whose page cache holds about three pages."""
    with local_node(tmp_path_factory.mktemp("explorer-pages-small"),
                    settings={"explorer_page_cache_bytes": 60_000}) as running:
        yield running


def test_many_different_urls_stay_within_the_bound(small: LocalNode) -> None:
    """A flood of distinct search URLs (hostile or not) evicts; memory stays bounded."""
    cache = site(small).pages
    with small.client() as http:
        for n in range(40):
            r = http.get(f"/explore?q=mot{n}", headers=HTML)
            assert r.status_code == 200 and f"mot{n}" in r.text
            assert cache.weight <= 60_000
    assert 0 < len(cache) < 40


def test_a_page_larger_than_the_cache_is_served_and_not_kept() -> None:
    cache = PageCache(1000)
    made: list[int] = []

    def render() -> bytes:
        made.append(1)
        return b"x" * 2000
    page = asyncio.run(cache.page("big", render))
    assert page.body == b"x" * 2000 and page.etag.startswith(b'"')
    assert len(cache) == 0 and cache.weight == 0
    asyncio.run(cache.page("big", render))
    assert len(made) == 2  # rendered again: nothing kept


def test_a_hit_renders_nothing_and_keeps_its_tag() -> None:
    cache = PageCache(10 * (100 + ENTRY_OVERHEAD), version=b"v1")
    made: list[str] = []

    def render(text: str) -> Any:
        def make() -> bytes:
            made.append(text)
            return text.encode() * 100
        return make
    first = asyncio.run(cache.page(("a", 1), render("a")))
    second = asyncio.run(cache.page(("a", 1), render("changed")))
    assert second is first and made == ["a"]
    # Another key (the generation moved): rendered again, and a different body gets a
    # different tag; the same body under another release too.
    moved = asyncio.run(cache.page(("a", 2), render("b")))
    assert moved.etag != first.etag and made == ["a", "b"]
    other = PageCache(10_000, version=b"v2").make(("a", 1), render("a"))
    assert other.body == first.body and other.etag != first.etag
