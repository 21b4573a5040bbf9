"""The map of a search's results (and of the home page: every result): markers for the
resources that have a place, drawn by :mod:`ddsnode.explorer.map` as server-rendered SVG.

No tile server and no script: the default deployment must not send visitors to a tile
provider (issue 12). Every result with a place is on the map: they are counted in the
cells of a grid made coarser until at most ``explorer_map_points`` cells hold some
(``map.grid``), so the map of 10,000 results costs as many markers as that setting, not
10,000 (issue 12: "the map data of 10,000 points <= 300 kB"; bench/explorer_map.py).
Without JavaScript the map still filters: a cluster links to the same search narrowed to
its area (``bbox``), where it splits into smaller ones, a marker to its resource's page;
and the page lists the same markers as links (the text alternative, WCAG 2.1 1.1.1).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ddsnode.explorer import i18n
from ddsnode.explorer import map as svgmap
from ddsnode.explorer.labels import local_name, pick
from ddsnode.explorer.query import SearchQuery
from ddsnode.explorer.web.site import Reading, Site

WIDTH, HEIGHT = 640, 360


@dataclass(frozen=True)
class Place:
    """One marker as the list under the map shows it: a result, or a cluster (``count``
    results) linking to the search in its area."""

    title: str
    href: str
    count: int = 1


@dataclass(frozen=True)
class ResultsMap:
    """The SVG, its markers as a list, how many results have a place and how many the
    markers count (all of them)."""

    svg: str
    places: list[Place]
    located: int
    drawn: int
    # [[lat, long, title, path, count], ...] of the markers, for explorer-map.js (Leaflet,
    # explorer_map_leaflet): the same markers as the SVG, paths on this node.
    points_json: str = "[]"


def results_map(site: Site, read: Reading, query: SearchQuery) -> ResultsMap | None:
    """The map of ``query``'s results; None when none of them has a place. It does not
    depend on the page: kept per (index generation, result set, language)."""
    key = ("map", site.index.generation, query.key(), read.lang, read.explicit)
    # Site.remember keeps values of many kinds (Any); this key always holds a map or None
    found: ResultsMap | None = site.remember(key, lambda: draw(site, read, query))
    return found


def draw(site: Site, read: Reading, query: SearchQuery) -> ResultsMap | None:
    """The map of ``query``'s results, drawn anew (:func:`results_map` keeps it)."""
    limit = int(site.settings.explorer_map_points)
    ids, longs, lats = site.index.located(query)
    if not ids:
        return None
    long_of, lat_of = np.array(longs, dtype=np.float64), np.array(lats, dtype=np.float64)
    box = query.bbox or svgmap.padded((float(long_of.min()), float(lat_of.min()),
                                       float(long_of.max()), float(lat_of.max())), 0.1)
    cells = svgmap.grid(long_of, lat_of, box, WIDTH, HEIGHT, limit)
    # When every result fits the bound, Leaflet and the list get each one (a reader can
    # zoom into them); else the markers, clusters included, as the SVG draws them.
    each = len(ids) <= limit
    named = site.index.located_names(ids if each else
                                     [ids[p] for c in cells for p in c.first])
    base = site.node.base.rstrip("/")
    keep = [("lang", read.lang)] if read.explicit else []

    def area(bbox: svgmap.Bbox) -> str:
        west, south, east, north = bbox
        box = f"{west:.5f},{south:.5f},{east:.5f},{north:.5f}"
        return dataclasses.replace(query, bbox=None, cursor=None,
                                   size=query.default_size).url(
            "/explore", [("bbox", box), *keep])

    t = i18n.Translator(read.lang)
    words: dict[str, str | Callable[..., str]] = {
        "map_title": t.gettext("Map of the results"),
        # Two counts, each with its plural form, composed by the sentence.
        "map_desc": lambda points, groups: t.gettext(
            "{results} in {places} on the map; they are listed under it.",
            results=t.ngettext("{count} result", "{count} results", points),
            places=t.ngettext("{count} place", "{count} places", groups)),
        "map_group": lambda count, names: t.ngettext(
            "{count} result: {names}", "{count} results: {names}", count, names=names),
        "map_list_link": t.gettext("Places on the map, as a list")}
    def name(position: int) -> tuple[str, str] | None:
        """(title, path on this node) of the point at ``position``; None when it was
        deleted since its coordinates were read."""
        if ids[position] not in named:
            return None
        iri, node, titles = named[ids[position]]
        # One small JSON per named point (its titles); summaries are not read.
        title = pick(json.loads(titles), read.lang) or local_name(iri)
        path = site.page_path(iri, node)
        if read.explicit:
            path += ("&" if "?" in path else "?") + "lang=" + read.lang
        return title, path

    groups: list[svgmap.Group] = []
    places: list[Place] = []
    enhanced: list[tuple[float, float, str, str, int]] = []
    for cell in cells:
        points = [found for p in cell.first if (found := name(p)) is not None]
        if not points and cell.count == 1:
            continue  # deleted since
        groups.append(svgmap.Group(cell.x, cell.y, tuple(
            svgmap.MapPoint(cell.long, cell.lat, title, base + path)
            for title, path in points), count=cell.count, area=cell.area))
        if each:
            continue
        if cell.count == 1:
            place = Place(*points[0])
        else:
            names = ", ".join(title for title, _ in points)
            place = Place(t.ngettext("{count} result: {names}", "{count} results: {names}",
                                     cell.count, names=names), area(cell.area), cell.count)
        places.append(place)
        enhanced.append((round(cell.lat, 5), round(cell.long, 5), place.title, place.href,
                         cell.count))
    if each:  # newest first
        for position in range(len(ids)):
            if (found := name(position)) is not None:
                places.append(Place(*found))
                enhanced.append((round(lats[position], 6), round(longs[position], 6),
                                 *found, 1))
    svg = svgmap.render_groups(groups, box, width=WIDTH, height=HEIGHT, lang=read.lang,
                               list_href="#map-places", group_link=area, words=words)
    return ResultsMap(svg, places, len(ids), sum(g.size for g in groups),
                      json.dumps(enhanced, ensure_ascii=False, separators=(",", ":")))
