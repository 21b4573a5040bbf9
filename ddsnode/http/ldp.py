"""The LDP resource endpoint: every method on every resource and container (raw ASGI).

GET/HEAD are answered inline (a store lookup, negotiated bytes, headers); writes run on
the node's writer thread (:mod:`ddsnode.ldp.writer`) because parsing, validation and
serialisation are CPU work that must not stall reads. The rules live in
:class:`ddsnode.ldp.node.Node`; this module maps them to HTTP: methods, headers (LDP 4.2,
Solid Protocol 0.11), statuses.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import lru_cache, partial
from typing import Any
from urllib.parse import urlencode

from ddsnode.http.errors import send_problem
from ddsnode.http.exchange import (
    Headers,
    Receive,
    Scope,
    Send,
    http_date,
    link,
    query_params,
    read_body,
    request_headers,
    send_response,
)
from ddsnode.ldp import conneg
from ddsnode.ldp.access import needs_token, reader_for
from ddsnode.ldp.access_modes import wac_allow
from ddsnode.ldp.description import STORAGE_DESCRIPTION_REL, context_url
from ddsnode.ldp.node import BINARY_KEY, ContainerView, Found, Node, Target
from ddsnode.ldp.patch import PATCH_TYPES
from ddsnode.ldp.preconditions import Preconditions
from ddsnode.ldp.tokens import TokenInfo
from ddsnode.paths import WELL_KNOWN_SOLID
from ddsnode.problem import BadRequest, MethodNotAllowed, NotAcceptable, Problem
from ddsnode.store.base import Representation

LDP = "http://www.w3.org/ns/ldp#"
PIM_STORAGE = "http://www.w3.org/ns/pim/space#Storage"
ACCEPT_PATCH = ", ".join(PATCH_TYPES).encode()
RDF_POST = ", ".join(conneg.RDF_INPUT).encode()
VARY = b"Accept, Authorization, Origin"
KNOWN_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"})


class ResourceEndpoint:
    """ASGI app serving LDP resources under the node's base IRI."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.base = node.base
        self.storage_link = link(node.base + WELL_KNOWN_SOLID, STORAGE_DESCRIPTION_REL)
        self.context_link = link(context_url(node.base), conneg.JSONLD_CONTEXT_REL).encode()
        self.limit = int(node.settings.max_body_bytes)
        self.extra_links: list[str] = []  # on every resource (federation: the LDN inbox)
        self._headers: dict[tuple[object, ...], Headers] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
        try:
            path = raw_path.decode("ascii")
        except UnicodeDecodeError:
            await send_problem(send, BadRequest("The request path is not ASCII (encode IRIs)"))
            return
        headers = request_headers(scope)
        try:
            target = self.node.target(self.base + path[1:])
            if method not in KNOWN_METHODS:  # 405 before any credential check
                raise MethodNotAllowed(f"{method} is not supported",
                                       headers={"Allow": self._allow_for(target)})
            scope_needed = self.node.required_scope(method, target)
            info = None
            if scope_needed is not None:
                info = self.node.authorize(scope_needed, headers.get("authorization"))
            if method in ("GET", "HEAD"):
                await self.get(scope, send, target, headers, head=method == "HEAD", info=info)
            elif method == "OPTIONS":
                await self.options(send, target, headers)
            else:
                await self.write(scope, receive, send, method, target, headers)
        except Problem as problem:
            await send_problem(send, problem, instance=path, head=method == "HEAD")

    # --- headers ---------------------------------------------------------------------

    def _allow_for(self, target: Target) -> str:
        if target.path == "":
            return "GET, HEAD, OPTIONS"
        container = target.container
        if container is not None and target.path == container.path:
            return "GET, HEAD, OPTIONS, POST"
        if target.is_container:
            return "GET, HEAD, OPTIONS, POST, PUT, PATCH, DELETE"
        return "GET, HEAD, OPTIONS, PUT, PATCH, DELETE"

    def _links(self, target: Target, found: Found | None) -> list[str]:
        links = [self.storage_link, *self.extra_links]
        if found is None:
            return links
        resource = found.resource
        if resource.kind == "container":
            links += [link(LDP + "BasicContainer", "type"), link(LDP + "Container", "type")]
            if target.path == "":
                links.append(link(PIM_STORAGE, "type"))  # Solid Protocol 4.1
        elif resource.kind == "binary" and not found.description:
            links.append(link(LDP + "NonRDFSource", "type"))
            links.append(link(found.described_iri, "describedby"))  # LDP 5.2.3.12
        else:
            links.append(link(LDP + "RDFSource", "type"))
            if found.description:
                links.append(link(resource.iri, "describes"))
        links.append(link(LDP + "Resource", "type"))
        container = target.container
        if container is not None and not container.open:
            for shape in container.shapes:
                # LDP 4.2.1.6: the constraints on creating and updating here.
                links.append(link(str(shape), LDP + "constrainedBy"))
                if resource.kind == "container":
                    links.append(link(str(shape), "describedby"))
        return links

    def _common(self, target: Target, found: Found | None) -> Headers:
        """Link, Allow, Vary, Accept-Post/-Patch: the same for every RDF source (or
        container) of one container, so made once per such class of resource."""
        kind = found.resource.kind if found else None
        if kind not in ("rdf", "container") or found is None or found.description:
            return self._make_common(target, found)
        container = target.container
        key = (container.path if container else None, target.path == "",
               container is not None and target.path == container.path, target.is_container,
               kind)
        headers = self._headers.get(key)
        if headers is None:
            headers = self._headers[key] = self._make_common(target, found)
        return list(headers)

    def _make_common(self, target: Target, found: Found | None) -> Headers:
        out: Headers = [(b"link", ", ".join(self._links(target, found)).encode("utf-8")),
                        (b"allow", self._allow_for(target).encode()), (b"vary", VARY)]
        kind = found.resource.kind if found else None
        if kind == "container" and target.path != "":
            container = target.container
            accepts = b"*/*" if container is None or container.binary else RDF_POST
            out.append((b"accept-post", accepts))
        if kind in ("rdf", None) or (kind == "container" and target.path != ""):
            out.append((b"accept-patch", ACCEPT_PATCH))
        return out

    # --- GET, HEAD, OPTIONS -------------------------------------------------------------

    async def get(self, scope: Scope, send: Send, target: Target, headers: dict[str, str],
                  *, head: bool, info: TokenInfo | None = None) -> None:
        """A representation (RFC 9110 9.3.1), 304 when the client's copy is current."""
        found = self.node.read(target)
        resource = found.resource
        out = self._common(target, found)
        out.append((b"wac-allow", self._wac_allow(target, headers, info)))
        modified: datetime | None = resource.modified
        preconditions = Preconditions.parse(headers.get("if-match"),
                                            headers.get("if-none-match"),
                                            headers.get("if-modified-since"))
        if resource.kind == "binary" and not found.description:
            media_type = resource.binary_type or "application/octet-stream"
            etag = resource.representations[BINARY_KEY].etag
            body = resource.binary or b""
            # Uploaded files are served from the node's origin: never sniffed, and an
            # uploaded HTML page runs sandboxed (no scripts with the node's origin).
            out += [(b"x-content-type-options", b"nosniff"),
                    (b"content-security-policy", b"sandbox")]
        else:
            offer = conneg.negotiate(headers.get("accept"))
            if offer is None:
                raise NotAcceptable(
                    "Available: " + ", ".join(conneg.RDF_OFFERS),
                    headers={"Vary": "Accept"})
            if resource.kind == "container":
                view = self.node.container_view(target, resource, offer, query_params(scope))
                rep = view.representation
                out.append((b"link", self._paging(target, view)))
                # A page changes with its members: its date is the latest of theirs.
                modified = view.modified
            else:
                found_rep = await self._rendered(target, found, offer)
                if found_rep is None:
                    raise NotAcceptable("Available: " + ", ".join(conneg.RDF_OFFERS))
                rep = found_rep
            media_type, etag, body = rep.media_type, rep.etag, rep.body
            if offer == conneg.JSON:  # JSON-LD 1.1, 6.1: where plain JSON's context is
                out.append((b"link", self.context_link))
        out.append((b"etag", etag.encode()))
        if modified is not None:
            out.append((b"last-modified", _http_date(modified)))
        if preconditions.check_read(etag, modified):
            await send({"type": "http.response.start", "status": 304, "headers": out})
            await send({"type": "http.response.body", "body": b""})
            return
        out.append((b"content-type", media_type.encode()))
        await send_response(send, 200, out, body, head=head)

    async def _rendered(self, target: Target, found: Found,
                        offer: str) -> Representation | None:
        """``found`` as ``offer``: from the cache at once, else awaited from the render
        threads for ``render_timeout`` at most (503 past it, the render goes on). What
        :meth:`Node.rendered` does, without blocking the event loop (issue 9, item 3)."""
        renderings = self.node.renderings
        compact = self.node._compact(target)
        ready = renderings.cached(found.resource, offer, compact=compact)
        if ready is not None:
            return ready
        future = renderings.start(found.resource, offer, compact=compact)
        try:
            # shield: a reader that gives up must not cancel the render others wait for.
            return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)),
                                          renderings.timeout)
        except TimeoutError:
            raise renderings.too_slow(offer) from None

    def _paging(self, target: Target, view: ContainerView) -> bytes:
        """Link first/next/prev (RFC 8288; LDP Paging 6.2.5 names the same relations)."""
        query = view.query
        first = target.iri + ("?" + urlencode(query) if query else "")
        links = [link(first, "first")]
        for rel, cursor in (("next", view.next_cursor), ("prev", view.prev_cursor)):
            if cursor:
                links.append(link(target.iri + "?" + urlencode({**query, "cursor": cursor}),
                                  rel))
        return ", ".join(links).encode("utf-8")

    def _wac_allow(self, target: Target, headers: dict[str, str],
                   info: TokenInfo | None) -> bytes:
        """WAC-Allow (Solid WAC, "WAC-Allow HTTP header"): what these credentials and the
        public may do. A token that is not needed here is still read, never refused: an
        unknown one just makes the user the public."""
        if info is None:
            info = self._credentials(headers)
        scopes = None if info is None else info.scopes
        return wac_allow(target, scopes, self.node.required_scope).encode()

    def _credentials(self, headers: dict[str, str]) -> TokenInfo | None:
        """The grant of the request's bearer token, None when absent or not valid."""
        authorization = headers.get("authorization")
        if not authorization or self.node.tokens is None:
            return None
        kind, _, token = authorization.partition(" ")
        return self.node.tokens.verify(token.strip()) if kind.lower() == "bearer" else None

    async def options(self, send: Send, target: Target, headers: dict[str, str]) -> None:
        """Allow, Accept-Post/-Patch and Link for a resource (RFC 9110 9.3.7).

        OPTIONS needs no token, so in a private container it must not tell an existing
        resource from a missing one (issue 9, item 12): without credentials that may read
        there, every path answers as a missing one does."""
        found: Found | None = None
        container = target.container
        hidden = needs_token(container) and not self._may_read(headers)
        if not hidden:
            try:
                found = self.node.read(target)
            except Problem:  # NotFound, Gone: answered as for nothing there
                found = None
        await send_response(send, 204, self._common(target, found))

    def _may_read(self, headers: dict[str, str]) -> bool:
        # The read rule (ddsnode.ldp.access): scope read or admin; a bad token is the public.
        return reader_for(self.node.tokens, headers.get("authorization")).reads_private

    # --- writes ------------------------------------------------------------------------

    async def write(self, scope: Scope, receive: Receive, send: Send, method: str,
                    target: Target, headers: dict[str, str]) -> None:
        """PUT, POST, PATCH, DELETE: the core does the work on the node's writer thread."""
        preconditions = Preconditions.parse(headers.get("if-match"), headers.get("if-none-match"))
        body = await read_body(scope, receive, headers, self.limit) if method != "DELETE" else b""
        media_type = conneg.media_type_of(headers.get("content-type"))
        node = self.node

        def run(work: Callable[[], Any]) -> Awaitable[Any]:
            return asyncio.wrap_future(node.writer.submit(work))

        if method == "DELETE":
            await run(partial(node.delete, target.iri, preconditions=preconditions))
            await send_response(send, 204, [(b"vary", VARY)])
            return
        if method == "POST":
            slug = headers.get("slug")
            wants_container = _link_type_container(headers.get("link", ""))
            resource = await run(partial(node.post, target.iri, body, media_type, slug=slug,
                                         as_container=wants_container))
            kind = LDP + ("BasicContainer" if resource.kind == "container" else
                          "NonRDFSource" if resource.kind == "binary" else "RDFSource")
            out: Headers = [(b"location", resource.iri.encode("utf-8")),
                            (b"link", link(kind, "type").encode()), (b"vary", VARY)]
            if resource.kind == "binary":
                out.append((b"link", link(resource.iri + ".meta", "describedby").encode("utf-8")))
            await send_response(send, 201, out)
            return
        operation = node.put if method == "PUT" else node.patch
        result = await run(partial(operation, target.iri, body, media_type,
                                   preconditions=preconditions))
        if result.created:
            await send_response(send, 201, [(b"location", target.iri.encode("utf-8")),
                                            (b"vary", VARY)])
        else:
            await send_response(send, 204, [(b"vary", VARY)])


@lru_cache(maxsize=4096)
def _http_date(moment: datetime) -> bytes:
    return http_date(moment).encode()


def _link_type_container(header: str) -> bool:
    """Whether a Link header asks for a container (Solid Protocol 5.2, LDP 5.2.3.4)."""
    for value in header.split(","):
        if 'rel="type"' in value.replace(" ", "") or "rel=type" in value.replace(" ", ""):
            target = value.split(">", 1)[0].strip().lstrip("<")
            if target in (LDP + "BasicContainer", LDP + "Container"):
                return True
    return False
