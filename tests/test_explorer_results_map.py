"""The map of the explorer's home and search pages (ddsnode/explorer/web/results_map.py),
in process: server-rendered SVG with no tile server, markers linking to resources,
clusters linking to the same search narrowed to their area (a bbox filter without a
script), the same places as a list, bounded by ``explorer_map_points``, hostile titles
inert.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from ddsnode import resources
from ddsnode.commands.demo import rebase
from tests.support.inprocess import LocalNode, local_node

HTML = {"Accept": "text/html"}
HOSTILE = '<script>alert("x")</script>'


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNode]:
    with local_node(tmp_path_factory.mktemp("explorer-map"),
                    settings={"explorer_peer_sync_seconds": 0,
                              "explorer_map_points": 6}) as running:
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


def test_the_home_page_has_a_map_with_its_text_alternative(node: LocalNode) -> None:
    html = get(node, "/")
    svg = svg_of(html)
    assert "<title" in svg and "<desc" in svg and "Map of the results" in svg
    assert "<image" not in svg and "tile" not in svg.lower()  # no tile server
    # Bounded by the setting: 6 markers drawn of more located results.
    drawn = re.search(r"(\d+) of (\d+) results with a place are on the map", html)
    assert drawn is not None and int(drawn.group(1)) == 6 < int(drawn.group(2))
    places = re.search(r'<details class="govuk-details" id="map-places">(.*?)</details>',
                       html, re.S)
    assert places is not None
    assert len(re.findall(r'<a class="govuk-link" href="/', places.group(1))) == 6


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


def test_results_without_a_place_have_no_map(node: LocalNode) -> None:
    html = get(node, "/explore?kind=https%3A%2F%2Fw3id.org%2Fdds%2Fns%23Comment")
    assert "<svg" not in html and 'id="map-places"' not in html


def test_the_map_speaks_the_readers_language(node: LocalNode) -> None:
    html = get(node, "/explore?lang=ca")
    assert "Mapa dels resultats" in svg_of(html) and "Llocs del mapa, en llista" in html
