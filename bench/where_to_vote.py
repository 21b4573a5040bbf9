"""Benchmark of the voter lookup (issue 15): where do I vote, over 1,000,000 addresses.

    .venv/bin/python bench/where_to_vote.py [--streets 10000] [--precincts 200]
                                            [--duration 6] [--connections 64 | 8,16,64]
                                            [--node DIR] [--only JSON,HTML] [--stalls]

Generates a VIP 6.0 feed (one state, one county, ``--precincts`` precincts each with its
polling place at a point of a 0.5 x 0.5 degree area, and ``--streets`` streets of 100
addresses each, split into odd and even blocks of 20 numbers: 1,000,000 addresses in
100,000 street segments by default), imports it with ``ddsnode import vip`` (the
validated write path, then the table build: both timed), serves the node and drives it
with wrk at ``--connections``:

* address lookups (JSON), each a random one of 20,000 addresses drawn from the million;
* the same as the HTML page;
* postcode lookups (JSON; a postcode holds several precincts: an address picker);
* point lookups (JSON), random points of the area (the precomputed grid);
* the bare-stack ceiling of the same run (bench/bare_app.py: a fixed 2 KB JSON body).

It prints req/s, p50, p95 and p99 and each req/s as a fraction of the ceiling, per
concurrency (64 by default, as the issue's other figures; ``--connections 8,16,64``
runs every scenario and the ceiling at each: at 64 connections Little's law alone puts
the mean latency at 64 / req/s), and checks a sample of answers against the generator's
own assignment. ``--stalls`` serves the node through ``bench/stalls.py`` and prints, per
scenario, where the tail comes from (``docs/voter.md``, Tails). A script, never a test;
the defaults run in about a minute and a half (``--node DIR`` keeps the imported node).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench.explorer import load_options, run_concurrencies, serve_node
from bench.run import PY, Servers, free_port

SOUTH, WEST, SPAN = 33.3, -112.3, 0.5
BLOCK = 20  # house numbers per segment (odd or even)


def street(i: int) -> str:
    """The i-th generated street: ``N 123RD ST`` style, unique."""
    return f"{'NSEW'[i % 4]} {i}TH ST"


def precinct_of(s: int, block: int, parity: str, precincts: int) -> int:
    """The generator's assignment: the oracle the answers are checked against."""
    return (s * 7 + block * 3 + (parity == "odd")) % precincts


def feed(streets: int, precincts: int) -> bytes:
    """A VIP 6.0 feed with ``streets`` x 100 addresses."""
    rng = random.Random(15)
    out = ['<VipObject schemaVersion="6.0">', '<State id="st04"><Name>ARIZONA</Name></State>',
           '<Election id="e1"><Date>2026-11-03</Date><StateId>st04</StateId></Election>',
           '<Locality id="loc1"><Name>BENCH COUNTY</Name><StateId>st04</StateId>'
           '<Type>county</Type></Locality>']
    for p in range(precincts):
        lat, long = SOUTH + rng.random() * SPAN, WEST + rng.random() * SPAN
        out.append(f'<PollingLocation id="pl{p}"><AddressStructured><Line1>{p} MAIN ST</Line1>'
                   f'<City>BENCH</City><State>AZ</State><Zip>{85000 + p % 100}</Zip>'
                   f'</AddressStructured><LatLng><Latitude>{lat:.5f}</Latitude><Longitude>'
                   f'{long:.5f}</Longitude></LatLng><Name>PLACE {p}</Name></PollingLocation>')
        out.append(f'<Precinct id="pr{p}"><LocalityId>loc1</LocalityId><Name>PRECINCT {p}'
                   f'</Name><PollingLocationIds>pl{p}</PollingLocationIds></Precinct>')
    n = 0
    for s in range(streets):
        for block in range(100 // BLOCK):
            for parity, first in (("odd", 1), ("even", 2)):
                lo = block * BLOCK + first
                out.append(f'<StreetSegment id="ss{n}"><City>BENCH</City><OddEvenBoth>{parity}'
                           f'</OddEvenBoth><PrecinctId>pr{precinct_of(s, block, parity, precincts)}'
                           f'</PrecinctId><StartHouseNumber>{lo}</StartHouseNumber>'
                           f'<EndHouseNumber>{lo + BLOCK - 2}</EndHouseNumber><State>AZ</State>'
                           f'<StreetName>{street(s)}</StreetName><Zip>{85000 + s % 100}</Zip>'
                           f'</StreetSegment>')
                n += 1
    out.append("</VipObject>")
    return "\n".join(out).encode("utf-8")


def main() -> int:
    """Generate, import, serve, measure, print."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--streets", type=int, default=10_000)
    ap.add_argument("--precincts", type=int, default=200)
    ap.add_argument("--duration", type=int, default=6)
    load_options(ap, "64", "JSON,HTML,postcode,point")
    ap.add_argument("--node", type=Path, metavar="DIR",
                    help="build the node here and keep it; reuse it when it exists")
    args = ap.parse_args()
    servers = Servers()
    try:
        node_dir = args.node or servers.tmp / "node"
        if node_dir.exists():
            from ddsnode.settings import Settings
            base = Settings.load(node_dir).base_url
            port = int(base.rsplit(":", 1)[1].strip("/"))
            imported_s = json.loads((node_dir / "bench.json").read_text())["import_seconds"]
        else:
            port = free_port()
            base = f"http://127.0.0.1:{port}/"
            subprocess.run([PY, "-m", "ddsnode", "init", str(node_dir), "--base-url", base],
                           check=True, stdout=subprocess.DEVNULL)
            source = servers.tmp / "vipfeed-bench.xml"
            source.write_bytes(feed(args.streets, args.precincts))
            started = time.perf_counter()
            subprocess.run([PY, "-m", "ddsnode", "import", "vip", str(node_dir), str(source),
                            "--slug", "bench", "--quiet"], check=True, stdout=subprocess.DEVNULL)
            imported_s = time.perf_counter() - started
            (node_dir / "bench.json").write_text(json.dumps({"import_seconds": imported_s}))
        server, report = serve_node(servers, node_dir, port, args.stalls)
        ceiling = servers.start_bare()
        rng = random.Random(6)
        sample = [(rng.randrange(args.streets), rng.randrange(1, 100)) for _ in range(20_000)]
        addresses = ["/explore/vote.json?" + urlencode(
            {"q": f"{n} {street(s)}, Bench AZ {85000 + s % 100}"}) for s, n in sample]
        pages = [a.replace("/explore/vote.json?", "/explore/vote?") for a in addresses]
        postcodes = [f"/explore/vote.json?postcode={85000 + i}" for i in range(100)]
        points = ["/explore/vote.json?" + urlencode(
            {"lat": f"{SOUTH + rng.random() * SPAN:.5f}",
             "long": f"{WEST + rng.random() * SPAN:.5f}"}) for _ in range(5_000)]
        import httpx
        wrong = 0
        with httpx.Client(timeout=120) as client:
            client.get(base + "explore/vote.json", params={"postcode": "85000"})  # warm
            for (s, n), path in list(zip(sample, addresses, strict=True))[:300]:
                unit = client.get(base + path.lstrip("/")).json()["unit"]["id"]
                block, parity = (n - 1) // BLOCK, "odd" if n % 2 else "even"
                expected = f"pr{precinct_of(s, block, parity, args.precincts)}"
                wrong += not unit.endswith("-unit-" + expected)
        scenarios = [
            ("address -> station (JSON)", base, addresses, "application/json"),
            ("address -> station (HTML)", base, pages, "text/html"),
            ("postcode -> picker (JSON)", base, postcodes, "application/json"),
            ("point -> station (JSON)", base, points, "application/json"),
        ]
        only = [w for w in args.only.split(",") if w]
        scenarios = [s for s in scenarios if not only or any(w in s[0] for w in only)]
        bare = ("bare-stack ceiling", ceiling.rsplit("/", 1)[0] + "/", ["/x"],
                "application/json")
        segments = args.streets * (100 // BLOCK) * 2
        print(f"\nnode: {args.streets * 100:,} addresses in {segments:,} street segments, "
              f"{args.precincts} precincts and polling places; imported and the table built "
              f"in {imported_s:.0f} s; {args.duration} s each; {wrong} wrong answers in 300 "
              f"checked")
        every = run_concurrencies(scenarios, bare, args.connections, args.duration,
                                  (server.pid, report) if args.stalls else None, 30)
        json.dump({"import_seconds": imported_s, "wrong": wrong, "rows": every},
                  sys.stderr)
        print(file=sys.stderr)
    finally:
        servers.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
