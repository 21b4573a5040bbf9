"""Leaflet on the explorer's maps (issue 12, optional): off by default (the SVG map only,
no script); on, the map's figure carries its points for ``explorer-map.js`` (the same
markers as the SVG, paths on this node, hostile titles as data), Leaflet and the script
are served by the node, and there is no tile layer unless the operator sets one — whose
origin, and only it, the pages' Content-Security-Policy then allows. A tile setting that
would widen the policy or send visitors over plain HTTP stops the node from starting.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest

from ddsnode.commands.node import init_node
from ddsnode.explorer.tiles import tile_origin
from ddsnode.http.app import create_app
from ddsnode.settings import Settings
from tests.support.inprocess import LocalNode, local_node

HTML = {"Accept": "text/html"}
HOSTILE = '<script>alert("x")</script>'
TILES = "https://{s}.tiles.example.org/{z}/{x}/{y}.png"


def _load(node: LocalNode) -> None:
    core = node.app.node  # type: ignore[attr-defined]
    for slug, lat, title in (("near", 45.76, "Near"), ("far", 48.85, HOSTILE)):
        _, raw = node.example("a-proposal-school-streets")
        doc = json.loads(raw)
        doc["id"] = node.url(f"proposals/{slug}")
        doc["title"] = {"en": title}
        doc["place"]["id"] = doc["id"] + "#place"
        doc["place"]["lat"], doc["place"]["long"] = lat, 2.35
        core.write_document(doc["id"], json.dumps(doc).encode(), "application/ld+json")


@pytest.fixture(scope="module")
def leaflet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNode]:
    with local_node(tmp_path_factory.mktemp("leaflet"), settings={
            "explorer_peer_sync_seconds": 0,
            "explorer_map_leaflet": TILES + " © Tiles <b>Example</b>"}) as running:
        _load(running)
        yield running


def figure_of(html: str) -> str:
    found = re.search(r"<figure class=\"dds-map-figure\"[^>]*>", html)
    assert found is not None, "no map"
    return found.group(0)


def test_on_the_map_carries_its_points_and_the_scripts(leaflet: LocalNode) -> None:
    with leaflet.client() as http:
        r = http.get("/explore", params={"q": "school"}, headers=HTML)
        assert r.status_code == 200
        figure = figure_of(r.text)
        points = json.loads(unescape(re.search(r'data-dds-points="([^"]*)"', figure)
                                     .group(1)))  # type: ignore[union-attr]
        assert sorted(p[2] for p in points) == sorted(["Near", HOSTILE])
        assert all(p[3].startswith("/proposals/") for p in points)
        assert HOSTILE not in r.text  # escaped in the attribute, as everywhere
        assert f'data-dds-tiles="{TILES}"' in figure
        assert "&lt;b&gt;Example&lt;/b&gt;" in figure  # text, escaped again by the script
        for name in ("leaflet.js", "explorer-map.js"):
            assert f'<script src="/explore/static/{name}" defer></script>' in r.text
            script = http.get(f"/explore/static/{name}")
            assert script.status_code == 200
            assert script.headers["content-type"].startswith("text/javascript")
        assert "<script>" not in r.text  # nothing inline
        policy = r.headers["content-security-policy"]
        assert "img-src 'self' https://*.tiles.example.org;" in policy
        assert "script-src 'self';" in policy


def test_off_by_default_no_script_and_the_policy_unchanged(tmp_path: Path) -> None:
    with local_node(tmp_path, settings={"explorer_peer_sync_seconds": 0}) as running:
        _load(running)
        with running.client() as http:
            r = http.get("/explore", params={"q": "school"}, headers=HTML)
        assert figure_of(r.text) == '<figure class="dds-map-figure">'
        assert "leaflet" not in r.text and "<script" not in r.text
        assert "img-src 'self';" in r.headers["content-security-policy"]


@pytest.mark.parametrize(("template", "reason"), [
    ("http://tiles.example.org/{z}/{x}/{y}.png", "https://"),
    ("https://tiles.example.org/{z}/{x}/{y}.png; script-src *", "characters"),
    ("https://tiles.example.org/{z}/{x}/{y}.png' 'unsafe-inline", "characters"),
    ("https://*/{z}/{x}/{y}.png", "characters"),
    ("https://tiles.example.org/{z}/{x}.png", "{y}"),
    ("javascript:alert(1)//{z}{x}{y}", "https://"),
    ("https://me:secret@tiles.example.org/{z}/{x}/{y}.png", "user"),
    ("https://tiles.example.org:port/{z}/{x}/{y}.png", "not a URL"),
    ("https://" + "a" * 600 + ".org/{z}/{x}/{y}.png", "longer"),
])
def test_a_tile_setting_that_would_widen_the_policy_is_refused(tmp_path: Path, template: str,
                                                              reason: str) -> None:
    with pytest.raises(ValueError, match="explorer_map_leaflet") as refused:
        tile_origin(template)
    assert reason in str(refused.value)
    node_dir = tmp_path / "node"
    init_node(node_dir, base_url="http://127.0.0.1:8000/",
              extra={"explorer_map_leaflet": template})
    with pytest.raises(ValueError, match="explorer_map_leaflet"):
        create_app(Settings.load(node_dir))


def test_the_setting_reads_off_on_or_tiles_and_credit() -> None:
    from ddsnode.explorer.tiles import Leaflet, leaflet

    assert leaflet("") == Leaflet() and not leaflet("  ").enabled
    assert leaflet("on") == Leaflet(enabled=True)
    osm = leaflet("https://tile.openstreetmap.org/{z}/{x}/{y}.png © OpenStreetMap contributors")
    assert osm == Leaflet(True, "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                          "© OpenStreetMap contributors", "https://tile.openstreetmap.org")
    for wrong in ("yes", "true", "ftp://x.org/{z}/{x}/{y}"):
        with pytest.raises(ValueError, match="explorer_map_leaflet"):
            leaflet(wrong)


def test_a_plain_tile_host_is_its_origin() -> None:
    assert tile_origin("") is None
    assert tile_origin("https://tile.openstreetmap.org/{z}/{x}/{y}.png") == \
        "https://tile.openstreetmap.org"
    assert tile_origin("https://tiles.example.org:8443/t/{z}/{x}/{y}{r}.png?key=k") == \
        "https://tiles.example.org:8443"
