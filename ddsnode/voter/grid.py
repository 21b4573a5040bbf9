"""The grid of nearest stations, computed ahead of time, so a point costs no geometry.

The stations' area (their bounding box plus one cell) is cut into square cells of
``voter_grid_degrees``. For each cell the build decides, once:

- the unit that encloses the cell's centre, when units have outlines (``gsp:asWKT``
  polygons, GeoSPARQL 1.1 8.5.2; even-odd rule, so holes and multipolygons hold), and
- the stations that may be nearest to some point of the cell, among the stations that
  serve that unit (all stations when no outline encloses it): a station is kept when its
  distance to the centre is at most the smallest such distance plus the cell's diameter
  (by the triangle inequality the nearest station to any point of the cell is then kept).

A request reads its cell and measures a handful of distances. The enclosing unit is
decided at the resolution of a cell: a point within half a cell of a boundary may be
answered for the unit next door (docs/voter.md), the price of no polygon per request.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

RING = re.compile(r"\(([^()]+)\)")
MAX_VERTICES = 200_000  # per build: a hostile outline costs a bounded amount


@dataclass(frozen=True)
class Outline:
    """A unit's polygon rings and their bounding box."""

    unit: str
    rings: tuple[tuple[tuple[float, float], ...], ...]
    box: tuple[float, float, float, float]  # west, south, east, north

    def contains(self, long: float, lat: float) -> bool:
        """Whether (long, lat) is inside (even-odd rule over every ring)."""
        west, south, east, north = self.box
        if not (west <= long <= east and south <= lat <= north):
            return False
        inside = False
        for ring in self.rings:
            for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
                if (y1 > lat) != (y2 > lat) and \
                        long < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
                    inside = not inside
        return inside


def outlines(geometry: dict[str, str]) -> list[Outline]:
    """The polygon outlines of ``geometry`` (unit -> WKT); others are left out."""
    out, budget = [], MAX_VERTICES
    for unit, wkt in sorted(geometry.items()):
        body = wkt.split(">", 1)[-1]  # an optional CRS IRI comes first (GeoSPARQL 8.5.1)
        rings: list[tuple[tuple[float, float], ...]] = []
        for text in RING.findall(body):
            try:
                ring = tuple((float(p.split()[0]), float(p.split()[1]))
                             for p in text.split(",") if len(p.split()) >= 2)
            except ValueError:
                rings = []
                break
            if len(ring) >= 3:
                rings.append(ring)
                budget -= len(ring)
        if not rings or budget < 0:
            continue
        xs = [x for ring in rings for x, _ in ring]
        ys = [y for ring in rings for _, y in ring]
        out.append(Outline(unit, tuple(rings), (min(xs), min(ys), max(xs), max(ys))))
    return out


def distance(lat1: float, long1: float, lat2: float, long2: float) -> float:
    """Equirectangular distance in degrees of latitude: exact enough within a city."""
    x = (long2 - long1) * math.cos(math.radians((lat1 + lat2) / 2))
    return math.hypot(x, lat2 - lat1)


@dataclass(frozen=True)
class Shape:
    """Where the grid lies: cell size, rows, columns, south-west corner."""

    size: float
    rows: int
    cols: int
    south: float
    west: float


def cells(stations: list[tuple[int, float, float]], size: float, most: int,
          areas: Iterable[Outline] = (),
          serving: dict[str, set[int]] | None = None
          ) -> tuple[Shape | None, dict[int, tuple[str | None, list[int]]]]:
    """The grid's shape and cell -> (enclosing unit or None, candidate station ids).

    ``stations``: (id, lat, long); ``serving``: unit -> ids of the stations serving its
    voters. None and no cells when there are no stations or the grid would exceed
    ``most`` cells.
    """
    if not stations:
        return None, {}
    lats = [s[1] for s in stations]
    longs = [s[2] for s in stations]
    south, west = min(lats) - size, min(longs) - size
    rows = int((max(lats) + size - south) / size) + 1
    cols = int((max(longs) + size - west) / size) + 1
    if rows * cols > most:
        return None, {}
    areas = list(areas)
    serving = serving or {}
    radius = size * math.sqrt(2)
    out: dict[int, tuple[str | None, list[int]]] = {}
    for r in range(rows):
        for c in range(cols):
            lat, long = south + (r + 0.5) * size, west + (c + 0.5) * size
            unit = next((a.unit for a in areas if a.contains(long, lat)), None)
            allowed = serving.get(unit, set()) if unit is not None else set()
            pool = [s for s in stations if s[0] in allowed] or stations
            dists = [(distance(lat, long, s[1], s[2]), s[0]) for s in pool]
            nearest = min(d for d, _ in dists)
            out[r * cols + c] = (unit, sorted(i for d, i in dists if d <= nearest + radius))
    return Shape(size, rows, cols, south, west), out
