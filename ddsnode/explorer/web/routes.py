"""The explorer's routes, for the node's one routes table (``ddsnode.http.routes``).

Explorer engineers add their rows here: ``/explore`` (search), ``/explore/resource``
(copies of peers' resources), ``/explore/static/…``; the directory and the map add
theirs below. :func:`explorer_pages` wraps the LDP endpoint so that browsers get pages.
"""

from __future__ import annotations

from typing import Any

from ddsnode.explorer.tiles import LOCAL_TILES
from ddsnode.explorer.web.directory import directory_routes
from ddsnode.explorer.web.endpoints import (
    ExplorerPages,
    PeerResourceEndpoint,
    SearchEndpoint,
    static_files,
)
from ddsnode.explorer.web.map_tiles import TileEndpoint
from ddsnode.explorer.web.site import Site
from ddsnode.explorer.web.voter import voter_routes
from ddsnode.federation.hub import Federation
from ddsnode.http.exchange import ASGIApp


def site_of(node: Any) -> Site:
    """The one explorer Site of ``node`` (made on first use)."""
    existing = getattr(node, "_explorer", None)
    if existing is None:
        existing = Site(node, Federation.for_node(node))
        node._explorer = existing
    return existing


def explorer_routes(node: Any) -> list[tuple[str, ASGIApp, str]]:
    """(path, endpoint, name) of the explorer's fixed paths."""
    site = site_of(node)
    rows: list[tuple[str, ASGIApp, str]] = [
        ("/explore", SearchEndpoint(site), "explore-search"),
        ("/explore/resource", PeerResourceEndpoint(site), "explore-resource"),
    ]
    rows += [(path, endpoint, "explore-static") for path, endpoint in static_files()]
    if site.tile_archive is not None:  # explorer_map_pmtiles: every path under it
        rows.append((LOCAL_TILES + "*", TileEndpoint(site.tile_archive), "explore-tiles"))
    rows += directory_routes(node)  # the directory and its map (docs/directory.md)
    rows += voter_routes(node)  # where do I vote, ballots, results (docs/voter.md)
    return rows


def explorer_pages(app: ASGIApp, node: Any) -> ASGIApp:
    """The LDP endpoint ``app`` with the explorer's pages for browsers."""
    return ExplorerPages(app, site_of(node))
