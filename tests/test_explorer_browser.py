"""What a visitor sees on the explorer's pages, in a real Chromium, on the demo node
(``ddsnode demo``, served by ``ddsnode serve``): every page type reads as a page — no WKT,
no ``4.5764E1``, no ``host:port`` for a publisher, no slug where a title or a ballot
choice's name belongs — in English, Catalan and Spanish; containers page through cards;
the maps of home and search filter by area with no script; axe-core finds no serious or
critical violation; screenshots of each page type land in ``test-artifacts/screenshots/``
(``explorer-*``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any

import pytest

from ddsnode import resources
from tests.support.browser import assert_accessible, assert_focus_visible, screenshot, visit
from tests.support.node import RunningNode, running_node

pytestmark = pytest.mark.slow

RAW = [(re.compile(r"POINT\s*\("), "WKT"),
       (re.compile(r"\d[.,]?\d*E[+-]?\d"), "a double's lexical form"),
       (re.compile(r"(?<!//)127\.0\.0\.1:\d+"), "a node as host:port")]

# (screenshot name, path, words the page must show)
PAGES = [
    ("explorer-home-map", "", ["Map", "Latest contributions"]),
    ("explorer-search-map", "explore?q=rivemont", ["Map of these results"]),
    ("explorer-container", "proposals/?limit=2", ["Proposals, amendments and debates",
                                                  "Next page"]),
    ("explorer-place", "places/bureau-101", ["Bureau 101 – École des Tanneurs", "45.766"]),
    ("explorer-party", "organisations/party-ar", ["Avenir Rivemont", "Lists and candidates",
                                                  "Hugo Tilleul"]),
    ("explorer-contest-result", "results/municipal-2026-council-secteur-1-seq-2",
     ["Rivemont municipal council – ", "Camille Peuplier (Rivemont en commun)"]),
    ("explorer-referendum-result-es", "results/municipal-2026-referendum-rivemont-seq-1?lang=es",
     ["Yes", "Votos emitidos", "Participación", "no oficial completo"]),
    ("explorer-proposal-timeline", "proposals/protected-bike-lanes",
     ["What became of it", "Budget project", "Milestone"]),
    ("explorer-implementation-ca", "results/protected-bike-lanes-tanneurs?lang=ca",
     ["Avanç", "Fita"]),
    # Rows as the ontology names them in the reader's language, capitalised (issue 12).
    ("explorer-proposal-fr", "proposals/protected-bike-lanes?lang=fr",
     ["A reçu pour réponse", "Nombre d'amendements", "Dans la phase", "Débattu lors de"]),
    ("explorer-party-persons-fr", "organisations/party-rc?lang=fr",
     ["Listes et candidats", "Camille Peuplier"]),
    ("explorer-person-demo-es", "organisations/person-camille-peuplier?lang=es",
     ["Candidaturas", "Afiliaciones", "Rivemont en commun", "tête de liste",
      "conseillère métropolitaine"]),
    ("explorer-search-one-fr", "explore?q=delivery+bays+saturday+market&lang=fr",
     ["1 résultat"]),
    # The analysis on the explorer (issue 13): the topics of a search, pro and contra.
    ("explorer-search-topics", "explore?q=quai&lang=en",
     ["Topics of these results", "lane, bike, quay", "How this was made"]),
    ("explorer-proposal-pro-contra-fr", "proposals/protected-bike-lanes?lang=fr",
     ["Pour et contre", "Arguments pour", "Arguments contre", "2 commentaires pour",
      "pas un consensus"]),
]


@pytest.fixture(scope="module")
def demo(demo_site: RunningNode) -> RunningNode:
    """The session's demo node (tests/conftest.py)."""
    return demo_site


@pytest.mark.parametrize(("name", "path", "words"), PAGES, ids=[n for n, _, _ in PAGES])
def test_page_reads_as_a_page(browser: Any, demo: RunningNode, name: str, path: str,
                              words: list[str]) -> None:
    with visit(browser, demo.url(path)) as v:
        text = v.page.locator("main").inner_text()
        for pattern, what in RAW:
            found = pattern.search(text)
            assert found is None, f"{what} on {path}: {text[max(0, found.start() - 60):][:120]}"
        for word in words:
            assert word in text, f"{word!r} not on {path}"
        assert_accessible(v.page)
        assert_focus_visible(v.page)
        assert all(p.stat().st_size > 1000 for p in screenshot(v.page, name))


def test_container_pages_walk_with_next_and_previous(browser: Any, demo: RunningNode) -> None:
    """Next until the end, then previous back: every member once, the same pages."""
    with visit(browser, demo.url("proposals/?limit=2")) as v:
        pages = []
        while True:
            pages.append(v.page.locator("li.dds-result").evaluate_all(
                "items => items.map(i => i.dataset.iri)"))
            following = v.page.locator("a[rel=next]")
            if not following.count():
                break
            following.first.click()
            v.page.wait_for_load_state("load")
        members = [iri for page in pages for iri in page]
        assert len(members) == len(set(members)) >= 5
        back = [pages[-1]]
        while v.page.locator("a[rel=prev]").count():
            v.page.locator("a[rel=prev]").first.click()
            v.page.wait_for_load_state("load")
            back.append(v.page.locator("li.dds-result").evaluate_all(
                "items => items.map(i => i.dataset.iri)"))
        assert back[::-1] == pages


def test_a_map_cluster_filters_the_search_to_its_area(browser: Any, demo: RunningNode) -> None:
    """Click a cluster on the home map: the search page opens with a bbox, fewer results,
    and its own map; nothing is fetched from another host (visit checks that)."""
    with visit(browser, demo.url("")) as v:
        cluster = v.page.locator("svg.dds-map a:has(circle.dds-map-cluster)").first
        assert cluster.count()
        cluster.click()
        v.page.wait_for_load_state("load")
        assert "bbox=" in v.page.url and "/explore" in v.page.url
        count = v.page.locator("#result-count").inner_text()
        assert re.search(r"\d+ results", count)
        assert v.page.locator("svg.dds-map").count() == 1
        screenshot(v.page, "explorer-search-bbox")


def test_from_a_party_to_the_person_standing_and_back(browser: Any, demo: RunningNode) -> None:
    """On the demo node: the party's candidate links to the person's page (its
    candidacies and memberships), whose party link leads back to the party."""
    with visit(browser, demo.url("organisations/party-rc?lang=en")) as v:
        v.page.locator("table.dds-candidacies").get_by_role(
            "link", name="Camille Peuplier").click()
        v.page.wait_for_load_state("load")
        assert v.page.url.startswith(demo.url("organisations/person-camille-peuplier"))
        main = v.page.locator("main").inner_text()
        assert "Candidacies" in main and "Memberships" in main and "51.4%" in main
        assert "Conseil de la Métropole de Rivemont" in main
        v.page.locator("table.dds-standings").get_by_role(
            "link", name="Rivemont en commun").click()
        v.page.wait_for_load_state("load")
        assert v.page.url.startswith(demo.url("organisations/party-rc"))


def _places(node: RunningNode) -> None:
    """The participation examples and the polling stations, which have places."""
    with node.client() as http:
        for path in sorted(resources.examples_dir().glob("*.jsonld")):
            if not path.name.startswith(("a-", "e-place-")):
                continue
            document = json.loads(node.rebase(path.read_text(encoding="utf-8")))
            r = http.put(document["id"], content=json.dumps(document).encode(),
                         headers={**node.auth(node.publisher_token),
                                  "Content-Type": "application/ld+json"})
            assert r.status_code in (201, 204), (path.name, r.text)


@pytest.fixture(scope="module")
def leaflet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    """A node with explorer_map_leaflet = "on" (Leaflet with no tile layer)."""
    with running_node(tmp_path_factory.mktemp("leaflet"), settings={
            "name": "Rivemont participe", "explorer_map_leaflet": "on",
            "explorer_peer_sync_seconds": 0}) as node:
        _places(node)
        yield node


def _tile_of(lat: float, long: float, z: int) -> tuple[int, int]:
    """The XYZ tile holding a point at zoom z (Web Mercator, as Leaflet places tiles)."""
    n = 1 << z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return int((long + 180) / 360 * n), int(y)


@pytest.fixture(scope="module")
def pmtiles(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    """A node serving its own raster PMTiles archive (explorer_map_pmtiles): at every
    zoom 0..16, a checkerboard of gridded tiles around Rivemont's places."""
    from tests.support.tiles import png, write_archive

    colours = [png((170, 205, 170), grid=64), png((190, 210, 230), grid=64)]
    tiles = {}
    for z in range(17):
        cx, cy = _tile_of(45.767, 4.831, z)
        for x in range(max(cx - 4, 0), min(cx + 5, 1 << z)):
            for y in range(max(cy - 4, 0), min(cy + 5, 1 << z)):
                tiles[(z, x, y)] = colours[(x + y) % 2]
    folder = tmp_path_factory.mktemp("pmtiles")
    archive = write_archive(folder / "rivemont.pmtiles", tiles)
    with running_node(folder, settings={
            "name": "Rivemont participe", "explorer_peer_sync_seconds": 0,
            "explorer_map_pmtiles": f"{archive} © Rivemont map tiles"}) as node:
        _places(node)
        yield node


def test_leaflet_shows_the_same_points_with_no_tile_server(browser: Any,
                                                           leaflet: RunningNode) -> None:
    """The search's map becomes a Leaflet map with one marker per point of the SVG it
    replaces; nothing is fetched from another host (visit fails on any such request or
    console error); a popup links to the resource; axe finds nothing serious."""
    with visit(browser, leaflet.url("explore?q=rivemont&lang=fr")) as v:
        holder = v.page.locator("div.dds-leaflet")
        holder.wait_for()
        drawn = len(json.loads(v.page.locator("figure.dds-map-figure").get_attribute(
            "data-dds-points") or "[]"))
        assert drawn >= 3 and holder.get_attribute("data-dds-markers") == str(drawn)
        assert v.page.locator("path.leaflet-interactive").count() == drawn
        assert v.page.locator("figure.dds-map-figure").is_hidden()
        assert v.page.locator(".leaflet-tile").count() == 0  # no tile layer
        assert v.page.locator("a.leaflet-control-zoom-in").get_attribute("title") == "Zoomer"
        v.page.locator("path.leaflet-interactive").first.click(force=True)
        link = v.page.locator(".leaflet-popup-content a")
        link.wait_for()
        href = link.get_attribute("href") or ""
        assert href.startswith("/") and not href.startswith("//")
        assert_accessible(v.page)
        assert all(p.stat().st_size > 1000 for p in screenshot(v.page, "explorer-search-leaflet"))


def test_leaflet_draws_the_tiles_the_node_serves_itself(browser: Any,
                                                         pmtiles: RunningNode) -> None:
    """With explorer_map_pmtiles, the Leaflet map draws tiles from the node's own
    /explore/tiles/ (decoded from its PMTiles archive): every tile image loads from this
    origin (visit fails on any other host, any failed request or console error, a CSP
    violation included), the credit is shown, and axe finds nothing serious."""
    with visit(browser, pmtiles.url("explore?q=rivemont&lang=en")) as v:
        v.page.locator("div.dds-leaflet").wait_for()
        v.page.wait_for_function(
            "() => { const t = [...document.querySelectorAll('img.leaflet-tile')];"
            " return t.length > 0 && t.every(i => i.complete); }")
        tiles = v.page.eval_on_selector_all(
            "img.leaflet-tile", "els => els.map(e => [e.getAttribute('src'), e.naturalWidth,"
            " e.classList.contains('leaflet-tile-loaded')])")
        assert tiles and all(src.startswith("/explore/tiles/") for src, _, _ in tiles)
        drawn = [src for src, width, loaded in tiles if loaded and width == 256]
        assert len(drawn) >= 2, tiles  # the map is covered with the archive's tiles
        assert "© Rivemont map tiles" in v.page.locator(
            ".leaflet-control-attribution").inner_text()
        assert v.page.locator("path.leaflet-interactive").count() >= 3  # markers on top
        assert_accessible(v.page)
        assert all(p.stat().st_size > 1000 for p in screenshot(v.page, "explorer-search-pmtiles"))


def test_a_reader_narrows_to_a_topic_then_weighs_a_proposal(browser: Any,
                                                            demo: RunningNode) -> None:
    """From a search's topics to the search narrowed to one, to a proposal of it, to the
    comment behind an argument for it; each page passes axe with nothing serious."""
    with visit(browser, demo.url("explore?q=quai&lang=en")) as v:
        topics = v.page.locator("section.dds-topics")
        topics.locator("a.dds-topic-narrow").first.click()
        v.page.wait_for_load_state("load")
        assert "cluster=" in v.page.url
        assert "filter on" in v.page.locator("section.dds-topics").inner_text()
        assert_accessible(v.page)
        v.page.locator("li.dds-result a[href*='protected-bike-lanes']").first.click()
        v.page.wait_for_load_state("load")
        sides = v.page.locator("section.dds-pro-contra")
        assert "Arguments for" in sides.inner_text()
        assert_accessible(v.page)
        screenshot(v.page, "explorer-proposal-pro-contra")
        sides.locator("ul.dds-arguments a.dds-argument-source").first.click()
        v.page.wait_for_load_state("load")
        assert v.page.url.startswith(demo.url("comments/c-101"))
