"""Election night's read paths: ``{election}/results/…`` and ``/.well-known/jwks.json``.

Served from memory (:class:`ddsnode.publication.shelf.Shelf`), with no RDF parsing,
SPARQL or SHACL: a path split, a dict lookup, a few header lines.

- ``{election}/results/current``: the pointer, short-lived (``max-age=2``) but usable
  for a while when the node errs (``stale-if-error``, RFC 5861 4).
- ``{election}/results/g/{n}/{file}``: never changes (``immutable``, RFC 8246), strong
  ETag = its SHA-256 (RFC 9110 8.8.3), 304 on a matching If-None-Match (RFC 9110
  13.1.2), the pre-compressed twin to a client that accepts gzip (RFC 9110 12.5.3).
- ``{election}/results/changes?since=G``: contests and units changed after generation G.

Any other path, and any election not published here, goes on to the LDP resources;
the election resource itself gets a ``Link`` to its pointer (rel
``https://w3id.org/dds/ns#resultsPointer``, an extension relation, RFC 8288 2.1.2).
"""

from __future__ import annotations

from ddsnode.http.endpoint import FixedMethodsEndpoint
from ddsnode.http.exchange import (
    ASGIApp,
    Message,
    Receive,
    Scope,
    Send,
    query_params,
    send_response,
)
from ddsnode.problem import BadRequest, NotFound
from ddsnode.publication.hub import Publication
from ddsnode.publication.shelf import Served

IMMUTABLE = b"public, max-age=31536000, immutable"
POINTER_CACHE = b"public, max-age=2, stale-if-error=300"
CHANGES_CACHE = b"public, max-age=2"
POINTER_REL = "https://w3id.org/dds/ns#resultsPointer"
MARKER = "/results/"


def accepts_gzip(value: str | None) -> bool:
    """Whether an Accept-Encoding value accepts gzip (RFC 9110 12.5.3; q=0 refuses)."""
    for item in (value or "").split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip().lower() in ("gzip", "x-gzip", "*"):
            q = params.strip().lower()
            return not (q.startswith("q=") and q[2:].strip().rstrip("0").rstrip(".") in
                        ("0", ""))
    return False


def matches(if_none_match: str | None, etag: str) -> bool:
    """Whether If-None-Match names ``etag`` (weak comparison, RFC 9110 13.1.2)."""
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags


class ResultsFiles(FixedMethodsEndpoint):
    """The pointer, generation files and changes of the elections published here."""

    def __init__(self, publication: Publication, changes_limit: int) -> None:
        self.publication = publication
        self.shelf = publication.shelf
        self.changes_limit = changes_limit

    def refusal(self, method: str, path: str) -> str:
        """Published results are read-only."""
        return "published results are read-only"

    async def handle(self, scope: Scope, receive: Receive, send: Send, method: str,
                     headers: dict[str, str]) -> None:
        """Answer GET or HEAD for ``{election}/results/{rest}``."""
        election_path, _, rest = scope["path"].lstrip("/").partition(MARKER)
        head = method == "HEAD"
        if rest == "current":
            pointer = self.shelf.pointer(election_path)
            if pointer is None:
                raise NotFound("nothing is published for this election yet")
            etag = '"' + pointer.manifest_sha256 + '"'
            await _send(send, headers, Served(pointer.raw, etag, "application/json"),
                        POINTER_CACHE, head)
        elif rest == "changes":
            await self._changes(scope, send, election_path, head)
        else:
            served = self.shelf.file(election_path, rest)
            if served is None:
                raise NotFound("no such file in a published generation")
            await _send(send, headers, served, IMMUTABLE, head)

    async def _changes(self, scope: Scope, send: Send, election_path: str,
                       head: bool) -> None:
        params = query_params(scope)
        raw = params.get("since", "0")
        if set(params) - {"since"}:
            raise BadRequest("results/changes takes one parameter: since")
        if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
            raise BadRequest("since is a generation number (0 or more, at most 12 digits)")
        try:
            body = self.shelf.changes_body(election_path, int(raw), self.changes_limit)
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        if body is None:
            raise NotFound("nothing is published for this election yet")
        await send_response(send, 200, [(b"content-type", b"application/json"),
                                        (b"cache-control", CHANGES_CACHE)], body, head=head)


async def _send(send: Send, headers: dict[str, str], served: Served, cache: bytes,
                head: bool) -> None:
    body, etag, extra = served.body, served.etag, []
    if served.gz is not None and served.gz_etag is not None:
        extra.append((b"vary", b"Accept-Encoding"))
        if accepts_gzip(headers.get("accept-encoding")):
            # A distinct strong ETag for the compressed representation (RFC 9110 8.8.3).
            body, etag = served.gz, served.gz_etag
            extra.append((b"content-encoding", b"gzip"))
    out = [(b"etag", etag.encode()), (b"cache-control", cache), *extra]
    if matches(headers.get("if-none-match"), etag):
        await send_response(send, 304, out, head=True)
        return
    out.append((b"content-type", served.media_type.encode()))
    await send_response(send, 200, out, body, head=head)


class PublicationPaths:
    """ASGI wrapper: results paths of published elections here, everything else ``inner``."""

    def __init__(self, inner: ASGIApp, publication: Publication, changes_limit: int,
                 base: str) -> None:
        self.inner = inner
        self.files = ResultsFiles(publication, changes_limit)
        self.shelf = publication.shelf
        self.base = base

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"].lstrip("/")
        if MARKER in path:
            election_path = path.partition(MARKER)[0]
            if self.shelf.published(election_path):
                await self.files(scope, receive, send)
                return
        elif path and self.shelf.published(path) and scope.get("method") in ("GET", "HEAD"):
            await self.inner(scope, receive, self._linking(send, path))
            return
        await self.inner(scope, receive, send)

    def _linking(self, send: Send, path: str) -> Send:
        link = f'<{self.base}{path}/results/current>; rel="{POINTER_REL}"'.encode()

        async def linked(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in (200, 304):
                message = {**message, "headers": [*message.get("headers", []),
                                                   (b"link", link)]}
            await send(message)
        return linked


class JwksEndpoint(FixedMethodsEndpoint):
    """``/.well-known/jwks.json``: the keys manifests are signed with (RFC 7517 5)."""

    def __init__(self, publication: Publication) -> None:
        self.publication = publication

    def refusal(self, method: str, path: str) -> str:
        """The JWKS is read-only."""
        return "the JWKS is read-only"

    async def handle(self, scope: Scope, receive: Receive, send: Send, method: str,
                     headers: dict[str, str]) -> None:
        """GET or HEAD: the JWK Set."""
        body = self.publication.jwks_bytes()
        if body is None:
            raise NotFound("this node has no publication keys")
        await send_response(send, 200, [(b"content-type", b"application/jwk-set+json"),
                                        (b"cache-control", b"public, max-age=300")], body,
                            head=method == "HEAD")
