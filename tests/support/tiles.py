"""Raster PMTiles archives made in a test, with the ``pmtiles`` package's own writer.

    write_archive(path, {(0, 0, 0): png((200, 60, 60)), (1, 1, 0): png((60, 60, 200))})

Tiles are real PNG images (one colour, or a grid of squares so a screenshot shows tile
edges), written with zlib and no imaging library.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import Writer


def png(rgb: tuple[int, int, int], size: int = 256, *, grid: int = 0) -> bytes:
    """A ``size`` × ``size`` PNG of colour ``rgb``; with ``grid``, a darker line every
    ``grid`` pixels (so tiles are told apart on a screenshot)."""
    dark = bytes(max(c - 70, 0) for c in rgb)
    light = bytes(rgb)
    rows = []
    for y in range(size):
        line = b"".join(dark if grid and (x % grid == 0 or y % grid == 0) else light
                        for x in range(size))
        rows.append(b"\x00" + line)  # filter type 0 for each scanline

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b""))


def write_archive(path: Path, tiles: Mapping[tuple[int, int, int], bytes], *,
                  metadata: Mapping[str, Any] | None = None,
                  tile_type: TileType = TileType.PNG,
                  bounds: tuple[float, float, float, float] = (-180, -85, 180, 85)) -> Path:
    """``tiles`` by z/x/y written as a PMTiles v3 archive at ``path`` (bounds: west,
    south, east, north)."""
    west, south, east, north = bounds
    with path.open("wb") as f:
        writer = Writer(f)
        for tile_id, data in sorted((zxy_to_tileid(*zxy), data) for zxy, data in tiles.items()):
            writer.write_tile(tile_id, data)
        writer.finalize({"tile_type": tile_type, "tile_compression": Compression.NONE,
                         "min_lon_e7": int(west * 1e7), "min_lat_e7": int(south * 1e7),
                         "max_lon_e7": int(east * 1e7), "max_lat_e7": int(north * 1e7),
                         "center_zoom": 0, "center_lon_e7": 0, "center_lat_e7": 0},
                        dict(metadata or {}))
    return path

