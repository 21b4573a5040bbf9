"""``/explore/tiles/{z}/{x}/{y}``: the map tiles of the node's own PMTiles archive.

Plain raster tiles, as any XYZ tile server sends them, so Leaflet's ordinary tile layer
draws them from the node's origin (``explorer_map_pmtiles``, ``ddsnode.explorer.tiles``):
the archive is decoded here, on the server, and no PMTiles client runs in the browser.
A tile the archive does not hold is ``204 No Content`` (an empty tile, as tile servers
answer: nothing is drawn there, nothing is an error in the browser's console);
coordinates no map has are 400; a part of the archive that cannot be read is 503 — all
problem+json. Tiles are cached a day and revalidated by a strong ETag of their bytes
(RFC 9110 8.8.3, 13.1.2).
"""

from __future__ import annotations

import asyncio
import re

from ddsnode.explorer.tile_archive import TileArchive
from ddsnode.explorer.tiles import LOCAL_TILES
from ddsnode.http.endpoint import FixedMethodsEndpoint
from ddsnode.http.exchange import Receive, Scope, Send, send_response
from ddsnode.ldp.representation import etag
from ddsnode.problem import BadRequest, NotFound

# z/x/y, decimal digits only (no sign, no space, no extension): anything else is 400.
ZXY = re.compile(r"^([0-9]{1,3})/([0-9]{1,10})/([0-9]{1,10})$")
CACHE = b"public, max-age=86400"


class TileEndpoint(FixedMethodsEndpoint):
    """GET and HEAD of one tile of ``archive``, addressed by the path under LOCAL_TILES."""

    def __init__(self, archive: TileArchive) -> None:
        self.archive = archive
        self.media_type = archive.media_type.encode()

    async def handle(self, scope: Scope, receive: Receive, send: Send, method: str,
                     headers: dict[str, str]) -> None:
        """The tile, 204 when there is none, 304 when the client's copy is current."""
        path: str = scope["path"]
        if not path.startswith(LOCAL_TILES):
            raise NotFound()
        found = ZXY.match(path[len(LOCAL_TILES):])
        if found is None:
            raise BadRequest("A tile's path is /explore/tiles/{z}/{x}/{y} with whole "
                             "numbers")
        z, x, y = (int(g) for g in found.groups())
        tile_id = self.archive.tile_id(z, x, y)  # BadRequest for coordinates no map has
        known, body = self.archive.peek(tile_id)
        if not known:  # a pread or two, maybe a leaf to inflate: off the event loop
            body = await asyncio.to_thread(self.archive.tile, tile_id, f"{z}/{x}/{y}")
        out = [(b"cache-control", CACHE)]
        if body is None:  # no Content-Length on a 204 (RFC 9110 8.6)
            await send({"type": "http.response.start", "status": 204, "headers": out})
            await send({"type": "http.response.body", "body": b""})
            return
        tag = etag(body).encode()
        out.append((b"etag", tag))
        wanted = headers.get("if-none-match") or ""
        if wanted.strip() == "*" or tag.decode() in (t.strip().removeprefix("W/")
                                                     for t in wanted.split(",")):
            await send({"type": "http.response.start", "status": 304, "headers": out})
            await send({"type": "http.response.body", "body": b""})
            return
        out.append((b"content-type", self.media_type))
        await send_response(send, 200, out, body, head=method == "HEAD")
