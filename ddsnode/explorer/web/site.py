"""One node's explorer: the index, the templates, the reader's language, page responses.

Pages are Jinja2 templates with autoescaping on (every value from data is escaped), and
links from data go through :func:`ddsnode.explorer.view.safe_href`. A page is cached by
(what it shows, the index generation, the language) and sent with a strong ETag; a
matching ``If-None-Match`` gets a 304 (RFC 9110 13.1.2). Pages vary with
``Accept``, ``Accept-Language`` and ``Cookie`` (the language switch).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable, Hashable, MutableMapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlencode, urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape

from ddsnode.explorer import i18n
from ddsnode.explorer.labels import local_name, pick, term_label
from ddsnode.explorer.query import Limits
from ddsnode.explorer.search import Hit, SearchIndex
from ddsnode.explorer.tiles import map_layer
from ddsnode.explorer.timeline import rank_of
from ddsnode.explorer.view import safe_href, term
from ddsnode.explorer.web.page_cache import PageCache, Render, strong_tag
from ddsnode.federation.trace import Chain, Tracer
from ddsnode.http.exchange import Headers, Send, parse_query, send_response
from ddsnode.lru import LRU
from ddsnode.problem import BadRequest

log = logging.getLogger("ddsnode.explorer")
STATIC = "/explore/static/"
VARY = b"Accept, Accept-Language, Cookie"
MAX_QUERY_STRING = 8192  # bytes of a query string an explorer page reads


def _version() -> bytes:
    """A digest of the templates and catalogues: a new release changes every page's tag."""
    digest = hashlib.blake2b(digest_size=16)
    root = resources.files("ddsnode.explorer")
    for folder in ("templates", "locales"):
        for item in sorted((root / folder).iterdir(), key=lambda p: p.name):
            if item.is_file():
                digest.update(item.read_bytes())
            elif item.is_dir():
                for inner in sorted(item.iterdir(), key=lambda p: p.name):
                    if inner.is_file():
                        digest.update(inner.read_bytes())
    return digest.digest()


VERSION = _version()


@cache
def templates() -> Environment:
    """The explorer's templates, one Environment per process that every node's Site shares.

    Jinja2 compiles a template on its first ``get_template`` and keeps it in its
    Environment (up to 400 by default): shared, a test process that starts hundreds of
    nodes compiles each template once, not once per node. Sharing is sound because
    nothing in it is a node's own: the loader reads the package, the globals are two
    pure functions, and everything about a node or a reader is passed to ``render``
    (:meth:`Site.render`). Environments are safe to share between threads.
    """
    env = Environment(loader=PackageLoader("ddsnode.explorer", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True,
                      # Templates ship with the package: no stat() per render.
                      auto_reload=False)
    env.globals.update(safe_href=safe_href, host=host)
    return env


@dataclass(frozen=True)
class Reading:
    """Who reads a page and how: language (chosen explicitly or not), path and query."""

    lang: str
    explicit: bool  # from ?lang= or the cookie: kept in links
    set_cookie: bool  # ?lang= given: the switch sticks
    path: str
    pairs: list[tuple[str, str]]
    headers: dict[str, str]


def reading(scope: MutableMapping[str, Any], headers: dict[str, str]) -> Reading:
    """The Reading of a request; BadRequest on a malformed or oversized query string."""
    raw: bytes = scope.get("query_string", b"")
    if len(raw) > MAX_QUERY_STRING:
        raise BadRequest(f"The query string is longer than {MAX_QUERY_STRING} bytes")
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise BadRequest("Malformed query string: not ASCII (percent-encode it)") from None
    pairs = parse_query(text) if text else []
    param = next((v for k, v in pairs if k == "lang"), None)
    cookie = i18n.cookie_language(headers.get("cookie"))
    lang = i18n.chosen(param, cookie, headers.get("accept-language"))
    explicit = param in i18n.LANGUAGES or cookie is not None
    return Reading(lang, explicit, param in i18n.LANGUAGES, scope["path"],
                   [(k, v) for k, v in pairs if k != "lang"], headers)


class Site:
    """The explorer of one node: shared by every explorer endpoint."""

    def __init__(self, node: Any, federation: Any) -> None:
        self.node, self.fed = node, federation
        settings = node.settings
        self.settings = settings
        self.index = SearchIndex(settings.node_dir, node.store, node.base, node.containers)
        self.limits = Limits.from_settings(settings)
        # The maps' Leaflet and tile layer; the node's own tile archive, if any, open.
        self.leaflet, self.tile_archive = map_layer(settings)
        self.peer_sync_seconds = float(settings.explorer_peer_sync_seconds)
        self._peer_synced = 0.0
        self._peer_sync: asyncio.Future[int] | None = None  # the background replay, if any
        # Searches apart from the other pages (each half the bound): a crawl through
        # never-repeated searches does not evict resource pages (page_cache).
        self.pages = PageCache(int(settings.explorer_page_cache_bytes), VERSION,
                               queried=_is_search)
        self._chains: LRU[Chain] = LRU(1024)
        self._memo: LRU[tuple[Any]] = LRU(256)
        self.env = templates()

    async def synced(self) -> None:
        """Bring the index up to date with the store (and, every few seconds, the peer
        cache) before a page reads it: new data is searchable at once, without a rebuild.

        The peer cache's replay (every ``explorer_peer_sync_seconds``) runs in the
        background: no request waits for it. It holds the index's write lock, so
        meanwhile :meth:`SearchIndex.caught_up` answers False to everyone; a request then
        waits for that one sync (it replays this node's changes first) and checks again,
        instead of every request in flight queueing a worker thread of its own behind
        the lock (``docs/explorer.md``, Tails). With a period of 0 (tests), each request
        replays the peers itself, as before."""
        now = time.monotonic()
        if now - self._peer_synced >= self.peer_sync_seconds:
            self._peer_synced = now
            if self.peer_sync_seconds <= 0:
                await asyncio.to_thread(self.index.sync, peers=True)
                return
            if self._peer_sync is None or self._peer_sync.done():
                self._peer_sync = asyncio.ensure_future(
                    asyncio.to_thread(self.index.sync, peers=True))
                self._peer_sync.add_done_callback(_logged)
        if self.index.caught_up():
            return  # nothing to replay: no worker thread (ddsnode.explorer.search)
        running = self._peer_sync
        if running is not None and not running.done():
            try:
                await asyncio.shield(running)
            except Exception:  # noqa: BLE001 — logged by _logged; replayed below
                pass
            if self.index.caught_up():
                return
        await asyncio.to_thread(self.index.sync, peers=False)

    async def chain(self, iri: str, types: tuple[str, ...], reader: Any) -> Chain | None:
        """``iri``'s traceability chain (``ddsnode.federation.trace``), for the kinds a
        timeline is about; cached per index generation (the walk runs queries)."""
        if rank_of(types) is None:
            return None
        key = (iri, reader.reads_private, self.index.generation)
        found = self._chains.peek(key)
        if found is None:
            found = self._chains.put(key, await Tracer(self.fed, reader=reader).walk(iri))
        return found

    # --- rendering -----------------------------------------------------------------

    def render(self, template: str, read: Reading, **values: Any) -> bytes:
        """``template`` rendered for ``read`` (language, links that keep the language)."""
        t = i18n.Translator(read.lang)

        def link(path: str, params: Sequence[tuple[str, str]] = ()) -> str:
            pairs = list(params) + ([("lang", t.lang)] if read.explicit else [])
            return path + ("?" + urlencode(pairs) if pairs else "")

        def switch(code: str) -> str:
            return read.path + "?" + urlencode(read.pairs + [("lang", code)])

        def page_of(iri: str, node: str | None = None) -> str:
            base = self.node.base
            if iri.startswith(base) and (node is None or node == base):
                return link("/" + iri[len(base):])
            return link("/explore/resource", [("iri", iri)])

        def kind_label(kind: str) -> str:
            # The catalogue names the common kinds in every language; the ontology
            # labels (English, French) name the others.
            return t.messages.get(local_name(kind)) or term_label(kind, t.lang)

        def title(hit: Hit) -> str:
            text = pick(hit.titles, t.lang) or pick(hit.summaries, t.lang) or \
                local_name(hit.iri)
            return text if len(text) <= 120 else text[:119] + "…"

        known: dict[str, str] = {}

        def node_name(iri: str) -> str:
            # A node as its operator names it (a hit's node is this node's base, or a
            # peer's origin): "Pilot node A", not "127.0.0.1:8001". Read once per page.
            if not known:
                known.update({self.node.base: str(self.settings.name)})
                for p in self.fed.peers.all():
                    if p.name:
                        known.update({p.origin: p.name, p.base: p.name})
            return known.get(iri) or host(iri)

        values.setdefault("explicit_lang", read.explicit)
        return self.env.get_template(template).render(
            t=t, _=t.gettext, ngettext=t.ngettext, link=link, switch=switch, page_of=page_of,
            kind_label=kind_label, title=title, static=lambda name: STATIC + name,
            node_name=node_name,
            pick_text=lambda texts: pick(texts, t.lang), site=self.site_info(),
            languages=[(code, t.language_name(code)) for code in i18n.LANGUAGES],
            election_kind=term("Election"), max_query=self.limits.max_query_chars,
            **values).encode("utf-8")

    def page_path(self, iri: str, node: str | None = None) -> str:
        """The path of ``iri``'s page here: its own path for this node's resources, the
        peer copy's page for the others'."""
        base = self.node.base
        if iri.startswith(base) and (node is None or node == base):
            return "/" + iri[len(base):]
        return "/explore/resource?" + urlencode([("iri", iri)])

    def site_info(self) -> dict[str, str | bool | None]:
        """Name, operator and base of the node, and how its maps are drawn, for every
        page (``explorer.tiles``: checked when the app was made)."""
        s = self.settings
        return {"name": str(s.name), "operator": str(s.operator or ""),
                "operator_href": safe_href(str(s.operator_url or "")), "base": self.node.base,
                "map_leaflet": self.leaflet.enabled, "map_tiles": self.leaflet.tiles,
                "map_attribution": self.leaflet.credit, "map_tiles_zooms": self.leaflet.zooms,
                "map_tiles_bounds": self.leaflet.bounds}

    def remember(self, key: Hashable, make: Callable[[], Any]) -> Any:
        """``make()``, kept under ``key`` (which must hold everything it depends on)."""
        return self._memo.get_or_make(key, lambda: (make(),))[0]

    def cached(self, key: Hashable, make: Callable[[], bytes]) -> bytes:
        """A rendered page from the cache, made when missing (key holds what it shows)."""
        return self.pages.make((key, self.index.generation), make).body

    async def serve(self, send: Send, read: Reading, key: Hashable, make: Render, *,
                    media_type: bytes, head: bool) -> None:
        """The page under ``key`` (made on a miss), sent with the tag made with it: a
        hit is a lookup on the event loop (``ddsnode.explorer.web.page_cache``)."""
        page = await self.pages.page((key, self.index.generation), make)
        await self.send_page(send, read, page.body, media_type=media_type, head=head,
                             tag=page.etag)

    @staticmethod
    async def send_page(send: Send, read: Reading, body: bytes, *, media_type: bytes,
                        head: bool, status: int = 200, tagged: bytes | None = None,
                        tag: bytes | None = None) -> None:
        """``body`` with a strong ETag, or 304 when the client holds it. The tag hashes
        ``tagged`` when given: what, besides the URL itself, makes the body (a search page
        echoes its query; the tag of one URL only has to change when its body does, RFC
        9110 8.8.3, and need not carry the query's words)."""
        if tag is None:  # a cached page brings the tag made with it
            tag = strong_tag(body if tagged is None else tagged + VERSION)
        headers: Headers = [(b"etag", tag), (b"vary", VARY),
                            (b"cache-control", b"no-cache")]
        if read.set_cookie:
            headers.append((b"set-cookie", (
                f"{i18n.COOKIE}={read.lang}; Path=/; Max-Age=31536000; SameSite=Lax"
            ).encode()))
        match = read.headers.get("if-none-match", "")
        held = [m.strip().removeprefix("W/").encode() for m in match.split(",")]
        if status == 200 and (match.strip() == "*" or tag in held):
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        headers.append((b"content-type", media_type))
        await send_response(send, status, headers, body, head=head)


def _logged(sync: asyncio.Future[int]) -> None:
    """A background replay of the peer cache that failed: logged (the next period, or
    the next request's own replay, tries again)."""
    if not sync.cancelled() and sync.exception() is not None:
        log.warning("The explorer's replay of the peer cache failed: %s", sync.exception())


def _is_search(key: Hashable) -> bool:
    """Whether a page cache key (``(what, generation)``, see :meth:`Site.serve`) names
    a search page (``("search", pairs, …)``, ``endpoints.SearchEndpoint``)."""
    return isinstance(key, tuple) and bool(key) and isinstance(key[0], tuple) and \
        bool(key[0]) and key[0][0] == "search"


def host(iri: str) -> str:
    """The host of ``iri`` (a node or platform shown by name when nothing names it)."""
    return urlsplit(iri).netloc or iri

