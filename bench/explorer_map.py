"""The map's cost at 10,000 points (issue 12: "the map data of 10,000 points <= 300 kB").

    .venv/bin/python bench/explorer_map.py [--points 10000] [--node DIR] [--repeat 5]

Builds a node (or reuses ``--node DIR`` when it already holds one) with ``--points``
proposals placed over mainland France, written one by one through the node's validated
write path (``Node.write_document``, as PUT and the importers write): 85 % around 40
cities weighted by population, 15 % scattered over the country. It then builds the
explorer's index and measures, in this process:

* **what a browser is sent** for the map of every result (``/explore``, the home page
  ``/``), through the node's own ASGI app with ``explorer_map_leaflet = on`` (the
  largest case: the SVG, the list of markers under it, and the same markers as JSON for
  Leaflet): raw and gzip bytes of the SVG, of the map's whole section, and of the page;
* **the time to draw it** (``results_map.draw``: read the points from the index, grid
  them, name the markers, write the SVG), best of ``--repeat``;
* **the baseline of the same run**: the same points as minimal GeoJSON (a Feature with
  a Point and its link per point, the least a client needs to draw and link them all),
  read from the same index and serialised: bytes and time; and the directory's compact
  GeoJSON (``map.geojson``: one MultiPoint above 500 points) of the same points.

"Map data" is what the explorer sends for the map of a search of those 10,000 results
(docs/explorer.md, "The map at 10,000 points"). Exit status 1 when the map's section is
over 300 kB. A script, never a test.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.explorer import asgi_get  # noqa: E402
from ddsnode.commands.node import init_node  # noqa: E402
from ddsnode.explorer.map import MapPoint, geojson  # noqa: E402

BUDGET = 300 * 1000  # "300 kB"
BASE = "http://127.0.0.1:8000/"
# (name, long, lat, population in thousands): mainland France's larger cities.
CITIES = [
    ("Paris", 2.35, 48.86, 2100), ("Marseille", 5.37, 43.30, 870), ("Lyon", 4.84, 45.76, 520),
    ("Toulouse", 1.44, 43.60, 500), ("Nice", 7.26, 43.70, 340), ("Nantes", -1.55, 47.22, 320),
    ("Montpellier", 3.88, 43.61, 300), ("Strasbourg", 7.75, 48.58, 290),
    ("Bordeaux", -0.58, 44.84, 260), ("Lille", 3.06, 50.63, 235), ("Rennes", -1.68, 48.11, 222),
    ("Reims", 4.03, 49.26, 180), ("Toulon", 5.93, 43.12, 180), ("Saint-Étienne", 4.39, 45.43, 173),
    ("Le Havre", 0.11, 49.49, 168), ("Grenoble", 5.72, 45.19, 158), ("Dijon", 5.04, 47.32, 160),
    ("Angers", -0.55, 47.47, 157), ("Nîmes", 4.36, 43.84, 148), ("Clermont-Ferrand", 3.08, 45.78, 147),
    ("Le Mans", 0.20, 48.00, 145), ("Aix-en-Provence", 5.45, 43.53, 145), ("Brest", -4.49, 48.39, 140),
    ("Tours", 0.69, 47.39, 137), ("Amiens", 2.30, 49.89, 134), ("Limoges", 1.26, 45.83, 130),
    ("Annecy", 6.13, 45.90, 130), ("Perpignan", 2.90, 42.70, 120), ("Metz", 6.18, 49.12, 118),
    ("Besançon", 6.02, 47.24, 117), ("Orléans", 1.91, 47.90, 116), ("Rouen", 1.10, 49.44, 112),
    ("Mulhouse", 7.34, 47.75, 108), ("Caen", -0.37, 49.18, 106), ("Nancy", 6.18, 48.69, 104),
    ("Poitiers", 0.34, 46.58, 89), ("Pau", -0.37, 43.30, 75), ("La Rochelle", -1.15, 46.16, 77),
    ("Avignon", 4.81, 43.95, 91), ("Calais", 1.86, 50.95, 67)]
FRANCE = (-4.5, 43.0, 7.5, 50.5)  # the scattered points' box (mostly land)


def places(n: int, seed: int = 12) -> list[tuple[float, float]]:
    """``n`` (long, lat): around cities by population, the rest scattered."""
    rng = random.Random(seed)
    weights = [c[3] for c in CITIES]
    out = []
    for i in range(n):
        if i % 100 < 85:
            _, long, lat, pop = rng.choices(CITIES, weights)[0]
            spread = 0.02 + 0.00004 * pop  # a bigger city spreads further (degrees)
            out.append((round(long + rng.gauss(0, spread * 1.4), 5),
                        round(lat + rng.gauss(0, spread), 5)))
        else:
            out.append((round(rng.uniform(FRANCE[0], FRANCE[2]), 5),
                        round(rng.uniform(FRANCE[1], FRANCE[3]), 5)))
    return out


def build(node_dir: Path, n: int) -> float:
    """A node of ``n`` placed proposals, each written through the validated path;
    seconds taken."""
    from ddsnode.ldp.node import Node

    settings = init_node(node_dir, base_url=BASE, extra={"explorer_map_leaflet": "on"})
    node = Node.open(settings)
    started = time.perf_counter()
    try:
        for i, (long, lat) in enumerate(places(n)):
            iri = f"{BASE}proposals/map-{i:05d}"
            doc = {"@context": "https://w3id.org/dds/context/v1", "id": iri,
                   "type": "Proposal", "title": {"fr": f"Proposition {i} : un banc place "
                                                       f"de la République", "en": f"Proposal {i}: "
                                                       "a bench on the square"},
                   "created": f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}T10:00:00+01:00",
                   "state": "evaluating", "topic": ["ddstopic:mobility"],
                   "place": {"id": iri + "#place", "type": "Place", "lat": lat, "long": long}}
            node.write_document(iri, json.dumps(doc).encode(), "application/ld+json")
            if i and i % 2000 == 0:
                print(f"  {i:,} written, {i / (time.perf_counter() - started):.0f}/s",
                      flush=True)
    finally:
        node.close()
    return time.perf_counter() - started


def best(run: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """(shortest seconds of ``repeat`` runs, the last result)."""
    fastest, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        fastest = min(fastest, time.perf_counter() - started)
    return fastest, result


def page(app: Any, path: str) -> bytes:
    """The body of ``GET path`` (HTML) from the node's app, in this process."""
    import asyncio
    return asyncio.run(asgi_get(app, path, server=("127.0.0.1", 8000)))


def row(name: str, raw: int, zipped: int, seconds: float | None, base: tuple[int, int, float]
        ) -> str:
    """One line of the table, with ratios to the baseline's."""
    ms = f"{seconds * 1000:9.1f}{seconds / base[2]:8.2f}" if seconds is not None else " " * 17
    return (f"{name:46}{raw:>10,}{raw / base[0]:7.3f}{zipped:>9,}{zipped / base[1]:7.3f}"
            f"{ms}")


def main() -> int:
    """Build or reuse the node, measure, print; 1 when the map is over budget."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--node", type=Path, help="node directory (built when empty)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    node_dir = args.node or Path(tempfile.mkdtemp(prefix="dds-map-")) / "node"
    if not (node_dir / "settings.toml").exists():
        print(f"building {node_dir}: {args.points:,} placed proposals, validated writes")
        spent = build(node_dir, args.points)
        print(f"  written in {spent:.1f} s ({args.points / spent:.0f}/s); "
              f"load average {os.getloadavg()[0]:.1f}")

    from ddsnode.explorer.query import parse
    from ddsnode.explorer.web.results_map import HEIGHT, WIDTH, draw
    from ddsnode.explorer.web.routes import site_of
    from ddsnode.explorer.web.site import Reading
    from ddsnode.http.app import create_app
    from ddsnode.settings import Settings

    settings = Settings.load(node_dir)
    app = create_app(settings)  # the node's app: its explorer is the one measured
    site = site_of(app.assembly.node)  # type: ignore[attr-defined]
    started = time.perf_counter()
    site.index.sync()
    print(f"index caught up in {time.perf_counter() - started:.1f} s")
    query = parse([], site.limits)
    read = Reading("en", False, False, "/explore", [], {})
    ids, longs, lats = site.index.located(query)
    located = len(ids)

    def minimal() -> bytes:
        # The baseline: every point of the same search, read from the same index, as the
        # least GeoJSON that draws and links them all (RFC 7946 Feature, Point, link).
        ids, longs, lats = site.index.located(query)
        names = site.index.located_names(ids)
        doc = {"type": "FeatureCollection", "features": [
            {"type": "Feature", "id": names[i][0],
             "geometry": {"type": "Point", "coordinates": [lo, la]}, "properties": None}
            for i, lo, la in zip(ids, longs, lats, strict=True) if i in names]}
        return json.dumps(doc, separators=(",", ":")).encode()

    t_base, base_body = best(minimal, args.repeat)
    base = (len(base_body), len(gzip.compress(base_body)), t_base)
    t_map, drawn = best(lambda: draw(site, read, query), args.repeat)
    assert drawn is not None
    points = [MapPoint(lo, la, "", "") for lo, la in zip(longs, lats, strict=True)]
    t_dir, directory = best(lambda: geojson(points, limit=located, list_href="/x"),
                            args.repeat)
    bodies = {"/explore": page(app, "/explore"), "/": page(app, "/")}
    app.assembly.close()  # type: ignore[attr-defined]

    def z(data: bytes) -> int:
        return len(gzip.compress(data))

    load = os.getloadavg()
    print(f"\nresults with a place: {located:,}; markers (explorer_map_points "
          f"{settings.explorer_map_points}): {len(drawn.places)}, counting "
          f"{drawn.drawn:,}; map {WIDTH}x{HEIGHT}; load average "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"{'what':46}{'bytes':>10}{'x base':>7}{'gzip':>9}{'x base':>7}{'ms':>9}"
          f"{'x base':>8}")
    print(row("baseline: every point, minimal GeoJSON", base[0], base[1], t_base, base))
    print(row("directory GeoJSON (one MultiPoint)", len(directory), z(directory), t_dir,
              base))
    svg = drawn.svg.encode()
    print(row("map SVG (results_map.draw)", len(svg), z(svg), t_map, base))
    print(row("  its markers as Leaflet JSON", len(drawn.points_json.encode()),
              z(drawn.points_json.encode()), None, base))
    over = False
    for path, body in bodies.items():
        found = re.search(rb'<section class="dds-results-map".*?</section>', body, re.S)
        assert found is not None, path
        section = found.group(0)
        over = over or len(section) > BUDGET
        print(row(f"{path}: the map's section as sent", len(section), z(section), None,
                  base))
        print(row(f"{path}: the whole page", len(body), z(body), None, base))
    print(f"budget: the map data of {located:,} points <= {BUDGET:,} bytes: "
          f"{'OVER' if over else 'met'} (raw, SVG + list + Leaflet JSON)")
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main())
