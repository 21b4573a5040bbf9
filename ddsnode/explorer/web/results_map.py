"""The map of a search's results (and of the home page: every result): markers for the
resources that have a place, drawn by :mod:`ddsnode.explorer.map` as server-rendered SVG.

No tile server and no script: the default deployment must not send visitors to a tile
provider (issue 12). Without JavaScript the map still filters: a cluster links to the
same search narrowed to its area (``bbox``), a marker to its resource's page; and the
page lists the same places as links (the text alternative, WCAG 2.1 1.1.1).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass

from ddsnode.explorer import i18n
from ddsnode.explorer import map as svgmap
from ddsnode.explorer.labels import local_name, pick
from ddsnode.explorer.query import SearchQuery
from ddsnode.explorer.web.site import Reading, Site

WIDTH, HEIGHT = 640, 360
LISTED = 20  # places listed under the map (the newest)


@dataclass(frozen=True)
class Place:
    """One marker as the list under the map shows it."""

    title: str
    href: str


@dataclass(frozen=True)
class ResultsMap:
    """The SVG, the places it shows (newest first) and how many results have a place."""

    svg: str
    places: list[Place]
    located: int
    drawn: int
    # [[lat, long, title, path], ...] of the drawn markers, for explorer-map.js (Leaflet,
    # explorer_map_leaflet): the same points as the SVG, paths on this node.
    points_json: str = "[]"


def results_map(site: Site, read: Reading, query: SearchQuery) -> ResultsMap | None:
    """The map of ``query``'s results; None when none of them has a place. It does not
    depend on the page: kept per (index generation, result set, language)."""
    key = ("map", site.index.generation, query.key(), read.lang, read.explicit)
    # Site.remember keeps values of many kinds (Any); this key always holds a map or None
    found: ResultsMap | None = site.remember(key, lambda: _results_map(site, read, query))
    return found


def _results_map(site: Site, read: Reading, query: SearchQuery) -> ResultsMap | None:
    limit = int(site.settings.explorer_map_points)
    hits, located = site.index.located(query, limit)
    if not hits:
        return None
    base = site.node.base.rstrip("/")
    keep = [("lang", read.lang)] if read.explicit else []
    points: list[svgmap.MapPoint] = []
    places: list[Place] = []
    enhanced: list[tuple[float, float, str, str]] = []
    for iri, node, titles, lat, long in hits:
        # One small JSON per marker (its titles); summaries are not read.
        title = pick(json.loads(titles), read.lang) or local_name(iri)
        path = site.page_path(iri, node)
        if read.explicit:
            path += ("&" if "?" in path else "?") + "lang=" + read.lang
        points.append(svgmap.MapPoint(long, lat, title, base + path))
        enhanced.append((round(lat, 6), round(long, 6), title, path))
        if len(places) < LISTED:
            places.append(Place(title, path))

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
    svg = svgmap.render_map(points, query.bbox, width=WIDTH, height=HEIGHT, lang=read.lang,
                            list_href="#map-places", group_link=area, words=words)
    return ResultsMap(svg, places, located, len(points),
                      json.dumps(enhanced, ensure_ascii=False, separators=(",", ":")))
