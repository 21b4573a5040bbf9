"""Rendered explorer pages kept in memory with their strong ETags, bounded in bytes.

A page is rendered once per key and then served from here: a hit is one dictionary
lookup on the event loop (no worker thread, no template, no hashing: the ETag was
computed when the page was made). Keys hold everything a page shows, so an entry is
never stale, only unused (the same rule as :mod:`ddsnode.lru`): the caller's key names
what the page is about (the resource and its version, the query, the language) and
:class:`ddsnode.explorer.web.site.Site` adds the index generation, which moves whenever a
sync changed anything a page may show (labels, comments, counts, timelines).

The bound is the setting ``explorer_page_cache_bytes`` (``docs/security.md``,
"Explorer speed"): bodies and keys are weighed; the least recently used pages go first;
a page larger than the whole cache is served and not kept.

Pages named by a query (searches: as many as there are queries) may be kept apart from
the others (a resource's, the home, containers: as many as there are resources), each
part with half of the bound: a crawl through thousands of never-repeated searches then
evicts searches only, and a resource page, whose first render costs about 45 ms of CPU
at 100,000 contributions, stays (``docs/explorer.md``, Tails).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TypeAlias

from ddsnode.ldp.representation import etag
from ddsnode.lru import LRU

# What an entry costs beyond its body: the key (a query's pairs, a version, a language),
# the Page and the LRU's bookkeeping. An estimate: the bound is about bodies.
ENTRY_OVERHEAD = 512

#: Makes a page: its body, or (body, what its tag hashes instead of the body). A search
#: page echoes its query, so its tag hashes its results and language instead: the tag of
#: one URL has to change only when its body does (RFC 9110 8.8.3), and two searches for
#: words the reader may not see (a private resource's, a missing one's) get the same tag
#: as they get the same results (``tests/test_read_rule.py``).
Render: TypeAlias = Callable[[], "bytes | tuple[bytes, bytes]"]


@dataclass(frozen=True)
class Page:
    """A rendered page and its strong entity tag (RFC 9110 8.8.3, quoted)."""

    body: bytes
    etag: bytes


def strong_tag(data: bytes) -> bytes:
    """A strong entity tag of ``data`` (the node's one ETag of bytes,
    ``ldp.representation.etag``), as header bytes."""
    return etag(data).encode("ascii")


class PageCache:
    """Pages by key, at most ``capacity`` bytes of them."""

    def __init__(self, capacity: int, version: bytes = b"",
                 queried: Callable[[Hashable], bool] | None = None) -> None:
        # ``version``: a digest of the templates and catalogues, in every tag, so that a
        # new release never answers 304 to a page made by the old one.
        self.version = version
        # ``queried(key)``: whether the page is named by a query (kept apart, see above).
        self.queried = queried
        capacity = max(0, capacity)
        search = capacity // 2 if queried is not None else 0
        self._pages: LRU[Page] = LRU(capacity - search, weigh=_weigh)
        self._searches: LRU[Page] = LRU(search, weigh=_weigh)

    def _part(self, key: Hashable) -> LRU[Page]:
        return self._searches if self.queried is not None and self.queried(key) \
            else self._pages

    @property
    def weight(self) -> int:
        """Bytes held now (bodies and the per-entry estimate)."""
        return self._pages.weight + self._searches.weight

    def __len__(self) -> int:
        return len(self._pages) + len(self._searches)

    def peek(self, key: Hashable) -> Page | None:
        """The page kept under ``key``, or None (never renders)."""
        return self._part(key).peek(key)

    def make(self, key: Hashable, render: Render) -> Page:
        """The page under ``key``, rendered and kept when missing (see :data:`Render`
        for what its tag hashes)."""
        part = self._part(key)
        found = part.peek(key)
        if found is not None:
            return found
        made = render()
        body, tagged = made if isinstance(made, tuple) else (made, made)
        page = Page(body, strong_tag(tagged + self.version))
        return part.put(key, page)

    async def page(self, key: Hashable, render: Render) -> Page:
        """:meth:`make` for a request: a hit answers on the event loop, a miss renders
        on a worker thread (templates and index reads block)."""
        found = self._part(key).peek(key)
        if found is not None:
            return found
        return await asyncio.to_thread(self.make, key, render)


def _weigh(page: Page) -> int:
    return len(page.body) + ENTRY_OVERHEAD


__all__ = ["ENTRY_OVERHEAD", "Page", "PageCache", "Render", "strong_tag"]
