"""Leaflet on the explorer's maps, and the tile layer an operator may give them.

``explorer_map_leaflet`` is empty (the server-rendered SVG map only, no script), ``on``
(Leaflet, no tile layer), or a tile URL template followed by the credit the tile provider
asks for (``https://tile.openstreetmap.org/{z}/{x}/{y}.png © OpenStreetMap
contributors``): :func:`leaflet` reads it.

A tile URL template sends every visitor's browser to the tile host, so it is the
operator's explicit choice (docs/security.md, "Explorer maps"), never a default. The
pages' Content-Security-Policy allows images from that one origin (``img-src``): the
template is checked here before it reaches a header or a page, so a setting cannot
widen the policy with another directive (``;``), a wildcard, a path trick or quotes.

``explorer_map_pmtiles`` is the other way to a tile layer, and the one that sends no
visitor anywhere: the path of a raster PMTiles archive on the node's disk, then its
credit (``/srv/maps/region.pmtiles © OpenStreetMap contributors``; without one, the
archive metadata's ``attribution`` as text). The node reads the archive itself
(:mod:`ddsnode.explorer.tile_archive`) and serves its tiles at
``/explore/tiles/{z}/{x}/{y}``: Leaflet's plain tile layer draws them from the node's
own origin, so the pages' policy stays ``img-src 'self'``. :func:`map_layer` reads both
settings (one tile layer at most) and opens the archive, refusing a corrupt one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ddsnode.explorer.tile_archive import ArchiveLimits, TileArchive

HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")
# What a template may hold besides Leaflet's placeholders: a URL path and query, no
# quotes, spaces, semicolons or commas (a CSP or HTML attribute separator).
SAFE = re.compile(r"^[A-Za-z0-9\-._~/?&=%:@+]*$")
PLACEHOLDERS = ("{z}", "{x}", "{y}")
MAX_LENGTH = 512
LOCAL_TILES = "/explore/tiles/"  # where the node serves its own archive's tiles
# The archive's path ends at its ".pmtiles"; whatever follows is the credit.
PMTILES = re.compile(r"^(.+?\.pmtiles)(?:\s+(.*))?$", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Leaflet:
    """How the maps are drawn: with Leaflet or not, and the tile layer if any."""

    enabled: bool = False
    tiles: str = ""  # a URL template, checked (tile_origin)
    credit: str = ""  # shown as text on the map
    origin: str | None = None  # what the pages' CSP img-src adds
    zooms: str = ""  # "min max" zoom of the node's own tiles (Leaflet over-zooms past max)
    bounds: str = ""  # "south,west,north,east" the node's own tiles cover


def leaflet(setting: str) -> Leaflet:
    """The ``explorer_map_leaflet`` setting read (see the module docstring); ValueError
    naming the setting for a value that is none of the three."""
    value = setting.strip()
    if not value:
        return Leaflet()
    if value.lower() == "on":
        return Leaflet(enabled=True)
    template, _, credit = value.partition(" ")
    if not template.startswith(("https://", "http://")):
        raise ValueError("explorer_map_leaflet: expected '', 'on', or a tile URL template "
                         f"and its credit (got {value[:100]!r})")
    return Leaflet(True, template, credit.strip(), tile_origin(template))


def tile_origin(template: str) -> str | None:
    """The origin (``https://host[:port]``) the pages may load tiles from, for the
    tile template; None when there is none. ValueError, naming the setting, for anything but an https template on a plain host name with
    ``{z}``, ``{x}`` and ``{y}`` (``{s}``, ``{r}`` allowed)."""
    if not template:
        return None
    problem = _problem(template)
    if problem:
        raise ValueError(f"explorer_map_leaflet: {problem} (got {template[:100]!r})")
    parts = urlsplit(template.replace("{s}", "a"))
    port = f":{parts.port}" if parts.port else ""
    host = str(parts.hostname)
    if urlsplit(template).netloc.startswith("{s}."):
        # Subdomains a, b, c…: CSP's host wildcard (CSP 3, 2.3.2 host-source).
        host = "*." + host.split(".", 1)[1]
    return f"https://{host}{port}"


def _problem(template: str) -> str | None:
    if len(template) > MAX_LENGTH:
        return f"longer than {MAX_LENGTH} characters"
    if not template.startswith("https://"):
        return "a tile URL must be https:// (visitors' pages are fetched over it)"
    if not all(p in template for p in PLACEHOLDERS):
        return "a tile URL template needs {z}, {x} and {y}"
    rest = template
    for placeholder in (*PLACEHOLDERS, "{s}", "{r}"):
        rest = rest.replace(placeholder, "")
    if not SAFE.match(rest):
        return "only a URL's characters are allowed (no quotes, spaces, ';' or ',')"
    try:
        parts = urlsplit(template.replace("{s}", "a"))
        parts.port  # noqa: B018 — raises on a port that is not a number
    except ValueError:
        return "not a URL"
    host = parts.hostname or ""
    if parts.username or parts.password or "@" in parts.netloc:
        return "no user information in a tile URL"
    if not HOST.match(host):
        return "the host must be a plain host name (letters, digits, '-', '.', or {s})"
    return None


def map_layer(settings: Any) -> tuple[Leaflet, TileArchive | None]:
    """How the maps are drawn, from ``explorer_map_leaflet`` and ``explorer_map_pmtiles``,
    and the archive the node serves tiles from, opened and checked (None without one).
    ValueError naming the setting for a bad value, two tile layers, or a corrupt archive."""
    drawn = leaflet(str(settings.explorer_map_leaflet or ""))
    value = str(settings.explorer_map_pmtiles or "").strip()
    if not value:
        return drawn, None
    if drawn.tiles:
        raise ValueError("explorer_map_leaflet and explorer_map_pmtiles both give the maps a "
                         "tile layer: keep one")
    found = PMTILES.match(value)
    if found is None:
        raise ValueError("explorer_map_pmtiles: expected the path of a .pmtiles file, then "
                         f"its credit (got {value[:100]!r})")
    path = Path(found.group(1)).expanduser()
    if not path.is_absolute() and settings.node_dir is not None:
        path = Path(settings.node_dir) / path  # as settings.toml sits in the node directory
    try:
        archive = TileArchive(path, ArchiveLimits.from_settings(settings))
    except ValueError as e:
        raise ValueError(f"explorer_map_pmtiles: {e}") from None
    south, west, north, east = archive.bounds
    bounds = (f"{south:.7f},{west:.7f},{north:.7f},{east:.7f}"
              if -90 <= south < north <= 90 and -180 <= west < east <= 180 else "")
    return Leaflet(True, LOCAL_TILES + "{z}/{x}/{y}",
                   " ".join((found.group(2) or "").split()) or archive.attribution, None,
                   f"{archive.min_zoom} {archive.max_zoom}", bounds), archive
