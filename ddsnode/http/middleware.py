"""Pure ASGI middleware: CORS (Fetch standard, 3.2 "CORS protocol") and security headers.

Browser apps on other origins may read everything public and, with a bearer token,
write. A request without ``Origin`` passes straight through (no wrapping cost).
"""

from __future__ import annotations

from ddsnode.http.exchange import ASGIApp, Message, Receive, Scope, Send

EXPOSE = (b"Link, ETag, Location, Allow, Accept-Patch, Accept-Post, Last-Modified, "
          b"Content-Type, Content-Length, WWW-Authenticate, Vary, WAC-Allow")
METHODS = b"GET, HEAD, OPTIONS, POST, PUT, PATCH, DELETE"
DEFAULT_HEADERS = (b"Accept, Authorization, Content-Type, If-Match, If-None-Match, "
                   b"If-Modified-Since, Link, Slug")
MAX_AGE = b"600"


class CORSMiddleware:
    """Adds CORS headers for allowed origins and answers preflight requests itself."""

    def __init__(self, app: ASGIApp, origins: str) -> None:
        self.app = app
        listed = {o.strip().rstrip("/") for o in origins.split(",") if o.strip()}
        self.any = "*" in listed
        self.origins = {o.encode("latin-1") for o in listed}

    def _allowed(self, origin: bytes) -> bool:
        return self.any or origin in self.origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        origin = None
        request_method = request_headers = None
        for name, value in scope["headers"]:
            if name == b"origin":
                origin = value
            elif name == b"access-control-request-method":
                request_method = value
            elif name == b"access-control-request-headers":
                request_headers = value
        if origin is None or not self._allowed(origin):
            await self.app(scope, receive, send)
            return
        allow_origin = b"*" if self.any else origin
        if scope["method"] == "OPTIONS" and request_method is not None:
            # A preflight (Fetch 3.2.2): answered here, the resource is not consulted.
            headers = [(b"access-control-allow-origin", allow_origin),
                       (b"access-control-allow-methods", METHODS),
                       (b"access-control-allow-headers", request_headers or DEFAULT_HEADERS),
                       (b"access-control-max-age", MAX_AGE),
                       (b"vary", (b"Origin, Access-Control-Request-Method, "
                                  b"Access-Control-Request-Headers")),
                       (b"content-length", b"0")]
            await send({"type": "http.response.start", "status": 204, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return

        async def cors_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"access-control-allow-origin", allow_origin))
                headers.append((b"access-control-expose-headers", EXPOSE))
                if not self.any:
                    headers.append((b"vary", b"Origin"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, cors_send)


# Pages run nothing but what the node serves: no inline script or style, no plugin, no
# <base> rewrite, not framed by anyone (CSP Level 3; frame-ancestors supersedes
# X-Frame-Options, which older browsers still read), forms post to the node only.
PAGE_POLICY = (b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
               b"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
               b"form-action 'self'")
NOSNIFF = (b"x-content-type-options", b"nosniff")
PAGE_HEADERS = (NOSNIFF, (b"content-security-policy", PAGE_POLICY),
                (b"x-frame-options", b"DENY"), (b"referrer-policy", b"same-origin"))
# Media types a browser renders as an active document (scripts may run in them).
ACTIVE_TYPES = (b"text/html", b"application/xhtml+xml", b"image/svg+xml")


class SecurityHeadersMiddleware:
    """Pure ASGI middleware: ``nosniff`` on every response (so a browser never runs a body
    as another type than the one sent, Fetch 3.7), and on every page (HTML, XHTML, SVG)
    the Content-Security-Policy, X-Frame-Options and Referrer-Policy above."""

    def __init__(self, app: ASGIApp, image_origins: tuple[str, ...] = ()) -> None:
        self.app = app
        # The operator's tile host for the explorer's maps (explorer_map_leaflet, checked by
        # ddsnode.explorer.tiles): the one origin pages may load images from besides self.
        policy = PAGE_POLICY.replace(b"img-src 'self'", b" ".join(
            [b"img-src 'self'", *(o.encode("ascii") for o in image_origins)]))
        self.page_headers = ((NOSNIFF, (b"content-security-policy", policy), *PAGE_HEADERS[2:])
                             if image_origins else PAGE_HEADERS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def secured_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                page = sniff = False
                for name, value in headers:
                    if name == b"content-type":
                        page = value.lower().startswith(ACTIVE_TYPES)
                    elif name == b"x-content-type-options":
                        sniff = True
                if page:
                    # An uploaded file keeps its own policy (sandbox) beside this one:
                    # browsers enforce every policy sent (CSP 3, 8.1).
                    headers += self.page_headers[1:] if sniff else self.page_headers
                elif not sniff:
                    headers.append(NOSNIFF)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, secured_send)
