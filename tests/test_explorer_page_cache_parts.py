"""The explorer's page cache keeps searches apart from the other pages (page_cache.py):
a crawl through never-repeated searches evicts searches only, never a resource's page."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Hashable

from ddsnode.explorer.web.page_cache import ENTRY_OVERHEAD, PageCache
from ddsnode.explorer.web.site import _is_search

PAGE = 1000
BOUND = 20 * (PAGE + ENTRY_OVERHEAD)


def crawl(cache: PageCache, made: list[Hashable]) -> None:
    """A resource page read, then 200 different searches, then the resource page again."""

    def render(key: Hashable) -> bytes:
        made.append(key)
        return b"x" * PAGE

    resource = (("resource", "https://node.example/proposals/1", 7, "en", False, False), 3)
    asyncio.run(cache.page(resource, lambda: render(resource)))
    for n in range(200):
        search = (("search", (("q", f"word{n}"),), ("en", False)), 3)
        asyncio.run(cache.page(search, functools.partial(render, search)))
    asyncio.run(cache.page(resource, lambda: render(resource)))


def test_a_search_crawl_does_not_evict_a_resource_page() -> None:
    made: list[Hashable] = []
    cache = PageCache(BOUND, queried=_is_search)
    crawl(cache, made)
    assert len(made) == 201  # the resource page rendered once, each search once
    assert cache.weight <= BOUND
    assert 0 < len(cache) <= 20


def test_in_one_part_the_same_crawl_evicts_it() -> None:
    made: list[Hashable] = []
    crawl(PageCache(BOUND), made)
    assert len(made) == 202  # the resource page was evicted and rendered again


def test_search_keys_are_told_apart() -> None:
    assert _is_search((("search", (("q", "école"),), "jsonld"), 1))
    assert not _is_search((("resource", "https://n.example/a", 1, "fr", False, False), 1))
    assert not _is_search((("home", "fr", False), 1))
    assert not _is_search(("search", 1)) and not _is_search("search") and not _is_search(())
