"""Pure ASGI middleware: CORS (Fetch standard, 3.2 "CORS protocol").

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
                       (b"vary", b"Origin, Access-Control-Request-Method, "
                                 b"Access-Control-Request-Headers"),
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
