"""The map: well-formed SVG with one marker or cluster per point group, title and desc, no
external URL, escaping, outlines bounded; GeoJSON of a filter; the directory's map over HTTP.
"""

from __future__ import annotations

import json
import random
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ddsnode import resources
from ddsnode.cli import main
from ddsnode.explorer.map import (
    DETAIL_LIMIT,
    MAX_OUTLINE_VERTICES,
    MapPoint,
    Outline,
    bbox_of,
    cluster_points,
    geojson,
    render_map,
)
from tests.support.inprocess import local_node

NS = {"svg": "http://www.w3.org/2000/svg"}
EXAMPLE = resources.examples_dir() / "directory" / "organisations.csv"


def _points(n: int, seed: int = 7, box: tuple[float, float, float, float] = (-5, 40, 15, 55)
            ) -> list[MapPoint]:
    rng = random.Random(seed)
    return [MapPoint(rng.uniform(box[0], box[2]), rng.uniform(box[1], box[3]), f"Place {i}",
                     f"https://node.example/organisations/o{i}") for i in range(n)]


def _marks(svg: ET.Element) -> list[ET.Element]:
    return [c for c in svg.iter("{http://www.w3.org/2000/svg}circle")
            if c.get("class") in ("dds-map-marker", "dds-map-cluster")]


@pytest.mark.parametrize("n", [0, 1, 7, 300, 5000])
def test_one_marker_or_cluster_per_group(n: int) -> None:
    points = _points(n)
    box = bbox_of(points)
    svg = ET.fromstring(render_map(points, box, width=640, height=400, lang="en"))
    groups = cluster_points(points, box, 640, 400)
    marks = _marks(svg)
    assert len(marks) == len(groups)
    assert sum(len(g.points) for g in groups) == n
    singles = [m for m in marks if m.get("class") == "dds-map-marker"]
    assert len(singles) == sum(1 for g in groups if len(g.points) == 1)
    counts = sorted(int(t.text or 0) for t in svg.iter("{http://www.w3.org/2000/svg}text")
                    if t.get("aria-hidden") == "true")
    assert counts == sorted(len(g.points) for g in groups if len(g.points) > 1)
    assert svg.find("svg:title", NS) is not None and svg.find("svg:desc", NS) is not None
    # Each count in its plural form, written as English writes numbers (issue 12 item 2).
    said = f"{n:,} organisation{'s' * (n != 1)} in {len(groups)} place{'s' * (len(groups) != 1)}"
    assert said in (svg.find("svg:desc", NS).text or "")


def test_zooming_in_splits_clusters() -> None:
    points = _points(200, box=(4.7, 45.6, 5.0, 45.9))
    world = cluster_points(points, (-10, 35, 30, 60), 640, 400)
    city = cluster_points(points, bbox_of(points), 640, 400)
    assert len(world) < len(city)
    outside = cluster_points(points, (20, 50, 30, 60), 640, 400)
    assert outside == []


def test_no_external_url_and_only_http_links() -> None:
    points = [*_points(3), MapPoint(2.35, 48.85, "bad", "javascript:alert(1)")]
    text = render_map(points, (-10, 35, 30, 60), lang="fr", list_href="#organisations")
    svg = ET.fromstring(text)
    hrefs = {a.get("href") for a in svg.iter("{http://www.w3.org/2000/svg}a")}
    assert hrefs <= {p.link for p in points[:3]} | {"#organisations"}
    assert "javascript:" not in text
    assert not list(svg.iter("{http://www.w3.org/2000/svg}image"))
    assert "url(" not in text and "xlink" not in text
    assert svg.find("svg:title", NS).text == "Carte des organisations"  # type: ignore[union-attr]


def test_hostile_labels_are_text() -> None:
    label = '</title><script>alert(1)</script><title>&amp;"'
    svg_text = render_map([MapPoint(1, 1, label, "https://a.example/?a=1&b=2")], lang="en")
    svg = ET.fromstring(svg_text)
    assert "<script>" not in svg_text
    titles = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}title")]
    assert label in titles
    assert next(svg.iter("{http://www.w3.org/2000/svg}a")).get("href") == \
        "https://a.example/?a=1&b=2"


def test_outlines_drawn_bounded_and_malformed_ones_skipped() -> None:
    square = Outline("Rivemont", "POLYGON ((4.8 45.7, 4.9 45.7, 4.9 45.8, 4.8 45.8, 4.8 45.7))")
    huge = Outline("huge", "POLYGON ((" + ", ".join(f"{i % 90} {i % 45}" for i in range(
        MAX_OUTLINE_VERTICES * 3)) + "))")
    broken = Outline("broken", "POLYGON ((a b, c d))")
    point = Outline("point", "POINT (1 2)")
    svg = ET.fromstring(render_map([], (4, 45, 6, 46), outlines=[square, huge, broken, point]))
    paths = list(svg.iter("{http://www.w3.org/2000/svg}path"))
    assert [p.find("svg:title", NS).text for p in paths] == ["Rivemont", "huge"]  # type: ignore[union-attr]
    assert paths[0].get("d", "").endswith("Z")
    vertices = sum(p.get("d", "").count(",") for p in paths)
    assert vertices <= MAX_OUTLINE_VERTICES


def test_geojson_points_and_compact_form() -> None:
    few = _points(3)
    data = json.loads(geojson(few, limit=100))
    assert data["type"] == "FeatureCollection" and not data["truncated"]
    assert [f["properties"]["name"] for f in data["features"]] == [p.label for p in few]
    assert data["features"][0]["geometry"]["coordinates"] == [
        round(few[0].long, 4), round(few[0].lat, 4)]
    many = _points(DETAIL_LIMIT + 10)
    packed = json.loads(geojson(many, limit=DETAIL_LIMIT + 5, list_href="/explore/directory"))
    assert packed["truncated"] and len(packed["features"]) == 1
    assert len(packed["features"][0]["geometry"]["coordinates"]) == DETAIL_LIMIT + 5
    assert packed["features"][0]["properties"]["list"] == "/explore/directory"


def test_directory_map_over_http(tmp_path: Path) -> None:
    import csv
    import io
    rows = list(csv.DictReader(io.StringIO(EXAMPLE.read_text(encoding="utf-8"))))
    gb = [r for r in rows if r["country"] == "GB"]
    with local_node(tmp_path) as node:
        assert main(["import", "directory", str(node.dir), str(EXAMPLE)]) == 0
        with node.client() as http:
            svg = http.get("/explore/directory/map.svg?country=GB")
            data = http.get("/explore/directory/map.geojson?country=GB")
            page = http.get("/explore/directory?country=GB&lang=ca")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    root = ET.fromstring(svg.text)
    points = [MapPoint(float(r["longitude"]), float(r["latitude"]), r["name"], "") for r in gb]
    assert len(_marks(root)) == len(cluster_points(points, bbox_of(points), 640, 400))
    assert data.headers["content-type"].startswith("application/geo+json")
    features = json.loads(data.content)["features"]
    assert {f["properties"]["name"] for f in features} == {r["name"] for r in gb}
    assert page.status_code == 200
    assert 'class="dds-map"' in page.text and "Mapa de les organitzacions" in page.text
    assert 'href="#organisations"' in page.text and 'id="organisations"' in page.text


def test_the_directory_map_draws_the_outlines_of_the_nodes_places(tmp_path: Path) -> None:
    area = {"@context": "https://w3id.org/dds/context/v1", "type": "AdministrativeArea",
            "name": "Grand <Lyon>", "countryCode": "FR",
            "wkt": "POLYGON((4.7 45.6, 5.0 45.6, 5.0 45.9, 4.7 45.9, 4.7 45.6))"}
    with local_node(tmp_path) as node:
        assert main(["import", "directory", str(node.dir), str(EXAMPLE)]) == 0
        with node.client() as http:
            iri = node.url("places/grand-lyon")
            put = http.put(iri, content=json.dumps({**area, "id": iri}), headers={
                **node.auth(), "Content-Type": "application/ld+json"})
            assert put.status_code == 201, put.text
            svg = ET.fromstring(http.get("/explore/directory/map.svg?country=FR").text)
    paths = list(svg.iter("{http://www.w3.org/2000/svg}path"))
    assert [p.find("svg:title", NS).text for p in paths] == ["Grand <Lyon>"]  # type: ignore[union-attr]
    assert paths[0].get("d", "").count("L") == 4


def test_map_points_and_organisations_read_are_bounded(tmp_path: Path) -> None:
    settings = {"directory_max_map_points": 3, "directory_max_organisations": 5}
    with local_node(tmp_path, settings=settings) as node:
        assert main(["import", "directory", str(node.dir), str(EXAMPLE)]) == 0
        with node.client() as http:
            data = json.loads(http.get("/explore/directory/map.geojson").content)
            svg = ET.fromstring(http.get("/explore/directory/map.svg").text)
            page = http.get("/explore/directory?lang=en").text
    assert data["truncated"] and len(data["features"]) == 3
    groups = [m for m in _marks(svg)]
    assert 1 <= len(groups) <= 3
    assert page.count('class="dds-organisation"') == 5
    assert "Only the first organisations are shown" in page


@pytest.mark.parametrize(("lang", "one", "two"), [
    ("en", "1 organisation in 1 place", "2 organisations in 2 places"),
    ("fr", "1 organisation en 1 lieu", "2 organisations en 2 lieux"),
    ("ca", "1 organització en 1 lloc", "2 organitzacions en 2 llocs"),
    ("es", "1 organización en 1 lugar", "2 organizaciones en 2 lugares"),
])
def test_directory_counts_take_plural_forms(lang: str, one: str, two: str) -> None:
    """The directory's counted fields (map, matrix cells, ecosystem) are in the
    language's plural form for 0, 1, 2, 5; French says "0 organisation" (CLDR 'one')."""
    from ddsnode.explorer.directory_messages import formatted

    assert formatted("map_desc", lang, points=1, groups=1).startswith(one)
    assert formatted("map_desc", lang, points=2, groups=2).startswith(two)
    rows = [formatted("ecosystem_row", lang, count=n) for n in (0, 1, 2, 5)]
    word = two.split()[1]
    assert [r.split()[1] == word for r in rows] == [lang not in ("fr",), False, True, True]
    assert formatted("cell", lang, initiatives=1, organisations=5).split(",")[0] \
        == "1 " + {"en": "initiative", "fr": "initiative", "ca": "iniciativa",
                   "es": "iniciativa"}[lang]

