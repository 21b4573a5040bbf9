"""The map of the explorer's home and search pages (ddsnode/explorer/web/results_map.py),
in process: server-rendered SVG with no tile server, markers linking to resources,
clusters linking to the same search narrowed to their area (a bbox filter without a
script), the same markers as a list, at most ``explorer_map_points`` of them counting
every result with a place (issue 12: the map of 10,000 points is bounded), hostile titles
inert.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from html import unescape
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest

from ddsnode import resources
from ddsnode.commands.demo import rebase
from ddsnode.explorer.map import grid
from tests.support.inprocess import LocalNode, local_node

HTML = {"Accept": "text/html"}
HOSTILE = '<script>alert("x")</script>'
SPREAD = 40  # proposals placed over France, beside the examples
MARKERS = 6  # explorer_map_points of the node
WORLD = "-180,-90,180,90"


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNode]:
    with local_node(tmp_path_factory.mktemp("explorer-map"),
                    settings={"explorer_peer_sync_seconds": 0,
                              "explorer_map_points": MARKERS}) as running:
        core = running.app.node  # type: ignore[attr-defined]
        for path in sorted(resources.examples_dir().glob("*.jsonld")):
            text = rebase(path.read_text(encoding="utf-8"), running.base)
            core.write_document(json.loads(text)["id"], text.encode(), "application/ld+json")
        # One proposal far from the others, with a hostile title.
        _, raw = running.example("a-proposal-school-streets")
        doc = json.loads(raw)
        doc["id"] = running.url("proposals/far-away")
        doc["title"] = {"en": HOSTILE}
        doc["place"]["id"] = doc["id"] + "#place"
        doc["place"]["lat"], doc["place"]["long"] = 48.85, 2.35
        core.write_document(doc["id"], json.dumps(doc).encode(), "application/ld+json")
        rng = random.Random(12)
        for i in range(SPREAD):
            doc = json.loads(raw)
            doc["id"] = running.url(f"proposals/spread-{i:02d}")
            doc["title"] = {"en": f"Spread {i}"}
            doc["place"]["id"] = doc["id"] + "#place"
            doc["place"]["long"] = round(rng.uniform(-4.5, 7.5), 5)
            doc["place"]["lat"] = round(rng.uniform(43.0, 50.5), 5)
            core.write_document(doc["id"], json.dumps(doc).encode(), "application/ld+json")
        yield running


def get(node: LocalNode, path: str) -> str:
    with node.client() as http:
        r = http.get(path, headers=HTML)
    assert r.status_code == 200, r.text
    return r.text


def svg_of(html: str) -> str:
    found = re.search(r"<svg.*?</svg>", html, re.S)
    assert found is not None, "no map"
    return found.group(0)


def total(node: LocalNode, query: str) -> int:
    """How many results a search has (JSON-LD), ``query`` a URL's query string."""
    with node.client() as http:
        r = http.get("/explore?" + query, headers={"Accept": "application/ld+json"})
    assert r.status_code == 200, r.text
    return int(r.json()["hydra:totalItems"])


def counted(svg: str) -> tuple[int, int]:
    """(markers, results they count) of a map: a marker is one result, a cluster shows
    its count."""
    markers = len(re.findall(r'class="dds-map-marker"', svg))
    clusters = [int(n) for n in re.findall(r'<text [^>]*aria-hidden="true"[^>]*>(\d+)</text>',
                                           svg)]
    assert len(clusters) == len(re.findall(r'class="dds-map-cluster"', svg))
    return markers + len(clusters), markers + sum(clusters)


def test_the_home_page_has_a_map_with_its_text_alternative(node: LocalNode) -> None:
    html = get(node, "/")
    svg = svg_of(html)
    assert "<title" in svg and "<desc" in svg and "Map of the results" in svg
    assert "<image" not in svg and "tile" not in svg.lower()  # no tile server
    # Bounded by the setting, and every result with a place counted: as many as a search
    # in a box around the world finds (the index's SQL box filter, another path).
    markers, points = counted(svg)
    placed = total(node, "bbox=" + WORLD)
    assert 1 < markers <= MARKERS and placed > SPREAD and points == placed
    drawn = re.search(r"(\d+) of (\d+) results with a place are on the map", html)
    assert drawn is not None and int(drawn.group(1)) == int(drawn.group(2)) == placed
    # The text alternative lists the same markers: a result, or a cluster's count.
    places = re.search(r'<details class="govuk-details" id="map-places">(.*?)</details>',
                       html, re.S)
    assert places is not None
    listed = re.findall(r'<a class="govuk-link" href="(/[^"]+)">([^<]*)</a>', places.group(1))
    assert len(listed) == markers
    assert sum(int(m.group(1)) if (m := re.match(r"(\d+) results: ", unescape(text)))
               else 1 for _, text in listed) == placed


def test_every_placed_result_is_reachable_from_the_map(node: LocalNode) -> None:
    """Each cluster's link is a search in its area holding at least its count of results;
    following a cluster gives a map of that area whose markers count them all again, and
    every marker links to a result: no result with a place is lost to the bound."""
    svg = svg_of(get(node, "/explore"))
    clusters = re.findall(r'<a href="(/explore\?[^"]+)"><circle[^>]*class="dds-map-cluster"'
                          r'[^>]*>.*?<text[^>]*>(\d+)</text>', svg, re.S)
    assert clusters
    for link, count in clusters:
        query = urlsplit(unescape(link)).query
        assert total(node, query) >= int(count)
        markers, points = counted(svg_of(get(node, unescape(link))))
        assert markers <= MARKERS and points == total(node, query)


def test_a_search_map_counts_its_own_results(node: LocalNode) -> None:
    """A search's map counts its results with a place, not the whole node's."""
    markers, points = counted(svg_of(get(node, "/explore?q=spread")))
    assert markers <= MARKERS and points == total(node, "q=spread&bbox=" + WORLD) == SPREAD


def test_the_grid_counts_every_point_within_its_bound() -> None:
    """map.grid over 10,000 points: at most ``limit`` cells, counts adding up to every
    point inside the box, each point inside its cell's area."""
    rng = np.random.default_rng(12)
    longs, lats = rng.uniform(-4.5, 7.5, 10_000), rng.uniform(43.0, 50.5, 10_000)
    for limit in (1, 7, 200):
        cells = grid(longs, lats, (-5.0, 42.5, 8.0, 51.0), 640, 360, limit)
        assert len(cells) <= limit and sum(c.count for c in cells) == 10_000
        for c in cells:
            for p in c.first:
                assert c.area[0] <= longs[p] <= c.area[2] and c.area[1] <= lats[p] <= c.area[3]
    # A box leaving points out counts only those inside it.
    inside = int(np.count_nonzero(longs <= 0.0))
    assert sum(c.count for c in grid(longs, lats, (-5.0, 42.5, 0.0, 51.0), 640, 360, 50)) \
        == inside


def test_a_cluster_narrows_the_search_to_its_area(node: LocalNode) -> None:
    """Following a cluster's link (no script) gives the results inside its box."""
    svg = svg_of(get(node, "/explore"))
    clusters = [unescape(h) for h in re.findall(r'<a href="(/explore\?[^"]+)"><circle[^>]*'
                                                  r'class="dds-map-cluster"', svg)]
    assert clusters
    link = clusters[0]
    box = [float(v) for v in parse_qs(urlsplit(link).query)["bbox"][0].split(",")]
    with node.client() as http:
        narrowed = http.get(link, headers={"Accept": "application/ld+json"}).json()
        everything = http.get("/explore", headers={"Accept": "application/ld+json"}).json()
    assert 0 < narrowed["hydra:totalItems"] < everything["hydra:totalItems"]
    far = node.url("proposals/far-away")
    assert far not in [m["id"] for m in narrowed["hydra:member"]]
    assert box[0] < box[2] and box[1] < box[3]
    # The narrowed page's own map fits that box: a reader can go on narrowing.
    assert "<svg" in get(node, link)


def test_markers_link_to_pages_and_titles_are_text(node: LocalNode) -> None:
    html = get(node, "/explore?q=alert")
    svg = svg_of(html)
    assert HOSTILE not in html and "&lt;script&gt;" in svg
    markers = re.findall(r'<a href="([^"]+)"><circle[^>]*class="dds-map-marker"', svg)
    assert markers == [node.url("proposals/far-away")]
    # Fewer results than the bound: the list names each one.
    places = re.search(r'id="map-places">(.*?)</details>', html, re.S)
    assert places is not None
    assert re.findall(r'href="([^"]+)"', places.group(1)) == ["/proposals/far-away"]


def test_results_without_a_place_have_no_map(node: LocalNode) -> None:
    html = get(node, "/explore?kind=https%3A%2F%2Fw3id.org%2Fdds%2Fns%23Comment")
    assert "<svg" not in html and 'id="map-places"' not in html


def test_the_map_speaks_the_readers_language(node: LocalNode) -> None:
    html = get(node, "/explore?lang=ca")
    assert "Mapa dels resultats" in svg_of(html) and "Llocs del mapa, en llista" in html
