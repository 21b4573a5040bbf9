"""``create_app(settings)``: the node's ASGI application.

The stack, outermost first: :class:`SecurityHeadersMiddleware` (nosniff on every response,
CSP and framing rules on every page, errors included), :class:`ProblemMiddleware` (any
escaped exception becomes a problem+json response), :class:`CORSMiddleware`, then the
router over the routes table (``routes.py``), which also runs the federation loops for
the app's lifespan. All are plain ASGI: a read passes through a dict lookup and a few
function calls before the resource endpoint, which keeps it close to a static response.
"""

from __future__ import annotations

import logging

from ddsnode.assembly import assemble
from ddsnode.explorer.tiles import map_layer
from ddsnode.http.errors import ProblemMiddleware
from ddsnode.http.exchange import ASGIApp
from ddsnode.http.middleware import CORSMiddleware, SecurityHeadersMiddleware
from ddsnode.http.routes import Router, routes
from ddsnode.settings import Settings


def create_app(settings: Settings) -> ASGIApp:
    """The ASGI app serving ``settings``' node, assembled by the composition root."""
    logging.getLogger("ddsnode").setLevel(str(settings.log_level).upper())
    # Checked before anything is opened: a refused tile setting (or a corrupt tile
    # archive) leaves nothing running. The explorer opens the archive again to serve it:
    # a header and a root directory read twice at start.
    drawn, archive = map_layer(settings)  # ValueError: refused
    tiles = drawn.origin  # None for the node's own tiles: img-src 'self' covers them
    del archive
    assembly = assemble(settings)
    router = Router(routes(assembly), assembly)
    app = SecurityHeadersMiddleware(ProblemMiddleware(CORSMiddleware(router,
                                                                      settings.cors_origins)),
                                    image_origins=(tiles,) if tiles else ())
    app.node = assembly.node  # type: ignore[attr-defined]  # for tests and the CLI
    app.assembly = assembly  # type: ignore[attr-defined]
    return app
