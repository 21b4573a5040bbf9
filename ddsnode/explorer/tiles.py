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
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")
# What a template may hold besides Leaflet's placeholders: a URL path and query, no
# quotes, spaces, semicolons or commas (a CSP or HTML attribute separator).
SAFE = re.compile(r"^[A-Za-z0-9\-._~/?&=%:@+]*$")
PLACEHOLDERS = ("{z}", "{x}", "{y}")
MAX_LENGTH = 512


@dataclass(frozen=True)
class Leaflet:
    """How the maps are drawn: with Leaflet or not, and the tile layer if any."""

    enabled: bool = False
    tiles: str = ""  # a URL template, checked (tile_origin)
    credit: str = ""  # shown as text on the map
    origin: str | None = None  # what the pages' CSP img-src adds


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
