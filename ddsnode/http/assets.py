"""Static files of the node's own pages (``/assets/…``): today the one stylesheet.

They are served by the node, never inline and never from a CDN, so that the HTML pages'
Content-Security-Policy can allow styles and scripts from the node's origin only
(``ddsnode.http.middleware.SecurityHeadersMiddleware``).
"""

from __future__ import annotations

from importlib import resources

from ddsnode.http.endpoint import FixedMethodsEndpoint
from ddsnode.http.exchange import Receive, Scope, Send, send_response
from ddsnode.ldp.html import STYLESHEET
from ddsnode.ldp.representation import etag

CSS = b"text/css; charset=utf-8"


class AssetEndpoint(FixedMethodsEndpoint):
    """ASGI app serving one file shipped in a package folder (``ddsnode/assets`` by
    default; the explorer's ``static``): GET, HEAD, 304 on If-None-Match."""

    def __init__(self, name: str, media_type: bytes, *, package: str = "ddsnode",
                 folder: str = "assets") -> None:
        self.body = (resources.files(package) / folder / name).read_bytes()
        self.etag = etag(self.body).encode()
        self.media_type = media_type

    async def handle(self, scope: Scope, receive: Receive, send: Send, method: str,
                     headers: dict[str, str]) -> None:
        """The file; 304 when the client's copy is current (RFC 9110 13.1.2)."""
        out = [(b"etag", self.etag), (b"cache-control", b"public, max-age=3600")]
        if self.etag.decode() in (headers.get("if-none-match") or ""):
            await send({"type": "http.response.start", "status": 304, "headers": out})
            await send({"type": "http.response.body", "body": b""})
            return
        out.append((b"content-type", self.media_type))
        await send_response(send, 200, out, self.body, head=method == "HEAD")


def asset_routes() -> list[tuple[str, AssetEndpoint, str]]:
    """(path, endpoint, name) of every asset, for the routes table."""
    return [(STYLESHEET, AssetEndpoint("page.css", CSS), "stylesheet"),
            # Browsers ask every origin for /favicon.ico; a 404 there is a console error
            # on every page (tests/test_browser_pages.py fails on any).
            ("/favicon.ico", AssetEndpoint("favicon.ico", b"image/x-icon"), "favicon")]
