"""A map without a tile server: points of a filter as server-rendered SVG, and as GeoJSON.

No third-party tile server, API key or script: the default deployment must not tell a
tile provider who looks at which page (issue 12). The SVG shows the outlines the node
knows (its places' ``gsp:asWKT`` geometries, GeoSPARQL 1.1 8.5.2) and the points of the
current filter, grouped on a grid whose cells are a fixed number of pixels at the zoom of
the bounding box, so a map of 10,000 points has at most one marker per cell. It carries a
``<title>`` and a ``<desc>`` (WCAG 2.1 1.1.1), and the page that embeds it links to the
same results as a list (the text alternative).

Markup is built with :mod:`xml.etree.ElementTree`, which escapes every text and attribute
value; no value from data is ever formatted into markup. Only ``http(s)`` links become
links (a ``javascript:`` IRI never does).
"""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import numpy.typing as npt

from ddsnode.explorer.directory_messages import formatted

SVG_NS = "http://www.w3.org/2000/svg"
CELL = 40  # pixels: points closer than this on the map are drawn as one group
MAX_OUTLINE_VERTICES = 20_000  # per map: a hostile geometry costs a bounded amount
NAMED = 5  # points a cluster's label names; the others are counted
DETAIL_LIMIT = 500  # GeoJSON: a Feature per point up to this many, else one MultiPoint
PRECISION = 4  # decimal places of degrees in GeoJSON (about 11 m)
WORLD = (-180.0, -60.0, 180.0, 75.0)
WKT_RING = re.compile(r"\(([^()]*)\)")
WKT_KIND = re.compile(r"\s*(?:<[^>]*>\s*)?([A-Za-z]+)")
FloatArray = npt.NDArray[np.float64]


Bbox = tuple[float, float, float, float]  # min long, min lat, max long, max lat


@dataclass(frozen=True)
class MapPoint:
    """A point to show: where, what it is called, and the page it links to."""

    long: float
    lat: float
    label: str
    link: str


@dataclass(frozen=True)
class Outline:
    """An outline the node knows: a place's label and its WKT geometry."""

    label: str
    wkt: str


@dataclass(frozen=True)
class Group:
    """Points that fall in one grid cell: drawn as one marker (one point) or a cluster.

    ``points`` are all of them, or the first few when ``count`` says more (a map of
    every result with a place names a cluster's first points and counts the rest);
    ``area`` is the box a cluster's link narrows to (its points' box when None)."""

    x: float
    y: float
    points: tuple[MapPoint, ...]
    count: int = 0  # 0: len(points)
    area: Bbox | None = None

    @property
    def size(self) -> int:
        """How many points the group stands for."""
        return self.count or len(self.points)


def bbox_of(points: Sequence[MapPoint], pad: float = 0.1) -> Bbox:
    """The bounding box of ``points`` with a margin (the world's when there are none)."""
    if not points:
        return WORLD
    xs, ys = [p.long for p in points], [p.lat for p in points]
    return padded((min(xs), min(ys), max(xs), max(ys)), pad)


def padded(box: Bbox, pad: float) -> Bbox:
    """``box`` grown by ``pad`` of its size on each side (at least 0.05 degree), within
    the world."""
    dx = max((box[2] - box[0]) * pad, 0.05)
    dy = max((box[3] - box[1]) * pad, 0.05)
    return (max(box[0] - dx, -180.0), max(box[1] - dy, -85.0),
            min(box[2] + dx, 180.0), min(box[3] + dy, 85.0))


class Projection:
    """Equirectangular, scaled by the cosine of the middle latitude, fitted in the view."""

    def __init__(self, bbox: Bbox, width: int, height: int) -> None:
        min_x, min_y, max_x, max_y = bbox
        self.k = math.cos(math.radians((min_y + max_y) / 2)) or 1e-6
        span_x = max((max_x - min_x) * self.k, 1e-9)
        span_y = max(max_y - min_y, 1e-9)
        self.scale = min(width / span_x, height / span_y)
        self.off_x = (width - span_x * self.scale) / 2
        self.off_y = (height - span_y * self.scale) / 2
        self.min_x, self.max_y = min_x, max_y

    def __call__(self, long: float, lat: float) -> tuple[float, float]:
        """Pixel coordinates of a point."""
        return (self.off_x + (long - self.min_x) * self.k * self.scale,
                self.off_y + (self.max_y - lat) * self.scale)


def _inside(p: MapPoint, bbox: Bbox) -> bool:
    return bbox[0] <= p.long <= bbox[2] and bbox[1] <= p.lat <= bbox[3]


def cluster_points(points: Iterable[MapPoint], bbox: Bbox, width: int, height: int,
                   cell: int = CELL) -> list[Group]:
    """Group the points inside ``bbox`` by grid cell of ``cell`` pixels; a group sits at
    the mean of its points."""
    project = Projection(bbox, width, height)
    cells: dict[tuple[int, int], list[tuple[float, float, MapPoint]]] = {}
    for p in points:
        if not _inside(p, bbox):
            continue
        x, y = project(p.long, p.lat)
        cells.setdefault((int(x // cell), int(y // cell)), []).append((x, y, p))
    groups = []
    for key in sorted(cells):
        members = cells[key]
        groups.append(Group(sum(m[0] for m in members) / len(members),
                            sum(m[1] for m in members) / len(members),
                            tuple(m[2] for m in members)))
    return groups


@dataclass(frozen=True)
class Cell:
    """A cell of :func:`grid`: where its marker is drawn, how many points it holds, the
    box a cluster's link narrows to, and the positions of its first points."""

    x: float
    y: float
    long: float  # the mean of its points (where Leaflet draws it)
    lat: float
    count: int
    area: Bbox
    first: tuple[int, ...]  # positions in the arrays given to grid, at most NAMED


def grid(longs: FloatArray, lats: FloatArray, bbox: Bbox, width: int, height: int,
         limit: int, cell: int = CELL) -> list[Cell]:
    """Every point inside ``bbox`` counted in one cell of a grid of ``cell`` pixels,
    the grid made coarser (×1.5) until at most ``limit`` cells hold points: a map of
    100,000 points costs ``limit`` markers, and the counts add up to every point
    (what a cluster links to lists them). Vectorised (numpy) for the explorer's maps of
    every result with a place; :func:`cluster_points` is the same for a few points."""
    project = Projection(bbox, width, height)
    inside = np.flatnonzero((longs >= bbox[0]) & (longs <= bbox[2])
                            & (lats >= bbox[1]) & (lats <= bbox[3]))
    if not len(inside):
        return []
    long_in, lat_in = longs[inside], lats[inside]
    # Clipped: a rounding error never puts a point in a cell of its own off the map.
    x = np.clip(project.off_x + (long_in - project.min_x) * project.k * project.scale,
                0, width)
    y = np.clip(project.off_y + (project.max_y - lat_in) * project.scale, 0, height)
    size = float(cell)
    while True:
        columns = int(width // size) + 1
        key = (y // size).astype(np.int64) * columns + (x // size).astype(np.int64)
        _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
        # Beyond the map's size every point is in cell 0: the loop ends.
        if len(counts) <= max(limit, 1):
            break
        size *= 1.5
    order = np.argsort(inverse, kind="stable")  # by cell, then as given
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    mean_x = np.bincount(inverse, weights=x) / counts
    mean_y = np.bincount(inverse, weights=y) / counts
    by_cell_long, by_cell_lat = long_in[order], lat_in[order]
    west, east = (np.minimum.reduceat(by_cell_long, starts),
                  np.maximum.reduceat(by_cell_long, starts))
    south, north = (np.minimum.reduceat(by_cell_lat, starts),
                    np.maximum.reduceat(by_cell_lat, starts))
    mean_long = np.bincount(inverse, weights=long_in) / counts
    mean_lat = np.bincount(inverse, weights=lat_in) / counts
    positions = inside[order]
    return [Cell(float(mean_x[i]), float(mean_y[i]), float(mean_long[i]),
                 float(mean_lat[i]), int(counts[i]),
                 padded((float(west[i]), float(south[i]), float(east[i]), float(north[i])),
                        0.05),
                 tuple(int(p) for p in positions[starts[i]:starts[i] + min(counts[i], NAMED)]))
            for i in range(len(counts))]


def _safe_link(link: str) -> str | None:
    return link if urlsplit(link).scheme in ("http", "https") else None


def _local_link(link: str) -> str | None:
    """A path on this node (``/explore?…``), never another host (``//…``)."""
    return link if link.startswith("/") and not link.startswith("//") else _safe_link(link)


def _rings(wkt: str, limit: int) -> tuple[list[list[tuple[float, float]]], bool, int]:
    """(rings, closed, vertices) of a WKT geometry; nothing for what cannot be read."""
    kind = WKT_KIND.match(wkt)
    name = kind.group(1).upper() if kind else ""
    if name not in ("POLYGON", "MULTIPOLYGON", "LINESTRING", "MULTILINESTRING"):
        return [], False, 0
    rings, used = [], 0
    for match in WKT_RING.finditer(wkt):
        ring = []
        for pair in match.group(1).split(","):
            parts = pair.split()
            if len(parts) < 2 or used >= limit:
                break
            try:
                ring.append((float(parts[0]), float(parts[1])))
            except ValueError:
                return [], False, 0
            used += 1
        if len(ring) >= 2:
            rings.append(ring)
    return rings, "POLYGON" in name, used


def _text(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    element.text = text
    return element


def render_map(points: Sequence[MapPoint], bbox: Bbox | None = None, *, width: int = 640,
               height: int = 400, lang: str = "en", outlines: Sequence[Outline] = (),
               list_href: str = "", group_link: Callable[[Bbox], str] | None = None,
               words: Mapping[str, str | Callable[..., str]] | None = None) -> str:
    """The SVG markup of a map of ``points`` in ``bbox`` (fitted to the points if None).
    With ``group_link``, a cluster links to the page of its area (a bounding box): the
    map filters by place without a script. ``words`` replace the directory's texts
    (``map_title``, ``map_desc``, ``map_group``, ``map_list_link``) for other maps; a word
    may be a function of the values (``count``, ``points``…), for plural forms."""

    box = bbox or bbox_of(points)
    return render_groups(cluster_points(points, box, width, height), box, width=width,
                         height=height, lang=lang, outlines=outlines, list_href=list_href,
                         group_link=group_link, words=words)


def render_groups(groups: Sequence[Group], box: Bbox, *, width: int = 640,
                  height: int = 400, lang: str = "en", outlines: Sequence[Outline] = (),
                  list_href: str = "", group_link: Callable[[Bbox], str] | None = None,
                  words: Mapping[str, str | Callable[..., str]] | None = None) -> str:
    """The SVG markup of a map of ``groups`` (already placed in ``box``): what
    :func:`render_map` draws, for a caller that grouped the points itself (:func:`grid`)."""

    def say(key: str, **values: Any) -> str:
        chosen = (words or {}).get(key)
        if callable(chosen):
            return chosen(**values)
        return chosen.format(**values) if chosen else formatted(key, lang, **values)
    svg = ET.Element("svg", {"xmlns": SVG_NS, "width": str(width), "height": str(height),
                             # a group, not an img: an img's children are hidden from
                             # assistive technology, and these markers are links (axe
                             # nested-interactive; WAI-ARIA 1.2 "Children Presentational")
                             "viewBox": f"0 0 {width} {height}", "role": "group",
                             "class": "dds-map", "aria-labelledby": "dds-map-title dds-map-desc"})
    _text(svg, "title", say("map_title"), id="dds-map-title")
    shown = sum(g.size for g in groups)
    _text(svg, "desc", say("map_desc", points=shown, groups=len(groups)),
          id="dds-map-desc")
    ET.SubElement(svg, "rect", {"width": str(width), "height": str(height),
                                "class": "dds-map-sea", "fill": "#f3f6f9"})
    project = Projection(box, width, height)
    budget = MAX_OUTLINE_VERTICES
    layer = ET.SubElement(svg, "g", {"class": "dds-map-outlines", "fill": "#e4e9ee",
                                     "stroke": "#6f777b", "stroke-width": "1"})
    for outline in outlines:
        rings, closed, used = _rings(outline.wkt, budget)
        budget -= used
        if not rings:
            continue
        d = " ".join("M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in
                                     (project(lo, la) for lo, la in ring))
                     + (" Z" if closed else "") for ring in rings)
        path = ET.SubElement(layer, "path", {"d": d} if closed else {"d": d, "fill": "none"})
        _text(path, "title", outline.label)
    marks = ET.SubElement(svg, "g", {"class": "dds-map-points"})
    for group in groups:
        single = group.size == 1
        link = _safe_link(group.points[0].link) if single else None
        if not single and group_link is not None:
            link = _local_link(group_link(group.area or bbox_of(group.points, pad=0.05)))
        parent = ET.SubElement(marks, "a", {"href": link}) if link else marks
        label = group.points[0].label if single else say(
            "map_group", count=group.size,
            names=", ".join(p.label for p in group.points[:NAMED]))
        attrs = {"cx": f"{group.x:.1f}", "cy": f"{group.y:.1f}",
                 "r": "6" if single else str(min(10 + int(math.log2(group.size)) * 2, 22)),
                 "class": "dds-map-marker" if single else "dds-map-cluster",
                 "fill": "#1d70b8" if single else "#003078", "stroke": "#ffffff",
                 "stroke-width": "2"}
        circle = ET.SubElement(parent, "circle", attrs)
        _text(circle, "title", label)
        if not single:
            _text(parent, "text", str(group.size), x=f"{group.x:.1f}",
                  y=f"{group.y + 4:.1f}", **{"text-anchor": "middle", "fill": "#ffffff",
                                             "font-size": "11", "aria-hidden": "true"})
    if list_href and (_safe_link(list_href) or list_href.startswith(("/", "#"))):
        anchor = ET.SubElement(svg, "a", {"href": list_href})
        _text(anchor, "text", say("map_list_link"), x="8", y=str(height - 8),
              **{"font-size": "12", "fill": "#1d70b8"})
    return ET.tostring(svg, encoding="unicode")


def geojson(points: Sequence[MapPoint], *, limit: int, list_href: str = "") -> bytes:
    """RFC 7946 GeoJSON of the points (at most ``limit``), compact: a Feature per point
    (name, link) up to :data:`DETAIL_LIMIT` points, else one MultiPoint whose names are
    in the list at ``list_href`` (10,000 points stay under 300 kB, bench/explorer_map.py).
    Coordinates are rounded to :data:`PRECISION` decimals (RFC 7946 11.2)."""
    kept = points[:limit]
    features: list[dict[str, object]]
    if len(kept) <= DETAIL_LIMIT:
        features = [{"type": "Feature", "id": p.link,
                     "geometry": {"type": "Point", "coordinates": [round(p.long, PRECISION),
                                                                   round(p.lat, PRECISION)]},
                     "properties": {"name": p.label}} for p in kept]
    else:
        features = [{"type": "Feature",
                     "geometry": {"type": "MultiPoint", "coordinates": [
                         [round(p.long, PRECISION), round(p.lat, PRECISION)] for p in kept]},
                     "properties": {"count": len(kept), "list": list_href}}]
    doc = {"type": "FeatureCollection", "features": features,
           "truncated": len(points) > limit}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
