"""The cost of the node's own map tiles (``explorer_map_pmtiles``, docs/explorer.md).

    .venv/bin/python bench/explorer_tiles.py [--tiles 100000] [--requests 3000]

Writes a raster PMTiles archive of ``--tiles`` tiles at zoom 11 in random places (small
random bodies; the writer puts them in leaf directories), builds a node serving it, and
drives the node's own ASGI app in this process (no socket: the app's cost alone):

* **baseline**: ``/explore/static/explorer.css``, a static file from memory, through
  the same middleware and router — the bare stack of this run;
* **tile, from memory**: random tiles of the archive, every leaf decoded and every tile
  in the cache (a map many visitors look at);
* **tile, from the file**: random tiles, every leaf decoded, the tile itself read
  (``pread`` in a worker thread);
* **tile, leaves cold**: the same with ``explorer_map_pmtiles_cache_bytes = 0``, so
  every request reads and decodes its leaf directory (the worst case of an archive
  larger than the cache);
* **missing tile**: 204 for a tile the archive lacks.

Then decodes a hostile directory at the default bound (4 MiB of random varints, the
most ``explorer_map_pmtiles_max_directory_bytes`` lets through) with this node's decoder
and with the ``pmtiles`` package's reference reader, and prints both. Times are
per request, best of three rounds (one where a round would change the cache); every figure is also printed as a ratio to the
baseline measured in the same run. A script, never a test.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from pmtiles.tile import deserialize_directory  # noqa: E402

from ddsnode.commands.node import init_node  # noqa: E402
from ddsnode.explorer.tile_directory import decode, inflate  # noqa: E402
from ddsnode.http.app import create_app  # noqa: E402
from ddsnode.settings import Settings  # noqa: E402
from tests.support.tiles import write_archive  # noqa: E402


async def _get(app: Any, path: str) -> int:
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app({"type": "http", "method": "GET", "path": path, "raw_path": path.encode(),
               "query_string": b"", "headers": [(b"host", b"127.0.0.1")],
               "http_version": "1.1", "scheme": "http", "server": ("127.0.0.1", 8000),
               "client": ("127.0.0.1", 1)}, receive, send)
    return status


def _timed(app: Any, paths: list[str], expect: int, rounds: int = 3) -> float:
    """Seconds per request, best of ``rounds`` rounds over ``paths``."""
    async def round_() -> float:
        start = time.perf_counter()
        for path in paths:
            status = await _get(app, path)
            assert status == expect, (path, status)
        return (time.perf_counter() - start) / len(paths)
    loop = asyncio.new_event_loop()
    try:
        return min(loop.run_until_complete(round_()) for _ in range(rounds))
    finally:
        loop.close()


def _app(folder: Path, name: str, values: dict[str, Any]) -> Any:
    node_dir = folder / name
    init_node(node_dir, base_url="http://127.0.0.1:8000/", extra={"gc_freeze": False,
                                                                  **values})
    return create_app(Settings.load(node_dir))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tiles", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()
    rng = random.Random(11)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        places = rng.sample(range(1 << 22), args.tiles)  # zoom 11: 2048 x 2048 tiles
        tiles = {(11, p >> 11, p & 2047): rng.randbytes(rng.randint(200, 600))
                 for p in places}
        start = time.perf_counter()
        archive = write_archive(folder / "bench.pmtiles", tiles)
        print(f"archive: {args.tiles} tiles, {archive.stat().st_size / 1e6:.1f} MB, "
              f"written in {time.perf_counter() - start:.1f} s")
        setting = {"explorer_map_pmtiles": f"{archive} bench"}
        warm = _app(folder, "warm", setting)
        cold = _app(folder, "cold", {**setting, "explorer_map_pmtiles_cache_bytes": 0})
        asked = [f"/explore/tiles/{z}/{x}/{y}"
                 for z, x, y in rng.sample(sorted(tiles), args.requests)]
        missing = []
        while len(missing) < args.requests:
            p = rng.randrange(1 << 22)
            if (11, p >> 11, p & 2047) not in tiles:
                missing.append(f"/explore/tiles/11/{p >> 11}/{p & 2047}")
        _timed(warm, asked, 200)  # every leaf decoded once, these tiles cached
        seen = set(asked)
        unread = [p for p in (f"/explore/tiles/{z}/{x}/{y}" for z, x, y in tiles)
                  if p not in seen]
        rows = [("baseline: a static file (/explore/static/explorer.css)",
                 _timed(warm, ["/explore/static/explorer.css"] * args.requests, 200)),
                ("tile, from memory", _timed(warm, asked, 200)),
                ("tile, from the file (leaves decoded; one round, each tile new)",
                 _timed(warm, unread[:args.requests], 200, rounds=1)),
                ("tile, leaves cold (cache 0: a leaf decoded per request)",
                 _timed(cold, asked[: max(args.requests // 5, 1)], 200)),
                ("missing tile (204)", _timed(warm, missing, 204))]
    base = rows[0][1]
    load = os.getloadavg()[0]
    print(f"load average {load:.2f}; per request through the node's ASGI app, best of 3")
    for name, seconds in rows:
        print(f"  {name:<64} {seconds * 1e6:9.1f} µs  {seconds / base:6.2f}x  "
              f"{1 / seconds:9.0f} req/s")
    # A hostile directory at the bound: 4 MiB of random varints, count matching.
    n = (4 << 20) // 12
    values = [rng.randrange(1, 1 << 20) for _ in range(4 * n)]
    out = bytearray()
    for v in [n, *values]:
        while v >= 0x80:
            out.append((v & 0x7F) | 0x80)
            v >>= 7
        out.append(v)
    blob = gzip.compress(bytes(out), compresslevel=1)
    mine = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        ours = decode(inflate(blob, 2, len(out), "directory"))
        mine = min(mine, time.perf_counter() - start)
    start = time.perf_counter()
    theirs = deserialize_directory(blob)
    reference = time.perf_counter() - start  # once: seconds each
    assert ours.tile_ids.tolist()[:100] == [e.tile_id for e in theirs[:100]]
    print(f"a directory of {len(out) / 2**20:.1f} MiB ({n} entries), inflated and decoded: "
          f"this node {mine * 1e3:.0f} ms, the pmtiles package {reference * 1e3:.0f} ms "
          f"({reference / mine:.1f}x); load average {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
