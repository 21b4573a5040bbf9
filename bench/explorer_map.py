"""The map's cost: bytes of the map data (GeoJSON, SVG) for 10,000 points, and render time,
against a baseline measured in the same run (a bare JSON array of the same coordinates).

Issue 12 budget: the map data of 10,000 points <= 300 kB. Exit status 1 when over it.

Run: .venv/bin/python bench/explorer_map.py [--points 10000]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ddsnode.explorer.map import MapPoint, bbox_of, geojson, render_map

BUDGET = 300 * 1024


def _time(run: Callable[[], object], repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> int:
    """Print sizes and times; 1 when the GeoJSON is over budget."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=10_000)
    args = parser.parse_args()
    rng = random.Random(12)
    # Points spread over Europe with dense cities, like a directory of many places.
    cities = [(rng.uniform(-9, 25), rng.uniform(37, 60)) for _ in range(60)]
    points = []
    for i in range(args.points):
        cx, cy = cities[i % len(cities)]
        points.append(MapPoint(cx + rng.gauss(0, 0.3), cy + rng.gauss(0, 0.2), f"Place {i}",
                               f"https://node.example/organisations/organisation-{i:05d}"))
    box = bbox_of(points)
    baseline = json.dumps([[p.long, p.lat] for p in points]).encode()
    data = geojson(points, limit=args.points, list_href="/explore/directory")
    svg = render_map(points, box, width=640, height=400, lang="en").encode()
    t_base = _time(lambda: json.dumps([[p.long, p.lat] for p in points]))
    t_geo = _time(lambda: geojson(points, limit=args.points))
    t_svg = _time(lambda: render_map(points, box, width=640, height=400, lang="en"))
    print(f"points: {args.points:,}")
    print(f"{'what':<34}{'bytes':>10}{'x baseline':>12}{'ms':>9}{'x baseline':>12}")
    print(f"{'baseline: bare JSON [lon, lat]':<34}{len(baseline):>10,}{1:>12.2f}"
          f"{t_base * 1000:>9.1f}{1:>12.2f}")
    print(f"{'GeoJSON (map.geojson)':<34}{len(data):>10,}{len(data) / len(baseline):>12.2f}"
          f"{t_geo * 1000:>9.1f}{t_geo / t_base:>12.2f}")
    print(f"{'SVG, clustered (map.svg)':<34}{len(svg):>10,}{len(svg) / len(baseline):>12.2f}"
          f"{t_svg * 1000:>9.1f}{t_svg / t_base:>12.2f}")
    print(f"budget: map data of {args.points:,} points <= {BUDGET:,} bytes: "
          f"GeoJSON {'OK' if len(data) <= BUDGET else 'OVER'}, "
          f"SVG {'OK' if len(svg) <= BUDGET else 'OVER'}")
    return 0 if len(data) <= BUDGET and len(svg) <= BUDGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
