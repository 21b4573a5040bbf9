"""The directory's pages: ``/explore/directory`` (matrix, filters, lists, ecosystem, map),
``/explore/directory/organisation?id=IRI``, and the map as SVG and GeoJSON.

Every page is a GET form's result, so every filter state is a shareable URL; the same URL
asked with ``Accept: application/ld+json`` answers JSON-LD (the selected organisations
with their initiatives, in the shared context's terms). HTML comes from Jinja2 templates
with autoescaping (``templates/directory/``); pages carry a strong ETag and answer 304 to
a matching ``If-None-Match`` (RFC 9110 13.1.2). Reading the directory runs off the event
loop. Query parameters are checked (a cluster or level that is not in its scheme, a
country that is not two letters: 400), so a URL cannot make the page do anything but
filter.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode, urlsplit

import anyio.to_thread
import jinja2

from ddsnode.explorer import map as dirmap
from ddsnode.explorer.directory import (
    Directory,
    DirectoryCache,
    Organisation,
    Query,
    outlines,
    places_of,
)
from ddsnode.explorer.directory_document import (
    as_json,
    organisation_document,
    selection_document,
)
from ddsnode.explorer.directory_messages import (
    cluster_label,
    formatted,
    level_label,
    message,
)
from ddsnode.explorer.directory_terms import clusters, kind_label, levels
from ddsnode.explorer.i18n import LANGUAGES, Translator, request_language
from ddsnode.http.endpoint import FixedMethodsEndpoint
from ddsnode.http.exchange import ASGIApp, Receive, Scope, Send, query_params, send_response
from ddsnode.ldp import conneg
from ddsnode.ldp.access import ReadRule, reader_for
from ddsnode.ldp.preconditions import Preconditions
from ddsnode.problem import BadRequest, NotAcceptable, NotFound

PATH = "/explore/directory"
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
HTML = "text/html"
GEOJSON = "application/geo+json"
SVG = "image/svg+xml"
OFFERS = (HTML, conneg.JSONLD)
WORD = re.compile(r"[A-Za-z]{1,40}")
COUNTRY = re.compile(r"[A-Z]{2}")
MAP_SIZE = (640, 400)

_env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                          autoescape=True, undefined=jinja2.StrictUndefined)


def safe_url(value: str | None) -> str | None:
    """``value`` when it is an http(s) URL (a link may be made of it), else None."""
    return value if value and urlsplit(value).scheme in ("http", "https") else None


def _query(params: dict[str, str]) -> Query:
    country = params.get("country", "").strip().upper()
    kind, cluster, level = (params.get(k, "").strip() for k in ("kind", "cluster", "level"))
    if country and not COUNTRY.fullmatch(country):
        raise BadRequest("country must be an ISO 3166-1 alpha-2 code (two letters)")
    if kind and not WORD.fullmatch(kind):
        raise BadRequest("kind must be a word (letters only)")
    if cluster and clusters().by_word(cluster) is None:
        raise BadRequest("cluster must be one of " + ", ".join(c.word for c in clusters().concepts))
    if level and levels().by_word(level) is None:
        raise BadRequest("level must be one of " + ", ".join(c.word for c in levels().concepts))
    return Query(country, kind, cluster, level)


class _Page(FixedMethodsEndpoint):
    """Shared by the directory endpoints: reading, language, conneg, ETag."""

    def __init__(self, node: Any, cache: DirectoryCache | None = None) -> None:
        self.node = node
        self.cache = cache or DirectoryCache()

    def _rule(self, headers: dict[str, str]) -> Callable[[str], bool]:
        """The node's read rule for this request's reader (``ldp/access.py``): a private
        container's organisations and places are shown to a token with scope read only."""
        rule = ReadRule(self.node.base, self.node.containers)
        reader = reader_for(self.node.tokens, headers.get("authorization"))
        return lambda iri: rule.may_read(iri, reader)

    def _read(self, may_read: Callable[[str], bool]) -> Directory:
        s = self.node.settings
        return Directory.read(self.node.store, self.node.base, s.node_dir,
                              limit=int(s.directory_max_organisations), may_read=may_read,
                              cache=self.cache)

    @staticmethod
    def _lang(params: dict[str, str], headers: dict[str, str]) -> str:
        return request_language(params.get("lang"), headers)

    async def _send(self, send: Send, method: str, headers: dict[str, str], body: bytes,
                    media_type: str) -> None:
        tag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        out = [(b"etag", tag.encode()), (b"vary", b"Accept, Accept-Language, Cookie, Authorization"),
               (b"cache-control", b"no-cache")]
        pre = Preconditions.parse(None, headers.get("if-none-match"))
        if pre.if_none_match is not None and tag in pre.if_none_match:
            await send_response(send, 304, out)
            return
        out.append((b"content-type", (media_type + ("; charset=utf-8" if media_type == HTML
                                                    else "")).encode()))
        await send_response(send, 200, out, body, head=method == "HEAD")

    def _outlines(self, may_read: Callable[[str], bool]) -> list[dirmap.Outline]:
        return [dirmap.Outline(label, wkt) for label, wkt in outlines(
            self.node.store, self.node.base, may_read=may_read)]

    def _context(self, lang: str, path: str, params: dict[str, str]) -> dict[str, Any]:
        t = Translator(lang)
        s = self.node.settings

        def link(target: str, pairs: Any = ()) -> str:
            pairs = list(pairs.items()) if isinstance(pairs, dict) else list(pairs)
            return target + ("?" + urlencode(pairs) if pairs else "")

        def switch(code: str) -> str:
            return link(path, {**params, "lang": code})

        def msg(msgid: str, **values: object) -> str:
            return formatted(msgid, lang, **values) if values else message(msgid, lang)

        return {"t": t, "_": t.gettext, "m": msg, "lang": lang, "link": link,
                "switch": switch, "static": lambda name: f"/explore/static/{name}",
                "site": SimpleNamespace(name=s.name, operator=s.operator),
                "languages": [(c, Translator.language_name(c)) for c in LANGUAGES],
                "election_kind": "Election", "safe_url": safe_url,
                "cluster_label": lambda w: cluster_label(w, lang),
                "level_label": lambda w: level_label(w, lang),
                "kind_label": lambda w: kind_label(w, lang) if w else message("unknown", lang),
                "org_href": lambda o: link(PATH + "/organisation", {"id": o.iri, "lang": lang}),
                "clusters": clusters().concepts, "levels": levels().concepts}


class DirectoryPage(_Page):
    """``/explore/directory``: the matrix, the filters, the lists, the ecosystem, the map."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, method: str,
                     headers: dict[str, str]) -> None:
        """GET/HEAD: the page (HTML) or the selection (JSON-LD)."""
        params = query_params(scope)
        query = _query(params)
        offer = conneg.negotiate(headers.get("accept"), OFFERS)
        if offer is None:
            raise NotAcceptable("Available: " + ", ".join(OFFERS))
        lang = self._lang(params, headers)
        body = await anyio.to_thread.run_sync(self._render, query, offer, lang, params,
                                              self._rule(headers))
        await self._send(send, method, headers, body, offer)

    def _render(self, query: Query, offer: str, lang: str, params: dict[str, str],
                may_read: Callable[[str], bool]) -> bytes:
        directory = self._read(may_read)
        selection = directory.select(query)
        if offer == conneg.JSONLD:
            return as_json(selection_document(selection))
        countries, kinds = directory.facets()
        points = [dirmap.MapPoint(x, y, label, self._href(iri, lang))
                  for x, y, label, iri in places_of(selection.organisations)]
        svg = dirmap.render_map(points[:int(self.node.settings.directory_max_map_points)],
                                width=MAP_SIZE[0], height=MAP_SIZE[1], lang=lang,
                                outlines=self._outlines(may_read),
                                list_href="#organisations") if points else ""
        context = self._context(lang, PATH, params)
        context.update(query=query, selection=selection, matrix=directory.matrix(query),
                       ecosystem=directory.ecosystem(query), countries=countries, kinds=kinds,
                       truncated=directory.truncated, map_svg=svg,
                       filter_href=lambda **change: context["link"](
                           PATH, {**query.params(**change), "lang": lang}))
        return _env.get_template("directory/index.html").render(context).encode("utf-8")

    def _href(self, iri: str, lang: str) -> str:
        base: str = self.node.base  # the node is passed untyped (Any) to the explorer
        return base.rstrip("/") + PATH + "/organisation?" + urlencode(
            {"id": iri, "lang": lang})


class OrganisationPage(_Page):
    """``/explore/directory/organisation?id=IRI``: one organisation (own or a peer's)."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, method: str,
                     headers: dict[str, str]) -> None:
        """GET/HEAD: the organisation (HTML or JSON-LD); 404 when the directory lacks it."""
        params = query_params(scope)
        iri = params.get("id", "")
        if not iri or len(iri) > 2048:
            raise BadRequest("id must be the IRI of an organisation of the directory")
        offer = conneg.negotiate(headers.get("accept"), OFFERS)
        if offer is None:
            raise NotAcceptable("Available: " + ", ".join(OFFERS))
        lang = self._lang(params, headers)
        body = await anyio.to_thread.run_sync(self._render, iri, offer, lang, params,
                                              self._rule(headers))
        await self._send(send, method, headers, body, offer)

    def _render(self, iri: str, offer: str, lang: str, params: dict[str, str],
                may_read: Callable[[str], bool]) -> bytes:
        org: Organisation | None = self._read(may_read).get(iri)
        if org is None:
            raise NotFound("No organisation with this IRI in the directory")
        if offer == conneg.JSONLD:
            return as_json(organisation_document(org))
        context = self._context(lang, PATH + "/organisation", params)
        points = places_of([org])
        svg = dirmap.render_map(
            [dirmap.MapPoint(x, y, label, "") for x, y, label, _ in points],
            width=MAP_SIZE[0] // 2, height=MAP_SIZE[1] // 2, lang=lang) if points else ""
        context.update(org=org, map_svg=svg)
        return _env.get_template("directory/organisation.html").render(context).encode("utf-8")


class MapData(_Page):
    """``/explore/directory/map.svg`` and ``map.geojson``: the map of a filter, alone."""

    def __init__(self, node: Any, media_type: str, cache: DirectoryCache) -> None:
        super().__init__(node, cache)
        self.media_type = media_type

    async def handle(self, scope: Scope, receive: Receive, send: Send, method: str,
                     headers: dict[str, str]) -> None:
        """GET/HEAD: the SVG or the GeoJSON of the organisations the filter selects."""
        params = query_params(scope)
        query = _query(params)
        lang = self._lang(params, headers)
        body = await anyio.to_thread.run_sync(self._render, query, lang, self._rule(headers))
        await self._send(send, method, headers, body, self.media_type)

    def _render(self, query: Query, lang: str, may_read: Callable[[str], bool]) -> bytes:
        selection = self._read(may_read).select(query)
        limit = int(self.node.settings.directory_max_map_points)
        base = self.node.base.rstrip("/")
        points = [dirmap.MapPoint(x, y, label, base + PATH + "/organisation?" + urlencode(
            {"id": iri})) for x, y, label, iri in places_of(selection.organisations)]
        list_href = base + PATH + ("?" + urlencode(query.params()) if query.params() else "")
        if self.media_type == GEOJSON:
            return dirmap.geojson(points, limit=limit, list_href=list_href + "#organisations")
        return dirmap.render_map(points[:limit], width=MAP_SIZE[0], height=MAP_SIZE[1],
                                 lang=lang, outlines=self._outlines(may_read),
                                 list_href=list_href + "#organisations"
                                 ).encode("utf-8")


def directory_routes(node: Any) -> list[tuple[str, ASGIApp, str]]:
    """(path, ASGI endpoint, name) rows for the routes table."""
    cache = DirectoryCache()  # one per node, shared by its directory endpoints
    return [(PATH, DirectoryPage(node, cache), "directory"),
            (PATH + "/organisation", OrganisationPage(node, cache), "directory-organisation"),
            (PATH + "/map.svg", MapData(node, SVG, cache), "directory-map-svg"),
            (PATH + "/map.geojson", MapData(node, GEOJSON, cache), "directory-map-geojson")]
