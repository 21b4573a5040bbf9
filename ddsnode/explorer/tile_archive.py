"""A raster PMTiles archive on the node's disk, read tile by tile (``explorer_map_pmtiles``).

The archive follows the PMTiles spec v3: a 127-byte header, a root directory, JSON
metadata, leaf directories, tile data. :class:`TileArchive` checks it when the node
starts — the header (``pmtiles.tile.deserialize_header``, the reference reader), that
every section lies inside the file, the root directory, the metadata — and refuses a
corrupt or unsupported one (vector tiles, brotli or zstd directories) with a
:class:`~ddsnode.explorer.tile_directory.CorruptArchive` naming the file and the fault.
A tile is then found by its z/x/y (``pmtiles.tile.zxy_to_tileid``, the spec's Hilbert
tile id) through the root and at most three levels of leaf directories, read with
``pread`` (a file replaced or truncated meanwhile cannot crash the process, as a
memory map could). Leaf directories are kept decoded, and recently served tiles kept, in
one LRU bounded in bytes: a request that memory answers (:meth:`TileArchive.peek`)
costs microseconds on the event loop; only one that must read the file goes to a thread.

Nothing here reads more than a directory (``max_directory_bytes`` inflated) or a tile
(``max_tile_bytes``) at a time, whatever the archive's size: a planet-sized archive
costs what a small one does. A part of the archive found unreadable after start (a leaf
directory, a tile) is a 503 problem for that tile and an error in the log, never a 500.
"""

from __future__ import annotations

import json
import logging
import os
import re
import weakref
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any

from ddsnode.explorer.tile_directory import CorruptArchive, Directory, decode, inflate
from ddsnode.lru import LRU
from ddsnode.problem import BadRequest, Unavailable

log = logging.getLogger("ddsnode.explorer")
HEADER_BYTES = 127
MAX_ZOOM = 31  # the spec's tile ids cover zoom 0..31
MAX_DEPTH = 4  # the root and three levels of leaves, as the reference readers
# Raster tile types (spec v3 header, "Tile Type") and what a browser is told they are.
MEDIA_TYPES = {2: "image/png", 3: "image/jpeg", 4: "image/webp", 5: "image/avif"}
VECTOR_TYPES = {1: "MVT", 6: "MLT"}


@dataclass(frozen=True)
class ArchiveLimits:
    """How much of an archive one read may touch (settings, docs/security.md)."""

    max_directory_bytes: int = 4 << 20
    max_tile_bytes: int = 2 << 20
    cache_bytes: int = 32 << 20

    @classmethod
    def from_settings(cls, settings: Any) -> ArchiveLimits:
        """The ``explorer_map_pmtiles_*`` settings."""
        return cls(int(settings.explorer_map_pmtiles_max_directory_bytes),
                   int(settings.explorer_map_pmtiles_max_tile_bytes),
                   int(settings.explorer_map_pmtiles_cache_bytes))


class TileArchive:
    """One raster PMTiles v3 archive, open for the node's life, checked at opening."""

    def __init__(self, path: Path, limits: ArchiveLimits = ArchiveLimits()) -> None:
        try:
            from pmtiles.tile import (  # the maps extra (pyproject.toml)
                MagicNumberNotFound,
                SpecVersionUnsupported,
                deserialize_header,
                zxy_to_tileid,
            )
        except ImportError:
            raise ValueError("explorer_map_pmtiles needs the pmtiles package: "
                             "pip install 'ddsnode[maps]'") from None
        self.path, self.limits = path, limits
        self._tile_id = zxy_to_tileid  # the spec's Hilbert curve, from the reference code
        try:
            self._fd = os.open(path, os.O_RDONLY)
        except OSError as e:
            raise CorruptArchive(f"{path}: cannot be opened ({e.strerror})") from None
        weakref.finalize(self, os.close, self._fd)
        self.size = os.fstat(self._fd).st_size
        raw = os.pread(self._fd, HEADER_BYTES, 0)
        if len(raw) < HEADER_BYTES or raw[:7] != b"PMTiles":
            raise CorruptArchive(f"{path}: not a PMTiles archive (no PMTiles header)")
        try:
            header = deserialize_header(raw)
        except MagicNumberNotFound:
            raise CorruptArchive(f"{path}: not a PMTiles archive (no PMTiles header)") from None
        except ValueError:  # a code none of the spec's enumerations has
            raise CorruptArchive(f"{path}: an unknown compression or tile type in its "
                                 "header") from None
        except SpecVersionUnsupported:
            raise CorruptArchive(f"{path}: a PMTiles archive of another version than 3 "
                                 "(convert it with `pmtiles convert`)") from None
        try:
            self._open(header)
        except CorruptArchive as e:
            raise CorruptArchive(f"{path}: {e}") from None
        # Decoded leaf directories, keyed (True, offset, length), and recently served
        # tiles, keyed (False, offset, length): what a request can have from memory.
        self._cache: LRU[Directory | bytes] = LRU(limits.cache_bytes, _weight)

    def _open(self, header: Any) -> None:
        kind = header["tile_type"].value
        if kind in VECTOR_TYPES:
            raise CorruptArchive(f"{VECTOR_TYPES[kind]} vector tiles: the explorer draws "
                                 "raster tiles (PNG, JPEG, WebP, AVIF) and ships no vector "
                                 "renderer")
        if kind not in MEDIA_TYPES:
            raise CorruptArchive("tiles of an unknown type (PNG, JPEG, WebP or AVIF expected)")
        if header["tile_compression"].value > 1:  # an image is compressed in its own way
            raise CorruptArchive("raster tiles compressed again (tile compression must be "
                                 "none)")
        self.media_type = MEDIA_TYPES[kind]
        self.compression = int(header["internal_compression"].value)
        self.min_zoom, self.max_zoom = int(header["min_zoom"]), int(header["max_zoom"])
        if not self.min_zoom <= self.max_zoom <= MAX_ZOOM:
            raise CorruptArchive(f"zoom levels {self.min_zoom}..{self.max_zoom} "
                                 f"(0..{MAX_ZOOM} expected)")
        self.bounds = tuple(header[k] / 1e7 for k in (
            "min_lat_e7", "min_lon_e7", "max_lat_e7", "max_lon_e7"))
        sections = {}
        for name in ("root", "metadata", "leaf_directory", "tile_data"):
            offset = header[f"{name}_offset"]
            length = header[f"{name}_length"]
            if offset < HEADER_BYTES or offset + length > self.size:
                raise CorruptArchive(f"its {name.replace('_', ' ')} section lies outside the "
                                     f"file ({self.size} bytes: truncated?)")
            sections[name] = (offset, length)
        self._sections = sections
        if sections["root"][1] == 0:
            raise CorruptArchive("an empty root directory")
        self._root = self._directory(*sections["root"], "root directory")
        self.metadata = self._metadata(*sections["metadata"])

    def _read(self, offset: int, length: int, what: str) -> bytes:
        data = os.pread(self._fd, length, offset)
        if len(data) != length:
            raise CorruptArchive(f"the {what} at byte {offset} runs past the end of the file "
                                 "(truncated?)")
        return data

    def _directory(self, offset: int, length: int, what: str) -> Directory:
        if length > self.limits.max_directory_bytes:
            raise CorruptArchive(f"a {what} of {length} bytes (more than "
                                 "explorer_map_pmtiles_max_directory_bytes)")
        raw = self._read(offset, length, what)
        directory = decode(inflate(raw, self.compression, self.limits.max_directory_bytes,
                                   what))
        directory.check(self._sections["leaf_directory"][1], self._sections["tile_data"][1])
        return directory

    def _metadata(self, offset: int, length: int) -> dict[str, Any]:
        if length == 0:
            return {}
        if length > self.limits.max_directory_bytes:
            raise CorruptArchive(f"metadata of {length} bytes (more than "
                                 "explorer_map_pmtiles_max_directory_bytes)")
        text = inflate(self._read(offset, length, "metadata"), self.compression,
                       self.limits.max_directory_bytes, "metadata")
        try:
            found = json.loads(text)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            raise CorruptArchive("its metadata is not JSON") from None
        if not isinstance(found, dict):
            raise CorruptArchive("its metadata is not a JSON object")
        return found

    @property
    def attribution(self) -> str:
        """The metadata's ``attribution`` as plain text (it is often HTML), or ''."""
        value = self.metadata.get("attribution")
        if not isinstance(value, str):
            return ""
        return " ".join(unescape(re.sub(r"<[^>]*>", " ", value)).split())[:300]

    def tile_id(self, z: int, x: int, y: int) -> int | None:
        """The spec's tile id of z/x/y, or None outside the archive's zoom levels;
        BadRequest for coordinates no map has."""
        if not 0 <= z <= MAX_ZOOM:
            raise BadRequest(f"Zoom {z} is out of range (0 to {MAX_ZOOM})")
        if not (0 <= x < 1 << z and 0 <= y < 1 << z):
            raise BadRequest(f"Tile {x}/{y} does not exist at zoom {z} "
                             f"(0 to {(1 << z) - 1})")
        if not self.min_zoom <= z <= self.max_zoom:
            return None
        return int(self._tile_id(z, x, y))

    def peek(self, tile_id: int | None) -> tuple[bool, bytes | None]:
        """(True, the tile or None) when memory alone answers — the directories on the
        way are decoded and, for a tile, its bytes cached —, else (False, None): then
        :meth:`tile` reads the file (in a worker thread: it may wait for the disk)."""
        if tile_id is None:
            return True, None
        directory = self._root
        for _ in range(MAX_DEPTH):
            found = directory.find(tile_id)
            if found is None:
                return True, None
            offset, length, leaf = found
            cached = self._cache.peek((leaf, offset, length))
            if cached is None:
                return False, None
            if not leaf:
                assert isinstance(cached, bytes)
                return True, cached
            assert isinstance(cached, Directory)
            directory = cached
        return False, None  # nested too deep: tile() says so

    def tile(self, tile_id: int | None, where: str = "") -> bytes | None:
        """The bytes of the tile ``tile_id`` (:meth:`tile_id`), or None when the archive
        has none there. Unavailable when that part of the archive cannot be read (logged:
        the operator's file is at fault, not the request)."""
        if tile_id is None:
            return None
        directory = self._root
        try:
            for _ in range(MAX_DEPTH):
                found = directory.find(tile_id)
                if found is None:
                    return None
                offset, length, leaf = found
                if not leaf:
                    return self._tile(offset, length)
                directory = self._leaf(offset, length)
        except CorruptArchive as e:
            log.error("explorer_map_pmtiles: %s: %s (tile %s)", self.path, e, where)
            raise Unavailable(f"This part of the map's tile archive cannot be read: {e}") \
                from None
        log.error("explorer_map_pmtiles: %s: leaf directories nested deeper than %d "
                  "(tile %s)", self.path, MAX_DEPTH - 1, where)
        raise Unavailable("This part of the map's tile archive cannot be read: leaf "
                          "directories nested too deep")

    def _tile(self, offset: int, length: int) -> bytes:
        if length > self.limits.max_tile_bytes:
            raise CorruptArchive(f"a tile of {length} bytes (more than "
                                 "explorer_map_pmtiles_max_tile_bytes)")
        data = self._read(self._sections["tile_data"][0] + offset, length, "tile")
        self._cache.put((False, offset, length), data)
        return data

    def _leaf(self, offset: int, length: int) -> Directory:
        key = (True, offset, length)
        cached = self._cache.peek(key)
        if isinstance(cached, Directory):
            return cached
        directory = self._directory(self._sections["leaf_directory"][0] + offset, length,
                                    "leaf directory")
        self._cache.put(key, directory)
        return directory


def _weight(value: Directory | bytes) -> int:
    return value.nbytes if isinstance(value, Directory) else len(value)
