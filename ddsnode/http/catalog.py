"""The open-data portal's endpoints: ``/catalog`` and ``/catalog/files`` (docs/catalog.md).

``/catalog`` is the DCAT-AP catalogue, negotiated like a resource (Turtle by default,
JSON-LD, N-Triples, and RDF/XML for harvesters) or, for a browser, the explorer's page in the reader's language;
``?page=n`` pages it. ``/catalog/files?name=…`` serves one file of the current build
from disk in chunks (bounded memory whatever its size), with a strong ETag (its
SHA-256, RFC 9110 8.8.3), ``Content-Length`` and single byte ranges (RFC 9110 14).
Nothing is computed on these read paths but the first rendering of a catalogue page.
"""

from __future__ import annotations

import re
from typing import ClassVar

import anyio.to_thread

from ddsnode import paths
from ddsnode.catalog.build import Build
from ddsnode.catalog.messages import message
from ddsnode.catalog.portal import OFFERS, RDF_XML, Portal
from ddsnode.catalog.terms import CSV, CSVW_METADATA
from ddsnode.catalog.view import page_view
from ddsnode.explorer.web.routes import site_of
from ddsnode.explorer.web.site import reading
from ddsnode.http.endpoint import FixedMethodsEndpoint
from ddsnode.http.exchange import Headers, Receive, Scope, Send, link, parse_query, send_response
from ddsnode.ldp import conneg
from ddsnode.ldp.preconditions import Preconditions
from ddsnode.lru import LRU
from ddsnode.problem import BadRequest, NotAcceptable, NotFound, Problem, Unavailable

CHUNK = 64 * 1024
PAGE_CACHE_BYTES = 8 * 1024 * 1024  # rendered HTML pages of the catalogue
MAX_QUERY = 1024  # bytes of query string these endpoints read
RANGE = re.compile(r"bytes=(\d{0,18})-(\d{0,18})")
FORMATS = {"turtle": conneg.TURTLE, "jsonld": conneg.JSONLD, "ntriples": conneg.NTRIPLES,
           "rdfxml": RDF_XML}


class RangeNotSatisfiable(Problem):
    """No byte of the asked range is in the file (RFC 9110 15.5.17)."""

    status: ClassVar[int] = 416
    slug: ClassVar[str] = "range-not-satisfiable"
    title: ClassVar[str] = "Range not satisfiable"


def _query(scope: Scope) -> dict[str, str]:
    raw: bytes = scope.get("query_string", b"")
    if len(raw) > MAX_QUERY:
        raise BadRequest(f"The query string is longer than {MAX_QUERY} bytes")
    try:
        return dict(parse_query(raw.decode("ascii"))) if raw else {}
    except UnicodeDecodeError:
        raise BadRequest("Malformed query string: not ASCII (percent-encode it)") from None


def _current(portal: Portal) -> Build:
    build = portal.current()
    if build is None:
        raise Unavailable("The open-data files are being built for the first time",
                          headers={"Retry-After": "10"})
    return build


class CatalogEndpoint(FixedMethodsEndpoint):
    """``/catalog``: the DCAT-AP catalogue, a page at a time."""

    def __init__(self, portal: Portal) -> None:
        self.portal = portal
        # Pages as rendered, per build, page and language: a page is made once.
        self.pages: LRU[bytes] = LRU(PAGE_CACHE_BYTES, weigh=len)

    def refusal(self, method: str, path: str) -> str:
        """The catalogue is made by the node."""
        return "The catalogue is made by the node from its data; it is read-only"

    async def handle(self, scope: Scope, receive: Receive, send: Send, method: str,
                     headers: dict[str, str]) -> None:
        """GET or HEAD: one page in the negotiated media type (304 when unchanged)."""
        params = _query(scope)
        raw = params.get("page", "1")
        if not raw.isdigit() or not 0 < len(raw) < 10 or int(raw) < 1:
            raise BadRequest("page must be a whole number from 1")
        page = int(raw)
        # ?format= names a media type for links a browser follows (it sends text/html).
        named = FORMATS.get(params.get("format", ""))
        offer = named or conneg.negotiate(headers.get("accept"), OFFERS)
        if offer is None:
            raise NotAcceptable("Available: " + ", ".join(OFFERS))
        build = await anyio.to_thread.run_sync(_current, self.portal)
        pages = self.portal.pages(build)
        if page > pages:
            raise NotFound(f"The catalogue has {pages} page(s)")
        if offer == conneg.HTML:
            await self._page(scope, send, method, headers, build, page, pages)
            return
        rep = await anyio.to_thread.run_sync(self.portal.rendered, build, page, offer)
        out: Headers = [(b"etag", rep.etag.encode()), (b"vary", b"Accept, Origin"),
                        (b"cache-control", b"no-cache")]
        pre = Preconditions.parse(None, headers.get("if-none-match"))
        if pre.if_none_match is not None and rep.etag in pre.if_none_match:
            await send({"type": "http.response.start", "status": 304, "headers": out})
            await send({"type": "http.response.body", "body": b""})
            return
        out.append((b"content-type", conneg.CONTENT_TYPES.get(offer, offer).encode()))
        await send_response(send, 200, out, rep.body, head=method == "HEAD")

    async def _page(self, scope: Scope, send: Send, method: str, headers: dict[str, str],
                    build: Build, page: int, pages: int) -> None:
        site = site_of(self.portal.node)
        read = reading(scope, headers)
        size = self.portal.page_size
        base = self.portal.node.base

        def page_href(n: int) -> str:
            return "/catalog?" + "&".join([f"page={n}"] + (
                [f"lang={read.lang}"] if read.explicit else []))

        def make() -> bytes:
            return site.render(
                "catalog.html", read,
                m=lambda msgid, **values: message(msgid, read.lang, **values),
                datasets=page_view(build, base, str(self.portal.settings.name), page, size,
                                   read.lang),
                built=build.built, total=len(build.slices) + len(build.elections),
                page=page, pages=pages, page_href=page_href,
                turtle_href=f"/catalog?page={page}&format=turtle",
                jsonld_href=f"/catalog?page={page}&format=jsonld")

        key = (build.id, page, read.lang, read.explicit)
        body = self.pages.peek(key) or self.pages.put(
            key, await anyio.to_thread.run_sync(make))
        await site.send_page(send, read, body, media_type=b"text/html; charset=utf-8",
                             head=method == "HEAD")


class FilesEndpoint(FixedMethodsEndpoint):
    """``/catalog/files?name=…``: one file of the current build."""

    def __init__(self, portal: Portal) -> None:
        self.portal = portal

    def refusal(self, method: str, path: str) -> str:
        """The files are made by the node."""
        return "The open-data files are made by the node; they are read-only"

    async def handle(self, scope: Scope, receive: Receive, send: Send, method: str,
                     headers: dict[str, str]) -> None:
        """GET or HEAD: the file, whole or one byte range, or 304 when the client has it."""
        name = _query(scope).get("name", "")
        build = await anyio.to_thread.run_sync(_current, self.portal)
        entry = build.files.get(name)
        path = build.path(name)
        if entry is None or path is None:
            raise NotFound(f"No open-data file named {name[:100]!r} (see /catalog)")
        tag = f'"{entry.sha256}"'
        out: Headers = [(b"etag", tag.encode()), (b"accept-ranges", b"bytes"),
                        (b"cache-control", b"no-cache"),
                        (b"content-disposition", f'attachment; filename="{name}"'.encode())]
        if name.endswith("." + CSV.key):
            # CSVW, Model for Tabular Data 5.2: the dictionary a client should read.
            dictionary = f"/catalog/files?name={name[:-len(CSV.key)]}{CSVW_METADATA.key}"
            out.append((b"link", link(dictionary, "describedby").encode()))
        pre = Preconditions.parse(None, headers.get("if-none-match"))
        if pre.if_none_match is not None and (tag in pre.if_none_match or
                                              "*" in pre.if_none_match):
            await send({"type": "http.response.start", "status": 304, "headers": out})
            await send({"type": "http.response.body", "body": b""})
            return
        start, end, status = 0, entry.size - 1, 200
        wanted = headers.get("range")
        if wanted and method == "GET" and headers.get("if-range", tag) == tag:
            chosen = byte_range(wanted, entry.size)
            if chosen is not None:
                start, end, status = chosen[0], chosen[1], 206
                out.append((b"content-range", f"bytes {start}-{end}/{entry.size}".encode()))
        out += [(b"content-type", entry.content_type.encode()),
                (b"content-length", str(max(0, end - start + 1)).encode())]
        # The file is opened before the response starts: a build switched and pruned
        # meanwhile cannot take it away (POSIX keeps an open file's data).
        handle = await anyio.to_thread.run_sync(path.open, "rb")
        try:
            await send({"type": "http.response.start", "status": status, "headers": out})
            if method == "HEAD":
                await send({"type": "http.response.body", "body": b""})
                return
            await anyio.to_thread.run_sync(handle.seek, start)
            left = end - start + 1
            while left > 0:
                chunk = await anyio.to_thread.run_sync(handle.read, min(CHUNK, left))
                if not chunk:
                    break
                left -= len(chunk)
                await send({"type": "http.response.body", "body": chunk,
                            "more_body": left > 0})
            if left > 0:  # the file was shorter than its manifest says: end the body
                await send({"type": "http.response.body", "body": b""})
        finally:
            handle.close()


def byte_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single ``bytes=`` range (RFC 9110 14.1.2), None to send the
    whole file (several ranges, or another unit: a server may ignore Range, 14.2);
    RangeNotSatisfiable when no byte of it is in the file."""
    found = RANGE.fullmatch(header.strip())
    if found is None or (not found.group(1) and not found.group(2)):
        return None
    first, last = found.group(1), found.group(2)
    if not first:  # a suffix: the last n bytes
        n = int(last)
        if n == 0 or size == 0:
            raise RangeNotSatisfiable(headers={"Content-Range": f"bytes */{size}"})
        return max(0, size - n), size - 1
    start = int(first)
    if last and int(last) < start:
        return None  # an invalid range-spec (14.1.1): ignored, like any Range we do not serve
    end = min(int(last), size - 1) if last else size - 1
    if start >= size:
        raise RangeNotSatisfiable(headers={"Content-Range": f"bytes */{size}"})
    return start, end


def catalog_routes(portal: Portal | None) -> list[tuple[str, FixedMethodsEndpoint, str]]:
    """(path, endpoint, name) of the portal's paths; none for a node without a directory."""
    if portal is None:
        return []
    return [("/" + paths.CATALOG_PATH, CatalogEndpoint(portal), "catalog"),
            ("/" + paths.CATALOG_FILES_PATH, FilesEndpoint(portal), "catalog-files")]
